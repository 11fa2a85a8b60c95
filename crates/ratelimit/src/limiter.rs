//! The limiter contract the Dataverse client drives, and the values it exchanges.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use tokio::time::Instant;

use crate::concurrency::Slot;
use crate::gcra::Reservation;

/// A boxed, sendable future, so that [`Limiter`] stays object safe.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The service protection limit a 429 or a metric refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LimitKind {
    /// Number of requests per window.
    Requests,
    /// Combined server execution time per window.
    ExecutionTime,
    /// Requests in flight at once.
    Concurrency,
}

impl LimitKind {
    /// The label value used in metrics and logs.
    pub fn name(self) -> &'static str {
        match self {
            Self::Requests => "requests",
            Self::ExecutionTime => "execution_time",
            Self::Concurrency => "concurrency",
        }
    }
}

/// Admission to send one request; hand it back with [`Limiter::release`].
///
/// Dropping a permit without releasing it frees its concurrency slot and keeps the execution time
/// reserved at admission charged, which errs on the safe side.
#[derive(Debug)]
pub struct Permit {
    // Held only for its Drop, which gives the concurrency slot back.
    _slot: Slot,
    granted_at: Instant,
    pub(crate) reserved: Reservation,
}

impl Permit {
    pub(crate) fn new(slot: Slot, granted_at: Instant, reserved: Reservation) -> Self {
        Self { _slot: slot, granted_at, reserved }
    }

    /// When the limiter admitted the request.
    pub fn granted_at(&self) -> Instant {
        self.granted_at
    }
}

/// What is left of each budget right now, for metrics.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Snapshot {
    /// Requests that could be sent now without waiting; the fraction shows the next one refilling.
    pub requests_available: f64,
    /// Execution time that could be spent now without waiting.
    pub exec_available: Duration,
    /// Concurrency slots free under the current cap.
    pub concurrency_available: u32,
    /// The current concurrency cap.
    pub concurrency_cap: u32,
    /// How long the current 429 pause still lasts; zero when not paused.
    pub paused_for: Duration,
}

impl Snapshot {
    /// What is left of each limit, in the limit's own unit: requests, seconds of execution time,
    /// concurrency slots (the `ratelimit_budget_remaining` gauge).
    pub fn remaining(&self) -> [(LimitKind, f64); 3] {
        [
            (LimitKind::Requests, self.requests_available),
            (LimitKind::ExecutionTime, self.exec_available.as_secs_f64()),
            (LimitKind::Concurrency, f64::from(self.concurrency_available)),
        ]
    }
}

/// Keeps the traffic of one application user within its service protection limits.
pub trait Limiter: Send + Sync + std::fmt::Debug {
    /// Waits until a request may be sent under every budget and no pause is in force, then admits it.
    fn acquire(&self) -> BoxFuture<'_, Permit>;

    /// Like [`Limiter::acquire`] for a request expected to run for `expected` (say, a `$batch`
    /// of many operations), reserving that much execution time until it ends.
    fn acquire_expecting(&self, expected: Duration) -> BoxFuture<'_, Permit>;

    /// The request ended after `elapsed` (its measured duration, charged to the execution-time budget).
    fn release(&self, permit: Permit, elapsed: Duration);

    /// A 429 was answered: nobody using this limiter sends until `retry_after` from now has passed
    /// (a later pause never shortens an earlier, longer one).
    fn pause(&self, retry_after: Duration, limit: Option<LimitKind>);

    /// Sets the concurrency cap (from `x-ms-dop-hint`), clamped to `1..=budgets.max_concurrency`.
    /// Lowering it never interrupts requests in flight; new ones wait until in-flight < cap.
    fn set_concurrency(&self, cap: u32);

    /// What is left of each budget right now.
    fn snapshot(&self) -> Snapshot;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_kind_names_are_metric_labels() {
        assert_eq!(LimitKind::Requests.name(), "requests");
        assert_eq!(LimitKind::ExecutionTime.name(), "execution_time");
        assert_eq!(LimitKind::Concurrency.name(), "concurrency");
    }

    #[test]
    fn what_remains_is_in_each_limits_own_unit() {
        let s = Snapshot {
            requests_available: 12.5,
            exec_available: Duration::from_millis(1_500),
            concurrency_available: 7,
            concurrency_cap: 52,
            paused_for: Duration::ZERO,
        };
        assert_eq!(
            s.remaining(),
            [(LimitKind::Requests, 12.5), (LimitKind::ExecutionTime, 1.5), (LimitKind::Concurrency, 7.0)]
        );
    }
}
