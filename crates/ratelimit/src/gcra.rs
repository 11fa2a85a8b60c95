//! The execution-time budget: a GCRA that is charged after the fact.
//!
//! A request's execution time is only known when it ends, and `governor` can only charge cells up
//! front, so this budget keeps its own theoretical arrival time (TAT). Each ended request pushes
//! the TAT on by its duration converted to wall time at the target rate `R` (execution seconds per
//! wall second); a request may start while `now ≥ TAT − τ`, where the tolerance `τ` is the
//! headroom `max_exec·(1 − target)` expressed in wall time.
//!
//! Requests in flight have not been charged yet, and long ones (a `$batch` of a hundred writes
//! runs for seconds) would let many more start than the budget holds. So admission reserves the
//! request's expected cost at once — what the caller expects, or a typical request's (a running
//! average of recent charges) — and the end settles the difference. A request starts only while
//! `now ≥ TAT − (τ − expected)`, so the execution charged or reserved in any interval `T` stays
//! within `R·T + R·τ`, in flight included, as long as the expectations are about right.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tokio::time::{Instant, sleep_until};

use crate::config::{Derived, far_future};

/// Smallest admission tolerance, so a typical request longer than the headroom still gets through
/// (one at a time) instead of stalling the budget forever.
const MIN_ALLOWANCE: Duration = Duration::from_millis(1);

/// Weight of the newest charge in the running average of request cost.
const TYPICAL_WEIGHT: f64 = 0.25;

#[derive(Debug, Default)]
struct State {
    tat: Option<Instant>,
    /// Running average of a request's charge, in wall time; `None` until the first release.
    typical: Option<Duration>,
}

/// Wall-time cost reserved for a request at admission.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Reservation {
    pub(crate) wall: Duration,
    /// Whether the request's cost was unknown (so it feeds the typical cost).
    pub(crate) typical: bool,
}

/// A GCRA over execution time, reserved at admission and settled when each request ends.
#[derive(Debug)]
pub(crate) struct ExecBudget {
    state: Mutex<State>,
    exec_per_wall: f64,
    tolerance: Duration,
}

impl ExecBudget {
    pub(crate) fn new(derived: &Derived) -> Self {
        Self {
            state: Mutex::default(),
            exec_per_wall: derived.exec_per_wall,
            tolerance: derived.exec_tolerance,
        }
    }

    fn to_wall(&self, exec: Duration) -> Duration {
        Duration::try_from_secs_f64(exec.as_secs_f64() / self.exec_per_wall).unwrap_or(Duration::MAX)
    }

    /// The wall-time cost a request will be reserved at admission: its expected execution time
    /// when the caller knows it (a `$batch` of many operations), else a typical request's.
    fn expected_wall(&self, state: &State, expected: Option<Duration>) -> Duration {
        expected.map_or_else(|| state.typical.unwrap_or(Duration::ZERO), |e| self.to_wall(e))
    }

    /// Reserves a starting request's expected cost now, so requests in flight count against
    /// the budget before they end. Returns the reservation, to be settled by [`Self::settle`].
    pub(crate) fn reserve(&self, expected: Option<Duration>) -> Reservation {
        let now = Instant::now();
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let wall = self.expected_wall(&state, expected);
        let base = state.tat.map_or(now, |tat| tat.max(now));
        state.tat = Some(base.checked_add(wall).unwrap_or_else(far_future));
        Reservation { wall, typical: expected.is_none() }
    }

    /// Charges a request that ran for `elapsed`, less what was reserved for it at admission.
    pub(crate) fn settle(&self, elapsed: Duration, reserved: Reservation) {
        let now = Instant::now();
        let cost = self.to_wall(elapsed);
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let base = state.tat.map_or(now, |tat| if reserved.wall.is_zero() { tat.max(now) } else { tat });
        let tat = base.checked_add(cost).unwrap_or_else(far_future);
        state.tat = Some(tat.checked_sub(reserved.wall).unwrap_or(tat));
        // Only requests of unknown cost shape the typical cost; a batch's would inflate it.
        if reserved.typical {
            state.typical = Some(match state.typical {
                None => cost,
                Some(typical) => {
                    typical.mul_f64(1.0 - TYPICAL_WEIGHT).saturating_add(cost.mul_f64(TYPICAL_WEIGHT))
                }
            });
        }
    }

