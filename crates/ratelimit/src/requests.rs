//! The request budget: a direct (not keyed) `governor` GCRA at the target request rate.
//!
//! Governor is driven by a clock that reads tokio's time rather than its default one, so that
//! every wait in the limiter is a tokio sleep and tests can run on tokio's paused clock. For the
//! same reason the wait is our own sleep until governor's `NotUntil` instant, which is what
//! governor's `until_ready` does with a `futures-timer` delay. Its state lives in a store we can
//! read, because governor has no way to ask how many cells are left without taking one.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use governor::clock::Clock;
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::{NotKeyed, StateStore};
use governor::{Quota, RateLimiter};
use tokio::time::Instant;

use crate::config::Derived;

/// Governor clock reading tokio time, as nanoseconds since `origin`.
#[derive(Debug, Clone, Copy)]
struct TokioClock {
    origin: Instant,
}

impl TokioClock {
    fn instant(&self, nanos: Nanos) -> Instant {
        self.origin + Duration::from(nanos)
    }
}

impl Clock for TokioClock {
    type Instant = Nanos;

    fn now(&self) -> Nanos {
        Nanos::new(u64::try_from(self.origin.elapsed().as_nanos()).unwrap_or(u64::MAX))
    }
}

/// Governor's single TAT, kept where the snapshot can read it.
#[derive(Debug, Clone, Default)]
struct SharedTat(Arc<Mutex<Option<Nanos>>>);

impl SharedTat {
    fn get(&self) -> Option<Nanos> {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl StateStore for SharedTat {
    type Key = NotKeyed;

    fn measure_and_replace<T, F, E>(&self, _key: &NotKeyed, f: F) -> Result<T, E>
    where
        F: Fn(Option<Nanos>) -> Result<(T, Nanos), E>,
    {
        let mut tat = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let (outcome, next) = f(*tat)?;
        *tat = Some(next);
        Ok(outcome)
    }
}

/// The request-rate GCRA: rate `max_requests × target / window`, burst the headroom left.
#[derive(Debug)]
pub(crate) struct RequestBudget {
    limiter: RateLimiter<NotKeyed, SharedTat, TokioClock, NoOpMiddleware<Nanos>>,
    tat: SharedTat,
    clock: TokioClock,
    /// Governor measures its TAT from its own start reading; this one is taken just after it,
    /// so the snapshot can only underestimate what is left, never overstate it.
    start: Nanos,
    /// Governor's emission interval `t` and tolerance `τ = t·(burst − 1)`, in nanoseconds.
    t: u64,
    tau: u64,
    burst: u32,
}

impl RequestBudget {
    pub(crate) fn new(derived: &Derived) -> Self {
        let clock = TokioClock { origin: Instant::now() };
        let tat = SharedTat::default();
        let quota = Quota::with_period(derived.request_period)
            .unwrap_or_else(|| unreachable!("derive() makes the request period at least 1 ns"))
            .allow_burst(derived.request_burst);
        let limiter = RateLimiter::new(quota, tat.clone(), clock);
        let start = clock.now();
        let t = u64::try_from(quota.replenish_interval().as_nanos()).unwrap_or(u64::MAX).max(1);
        let burst = quota.burst_size().get();
        Self { limiter, tat, clock, start, t, tau: t.saturating_mul(u64::from(burst - 1)), burst }
    }

    /// Takes one cell if the rate allows it now; otherwise says when to try again.
    pub(crate) fn try_take(&self) -> Result<(), Instant> {
        self.limiter.check().map_err(|not_until| self.clock.instant(not_until.earliest_possible()))
    }

    /// Requests that could be sent now; the fraction is the next cell refilling.
    pub(crate) fn available(&self) -> f64 {
        let now = self.clock.now().as_u64().saturating_sub(self.start.as_u64());
        let tat = self.tat.get().map_or(now, |tat| tat.as_u64().max(now));
        // Governor admits while now ≥ TAT − τ, i.e. while this is at least one cell.
        let slack = (now + self.tau + self.t).saturating_sub(tat);
        (slack as f64 / self.t as f64).clamp(0.0, f64::from(self.burst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Budgets;

    const MS: Duration = Duration::from_millis(1);

    /// 40 requests per 2 s at 90 %: one per 55.6 ms (18 per second), burst 4.
    fn budget() -> RequestBudget {
        let budgets = Budgets {
            window: Duration::from_secs(2),
            max_requests: 40,
            target_utilisation: 0.9,
            ..Budgets::default()
        };
        RequestBudget::new(&budgets.derive().unwrap_or_else(|e| panic!("{e}")))
    }

    #[tokio::test(start_paused = true)]
    async fn burst_then_one_per_period() {
        let b = budget();
        assert_eq!(b.available(), 4.0);
        for _ in 0..4 {
            assert_eq!(b.try_take(), Ok(()));
        }
        assert_eq!(b.available(), 0.0);
        let start = Instant::now();
        let at = b.try_take().err().unwrap_or_else(|| panic!("fifth request admitted in the burst"));
        assert!(at.duration_since(start).abs_diff(Duration::from_nanos(55_555_556)) < MS);

        tokio::time::sleep_until(at).await;
        assert_eq!(b.try_take(), Ok(()));
        assert!(b.try_take().is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn available_refills_to_the_burst_and_no_further() {
        let b = budget();
        for _ in 0..4 {
            assert_eq!(b.try_take(), Ok(()));
        }
        // Half a period later, half a cell is back.
        tokio::time::advance(Duration::from_nanos(27_777_778)).await;
        assert!((b.available() - 0.5).abs() < 0.01, "{}", b.available());
        tokio::time::advance(Duration::from_secs(60)).await;
        assert_eq!(b.available(), 4.0);
    }
}
