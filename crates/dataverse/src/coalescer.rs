//! `$batch` coalescing of writes (and of small reads made once per mailbox): single requests
//! arriving within a few milliseconds of each other go out as one `$batch` with
//! continue-on-error, each caller getting its own result.
//!
//! A batch counts as one request toward the request limit but is charged the execution time of
//! every operation inside, so the size adapts: it grows while batches pass and halves when an
//! execution-time 429 appears.
//!
//! At most `max_in_flight` batches are out (or waiting for the limiter) at once; while they
//! are, new writes gather. So when the limits are what holds the work back, writes wait
//! together and leave as few, full batches instead of many single requests.

use crate::batch_wire::{self, BatchOp, OpResponse};
use crate::connection::Answer;
use crate::error::{DataverseError, Limit};
use crate::pool::Pool;
use crate::request::WebApiRequest;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// How coalescing behaves.
#[derive(Debug, Clone, Copy)]
pub struct CoalescingOptions {
    /// How long the first write of a batch waits for company.
    pub linger: Duration,
    pub initial_size: usize,
    pub max_size: usize,
    /// Batches out or waiting for the limiter at once, per application user with Dataverse's
    /// default budgets (the client scales it by its capacity).
    pub max_in_flight: usize,
}

impl Default for CoalescingOptions {
    fn default() -> Self {
        Self { linger: Duration::from_millis(5), initial_size: 10, max_size: 25, max_in_flight: 8 }
    }
}

static BOUNDARY_SEQ: AtomicU64 = AtomicU64::new(1);

type Reply = oneshot::Sender<Result<Answer, DataverseError>>;

/// Hands writes to the batching task.
#[derive(Debug, Clone)]
pub struct Coalescer {
    tx: mpsc::UnboundedSender<(WebApiRequest, Reply)>,
    size: Arc<AtomicUsize>,
    batches: Arc<AtomicU64>,
}

impl Coalescer {
    /// Starts the batching task; it ends when every `Coalescer` clone is dropped.
    pub fn start(
        pool: Arc<Pool>,
        api_root: String,
        options: CoalescingOptions,
        max_throttle_waits: u32,
    ) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let size = Arc::new(AtomicUsize::new(options.initial_size.clamp(1, options.max_size)));
        let batches = Arc::new(AtomicU64::new(0));
        let task = Batcher {
            pool,
            api_root,
            options,
            max_throttle_waits,
            size: size.clone(),
            batches: batches.clone(),
        };
        tokio::spawn(task.run(rx));
        Self { tx, size, batches }
    }

    /// Sends one write as part of a batch and returns its own result.
    pub async fn submit(&self, req: WebApiRequest) -> Result<Answer, DataverseError> {
        let (reply, answer) = oneshot::channel();
        let gone = || DataverseError::Transient {
            status: None,
            code: String::new(),
            message: "the batching task stopped; send again".into(),
        };
        self.tx.send((req, reply)).map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }

    /// Current batch size.
    pub fn size(&self) -> usize {
        self.size.load(Ordering::Relaxed)
    }

    /// Batches sent so far.
    pub fn batches_sent(&self) -> u64 {
        self.batches.load(Ordering::Relaxed)
    }
}

struct Batcher {
    pool: Arc<Pool>,
    api_root: String,
    options: CoalescingOptions,
    max_throttle_waits: u32,
    size: Arc<AtomicUsize>,
    batches: Arc<AtomicU64>,
}

impl Batcher {
    async fn run(self, mut rx: mpsc::UnboundedReceiver<(WebApiRequest, Reply)>) {
        let this = Arc::new(self);
        let slots = Arc::new(tokio::sync::Semaphore::new(this.options.max_in_flight.max(1)));
        while let Some(first) = rx.recv().await {
            // Waiting for a free slot is what lets writes gather while the limits hold them.
            let Ok(slot) = Arc::clone(&slots).acquire_owned().await else { return };
            let mut group = vec![first];
            let limit = this.size.load(Ordering::Relaxed);
            let deadline = tokio::time::Instant::now() + this.options.linger;
            while group.len() < limit {
                match tokio::time::timeout_at(deadline, rx.recv()).await {
                    Ok(Some(item)) => group.push(item),
                    Ok(None) | Err(_) => break,
                }
            }
            // Batches go out concurrently; the limiter decides how many at once.
            let this = this.clone();
            tokio::spawn(async move {
                this.send(group).await;
                drop(slot);
            });
        }
    }