    /// Charges a request that ran for `elapsed` and reserved nothing.
    #[cfg(test)]
    pub(crate) fn charge(&self, elapsed: Duration) {
        self.settle(elapsed, Reservation { wall: Duration::ZERO, typical: true });
    }

    /// When a request expecting `expected` may start, if it may not start now.
    pub(crate) fn ready_at_for(&self, expected: Option<Duration>) -> Option<Instant> {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let allowance =
            self.tolerance.saturating_sub(self.expected_wall(&state, expected)).max(MIN_ALLOWANCE);
        let at = state.tat?.checked_sub(allowance)?;
        (at > Instant::now()).then_some(at)
    }

    #[cfg(test)]
    pub(crate) fn ready_at(&self) -> Option<Instant> {
        self.ready_at_for(None)
    }

    /// Waits until a request expecting `expected` may start.
    pub(crate) async fn wait_for(&self, expected: Option<Duration>) {
        // Re-checked after waking: requests that ended meanwhile push the TAT on.
        while let Some(at) = self.ready_at_for(expected) {
            sleep_until(at).await;
        }
    }

    #[cfg(test)]
    pub(crate) async fn wait(&self) {
        self.wait_for(None).await;
    }

    /// Execution time that could be spent from now without exceeding the schedule.
    pub(crate) fn available(&self) -> Duration {
        let tat = self.state.lock().unwrap_or_else(PoisonError::into_inner).tat;
        let ahead = tat.map_or(Duration::ZERO, |tat| tat.saturating_duration_since(Instant::now()));
        self.tolerance.saturating_sub(ahead).mul_f64(self.exec_per_wall)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Budgets;

    const MS: Duration = Duration::from_millis(1);

    /// 1 s of execution per 2 s at 90 %: 0.45 s per wall second, 100 ms of headroom ≈ 222 ms wall.
    fn budget() -> ExecBudget {
        let budgets = Budgets {
            window: Duration::from_secs(2),
            max_exec: Duration::from_secs(1),
            target_utilisation: 0.9,
            ..Budgets::default()
        };
        ExecBudget::new(&budgets.derive().unwrap_or_else(|e| panic!("{e}")))
    }

    #[tokio::test(start_paused = true)]
    async fn fresh_budget_is_open_with_full_headroom() {
        let b = budget();
        assert_eq!(b.ready_at(), None);
        let available = b.available();
        assert!(available.abs_diff(100 * MS) < MS, "{available:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn charges_beyond_the_headroom_close_the_budget_until_it_refills() {
        let b = budget();
        // 45 ms of execution is 100 ms of wall time at 0.45 s/s.
        b.charge(45 * MS);
        assert_eq!(b.ready_at(), None, "one charge fits in the headroom");
        b.charge(45 * MS);
        b.charge(45 * MS);
        let start = Instant::now();
        let at = b.ready_at().unwrap_or_else(|| panic!("budget still open after 135 ms"));
        // TAT is 300 ms ahead; allowance is 222 ms minus a typical 100 ms.
        assert!(at.duration_since(start).abs_diff(178 * MS) < 2 * MS, "{:?}", at - start);
        assert_eq!(b.available(), Duration::ZERO);

        b.wait().await;
        assert!(Instant::now() >= at);
        assert_eq!(b.ready_at(), None);
    }

    #[tokio::test(start_paused = true)]
    async fn absurd_durations_close_the_budget_without_overflowing() {
        let b = budget();
        b.charge(Duration::MAX);
        b.charge(Duration::MAX);
        assert!(b.ready_at().is_some());
        assert_eq!(b.available(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn idle_time_refills_but_never_beyond_the_headroom() {
        let b = budget();
        b.charge(90 * MS);
        assert!(b.available() < 100 * MS);
        tokio::time::advance(Duration::from_secs(10)).await;
        assert!(b.available().abs_diff(100 * MS) < MS, "{:?}", b.available());
    }
}
