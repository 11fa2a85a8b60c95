//! One application user's way to Dataverse: its connection (token) and its limiter. A 429
//! pauses the whole lane until Retry-After passes, then the request is sent again.

use crate::connection::{Answer, Connection};
use crate::error::{DataverseError, Limit};
use crate::observer::RequestObserver;
use crate::request::WebApiRequest;
use ratelimit::{LimitKind, Limiter};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct Lane {
    pub conn: Connection,
    pub limiter: Arc<dyn Limiter>,
    /// Client id of the application user, for logs and metrics.
    pub name: String,
    /// Running average of one operation's duration, to foresee what a `$batch` will cost.
    per_operation: Arc<Mutex<Option<Duration>>>,
    observer: Option<Arc<dyn RequestObserver>>,
}

/// Weight of the newest measurement in the running average.
const NEWEST: f64 = 0.2;

fn kind_of(limit: Limit) -> LimitKind {
    match limit {
        Limit::Requests => LimitKind::Requests,
        Limit::ExecutionTime => LimitKind::ExecutionTime,
        Limit::Concurrency => LimitKind::Concurrency,
    }
}

impl Lane {
    pub fn new(conn: Connection, limiter: Arc<dyn Limiter>, name: String) -> Self {
        Self { conn, limiter, name, per_operation: Arc::default(), observer: None }
    }

    /// The same lane, reporting what it does to `observer`.
    pub fn observed_by(mut self, observer: Option<Arc<dyn RequestObserver>>) -> Self {
        self.observer = observer;
        self
    }

    /// Expected execution time of a request of several operations, once one has been measured.
    fn expected(&self, weight: u32) -> Option<Duration> {
        if weight <= 1 {
            return None;
        }
        let per = (*self.per_operation.lock().ok()?)?;
        Some(per * weight)
    }

    fn learn(&self, elapsed: Duration, weight: u32) {
        let sample = elapsed / weight.max(1);
        if let Ok(mut per) = self.per_operation.lock() {
            *per = Some(per.map_or(sample, |p| p.mul_f64(1.0 - NEWEST) + sample.mul_f64(NEWEST)));
        }
    }

    /// Sends `req` within the limits; after a 429 waits as told and sends again, at most
    /// `max_throttle_waits` times, then gives up with the last `Throttled` error.
    pub async fn execute(
        &self,
        req: &WebApiRequest,
        max_throttle_waits: u32,
    ) -> Result<Answer, DataverseError> {
        let mut waits = 0;
        let mut throttled_by = Vec::new();
        loop {
            let asked = Instant::now();
            let permit = match self.expected(req.weight) {
                Some(expected) => self.limiter.acquire_expecting(expected).await,
                None => self.limiter.acquire().await,
            };
            let started = Instant::now();
            let result = self.conn.execute(req).await;
            let elapsed = result.as_ref().map_or_else(|_| started.elapsed(), |a| a.elapsed);
            self.limiter.release(permit, elapsed);
            if let Some(o) = &self.observer {
                o.waited(started.saturating_duration_since(asked));
                let status = match &result {
                    Ok(answer) => Some(answer.status),
                    Err(e) => e.status(),
                };
                o.request(req.operation, status, elapsed);
                if let Err(DataverseError::Throttled { limit, .. }) = &result {
                    o.throttled(*limit);
                }
            }
            match result {
                Err(DataverseError::Throttled { retry_after, limit, code, message }) => {
                    self.limiter.pause(retry_after, limit.map(kind_of));
                    throttled_by.extend(limit);
                    tracing::info!(lane = %self.name, operation = req.operation, ?retry_after, ?limit, "throttled; pausing this application user");
                    if waits >= max_throttle_waits {
                        return Err(DataverseError::Throttled { retry_after, limit, code, message });
                    }
                    waits += 1;
                }
                Ok(mut answer) => {
                    self.learn(answer.elapsed, req.weight);
                    answer.throttled_by = throttled_by;
                    return Ok(answer);
                }
                Err(e) => return Err(e),
            }
        }
    }
}