    async fn send(&self, group: Vec<(WebApiRequest, Reply)>) {
        if group.len() == 1 {
            if let Some((req, reply)) = group.into_iter().next() {
                let _ = reply.send(self.pool.pick().execute(&req, self.max_throttle_waits).await);
            }
            return;
        }
        let ops: Vec<BatchOp> = group.iter().map(|(req, _)| self.op(req)).collect();
        let boundary =
            format!("batch_{}_{}", std::process::id(), BOUNDARY_SEQ.fetch_add(1, Ordering::Relaxed));
        let (content_type, body) = batch_wire::build_batch(&boundary, &ops);
        let req = WebApiRequest::raw("$batch", "$batch", content_type, body)
            .header("Prefer", "odata.continue-on-error")
            .weight(u32::try_from(ops.len()).unwrap_or(u32::MAX));
        let result = self.pool.pick().execute(&req, self.max_throttle_waits).await;
        self.batches.fetch_add(1, Ordering::Relaxed);
        self.adapt(&result);
        let answers = result.and_then(|answer| {
            let ct = answer.header("content-type").unwrap_or_default().to_string();
            let parsed = batch_wire::parse_batch_response(&ct, &answer.body).map_err(|e| {
                DataverseError::Transient {
                    status: Some(answer.status),
                    code: String::new(),
                    message: e.to_string(),
                }
            })?;
            Ok((parsed, answer.elapsed))
        });
        match answers {
            Ok((parsed, elapsed)) => {
                let share = elapsed / group.len().max(1) as u32;
                let mut parsed = parsed.into_iter();
                for (_, reply) in group {
                    let _ = reply.send(match parsed.next() {
                        Some(op) => answer_of(op, share),
                        None => Err(DataverseError::Transient {
                            status: None,
                            code: String::new(),
                            message: "the $batch answer had no result for this operation; send again".into(),
                        }),
                    });
                }
            }
            Err(e) => {
                for (_, reply) in group {
                    let _ = reply.send(Err(e.clone()));
                }
            }
        }
    }

    fn op(&self, req: &WebApiRequest) -> BatchOp {
        let plain = format!("{}/{}", self.api_root, req.path.trim_start_matches('/'));
        let url = match reqwest::Url::parse(&plain) {
            Ok(mut u) if !req.query.is_empty() => {
                u.query_pairs_mut().extend_pairs(req.query.iter());
                u.to_string()
            }
            _ => plain,
        };
        BatchOp {
            method: req.method.as_str().to_string(),
            url,
            headers: req.headers.clone(),
            body: req.body.as_ref().map(|b| b.to_string()),
        }
    }

    fn adapt(&self, result: &Result<Answer, DataverseError>) {
        let exec_throttled = match result {
            Ok(a) => a.throttled_by.contains(&Limit::ExecutionTime),
            Err(DataverseError::Throttled { limit, .. }) => *limit == Some(Limit::ExecutionTime),
            Err(_) => false,
        };
        let current = self.size.load(Ordering::Relaxed);
        self.size.store(next_size(current, exec_throttled, self.options.max_size), Ordering::Relaxed);
    }
}

/// The size of the next batch: one more after a batch that passed, half after an
/// execution-time 429 (a batch is charged the time of all its operations).
fn next_size(current: usize, exec_throttled: bool, max: usize) -> usize {
    if exec_throttled { (current / 2).max(1) } else { (current + 1).min(max) }
}

fn answer_of(op: OpResponse, elapsed: Duration) -> Result<Answer, DataverseError> {
    if op.status < 400 {
        let mut headers = reqwest::header::HeaderMap::new();
        for (name, value) in &op.headers {
            if let (Ok(n), Ok(v)) = (
                reqwest::header::HeaderName::from_bytes(name.as_bytes()),
                reqwest::header::HeaderValue::from_str(value),
            ) {
                headers.append(n, v);
            }
        }
        return Ok(Answer { status: op.status, headers, body: op.body, elapsed, throttled_by: Vec::new() });
    }
    let retry_after = op.headers.iter().find(|(n, _)| n == "retry-after").map(|(_, v)| v.as_str());
    Err(DataverseError::from_response(op.status, retry_after, &op.body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_grows_by_one_and_halves_on_an_execution_time_429() {
        assert_eq!(next_size(10, false, 100), 11);
        assert_eq!(next_size(100, false, 100), 100);
        assert_eq!(next_size(40, true, 100), 20);
        assert_eq!(next_size(1, true, 100), 1);
    }
}
