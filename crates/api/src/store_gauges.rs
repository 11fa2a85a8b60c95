//! The gauges read from the store, refreshed by whoever serves `/metrics` just before it
//! renders: `queue_jobs{state}`, `queue_oldest_waiting_age_seconds` and
//! `batch_mailboxes{batch,state}`. The store is the truth, so every process sharing it shows
//! the same values (aggregate them with `max`, never `sum`).
//!
//! Active batches are the running and paused ones, and cancelled ones with items still open.
//! Their items count as queue jobs by state:
//!
//! | `queue_jobs` state | items |
//! |---|---|
//! | waiting | pending, queued, and waiting ones whose due time has passed (due now) |
//! | scheduled | waiting ones due later (a retry's backoff or a Retry-After) |
//! | running | running |
//! | dead | failed |
//!
//! Items under verification are not jobs (the verification sweep reads their outcome) and
//! count in none of them; they show in `batch_mailboxes`.
//!
//! The oldest waiting job is the one due longest: a waiting item is due since its due time, a
//! pending one since it became pending (as the store orders due items), and a queued one since
//! it was queued (its `updated_at`: when it became due before that is not kept, so its age is a
//! lower bound).

use activator_core::Progress;
use activator_core::{BatchState, ItemState};
use metrics::Metrics;
use std::collections::HashSet;
use std::time::Duration;
use store::{Batch, BatchId, BatchStore, Millis, StoreError, all_items};

/// Batches read per page when looking for the active ones.
const BATCH_PAGE: usize = 500;

/// Queue jobs by state (see the module's table).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueJobs {
    pub waiting: u64,
    pub scheduled: u64,
    pub running: u64,
    pub dead: u64,
}

impl QueueJobs {
    /// The `state` label values with their counts.
    pub fn by_label(&self) -> [(&'static str, u64); 4] {
        [
            ("waiting", self.waiting),
            ("scheduled", self.scheduled),
            ("running", self.running),
            ("dead", self.dead),
        ]
    }
}

/// What the store says, as the gauges show it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoreGauges {
    pub jobs: QueueJobs,
    /// How long the longest-due waiting job has been due; zero when none waits.
    pub oldest_waiting_age: Duration,
    /// The active batches with their exact counts, newest first.
    pub batches: Vec<(BatchId, Progress)>,
}

/// Reads the store and sets the store gauges of `metrics` from it: `queue_jobs`,
/// `queue_oldest_waiting_age_seconds`, and `batch_mailboxes` of every active batch (the label
/// sets of batches that are no longer active are removed). Returns what it set.
///
/// Reads every batch's summary, and of each active batch its counts, a summary of its due
/// items and its queued items; call it when `/metrics` is scraped, not in a loop.
pub async fn refresh<S: BatchStore>(
    store: &S,
    metrics: &Metrics,
    now: Millis,
) -> Result<StoreGauges, StoreError> {
    let gauges = read(store, now).await?;
    gauges.apply(metrics);
    Ok(gauges)
}

/// Computes the store gauges at `now` without touching any metric.
pub async fn read<S: BatchStore>(store: &S, now: Millis) -> Result<StoreGauges, StoreError> {
    let mut gauges = StoreGauges::default();
    let mut due_since: Option<Millis> = None;
    let mut before = None;
    loop {
        let page = store.list_batches(before, BATCH_PAGE).await?;
        let Some(last) = page.last() else { break };
        before = Some(last.id);
        for batch in &page {
            let Some(progress) = active_progress(store, batch).await? else { continue };
            let (jobs, oldest) = batch_jobs(store, batch.id, &progress, now).await?;
            gauges.jobs.waiting += jobs.waiting;
            gauges.jobs.scheduled += jobs.scheduled;
            gauges.jobs.running += jobs.running;
            gauges.jobs.dead += jobs.dead;
            due_since = earliest(due_since, oldest);
            gauges.batches.push((batch.id, progress));
        }
        if page.len() < BATCH_PAGE {
            break;
        }
    }
    let age_ms = due_since.map_or(0, |since| now.saturating_sub(since).max(0));
    gauges.oldest_waiting_age = Duration::from_millis(u64::try_from(age_ms).unwrap_or(0));
    Ok(gauges)
}

/// The counts of `batch` when it is active; None when it is not (or vanished meanwhile).
async fn active_progress<S: BatchStore>(store: &S, batch: &Batch) -> Result<Option<Progress>, StoreError> {
    if batch.state == BatchState::Completed {
        return Ok(None);
    }
    let progress = match store.progress(batch.id).await {
        Ok(p) => p,
        Err(StoreError::BatchNotFound(_)) => return Ok(None),
        Err(e) => return Err(e),
    };
    let cancelled_and_closed = batch.state == BatchState::Cancelled && progress.finished() >= progress.total;
    Ok((!cancelled_and_closed).then_some(progress))
}

/// The queue jobs of one active batch, and the time its longest-due waiting job is due since.
async fn batch_jobs<S: BatchStore>(
    store: &S,
    id: BatchId,
    progress: &Progress,
    now: Millis,
) -> Result<(QueueJobs, Option<Millis>), StoreError> {
    let (pending, queued, waiting) = (
        progress.count(ItemState::Pending),
        progress.count(ItemState::Queued),
        progress.count(ItemState::Waiting),
    );
    let mut oldest: Option<Millis> = None;
    let mut due_waiting = 0;
    if pending + waiting > 0 {
        // Counted by the store without reading the items: a batch may hold 100,000.
        let due = store.due_summary(id, now).await?;
        due_waiting = due.due.saturating_sub(pending);
        oldest = due.oldest_due_since;
    }
    // At most the window's worth.
    if queued > 0 {
        for item in all_items(store, id, Some(ItemState::Queued)).await? {
            oldest = earliest(oldest, Some(item.updated_at));
        }
    }
    // The counts and the items are two reads: an item that moved in between may be seen by one.
    let due_waiting = due_waiting.min(waiting);
    let jobs = QueueJobs {
        waiting: pending + queued + due_waiting,
        scheduled: waiting - due_waiting,
        running: progress.count(ItemState::Running),
        dead: progress.count(ItemState::Failed),
    };
    Ok((jobs, oldest))
}

impl StoreGauges {
    /// Sets the store gauges of `metrics` to these values, and removes the `batch_mailboxes`
    /// label sets of batches not among `batches`.
    pub fn apply(&self, metrics: &Metrics) {
        for (state, n) in self.jobs.by_label() {
            metrics.queue_jobs.with_label_values(&[state]).set(gauge_value(n));
        }
        metrics.queue_oldest_waiting_age_seconds.set(self.oldest_waiting_age.as_secs_f64());
        let mut active = HashSet::with_capacity(self.batches.len());
        for (id, progress) in &self.batches {
            let batch = id.to_string();
            for state in ItemState::ALL {
                metrics
                    .batch_mailboxes
                    .with_label_values(&[batch.as_str(), state.name()])
                    .set(gauge_value(progress.count(state)));
            }
            active.insert(batch);
        }
        metrics.remove_batch_mailboxes_except(&active);
    }
}

fn earliest(a: Option<Millis>, b: Option<Millis>) -> Option<Millis> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn gauge_value(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
