//! The budgets of one application user and the limiter parameters derived from them.
//!
//! Both rate budgets are enforced with a GCRA (generic cell rate algorithm) that runs at
//! `target_utilisation` of the budget's rate and may burst into the headroom the target leaves.
//! A GCRA with rate `r` and burst `b` admits at most `r·T + b` in any interval of length `T`, so
//! choosing `r·window + b ≤ budget` means no sliding window ever holds more than the budget, while
//! the long-run rate is the target.

use std::num::NonZeroU32;
use std::time::Duration;

/// Floor for the execution-time tolerance: with `target_utilisation == 1.0` the headroom is zero,
/// and a zero-width tolerance would report no budget at all between two charges.
const MIN_EXEC_TOLERANCE: Duration = Duration::from_millis(1);

/// Absorbs float error such as `40.0 * (1.0 - 0.9) == 3.9999999999999996`. It can raise the
/// burst by at most one cell when the exact value is within 1e-9 below an integer, and then
/// `r·window + b` exceeds the budget by at most 1e-9, which no whole number of requests can use.
const BURST_ROUNDING_SLACK: f64 = 1e-9;

/// Budgets of one application user (credential), as Dataverse enforces them per sliding window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Budgets {
    /// Length of the sliding window all three budgets are measured over.
    pub window: Duration,
    /// Requests allowed per window.
    pub max_requests: u64,
    /// Combined server-side execution time allowed per window.
    pub max_exec: Duration,
    /// Requests allowed in flight at once.
    pub max_concurrency: u32,
    /// Fraction of the request and execution-time budgets to aim for, in `(0, 1]`.
    pub target_utilisation: f64,
}

impl Default for Budgets {
    /// Dataverse's documented limits, aiming at 95 % of each.
    fn default() -> Self {
        Self {
            window: Duration::from_secs(300),
            max_requests: 6_000,
            max_exec: Duration::from_secs(1_200),
            max_concurrency: 52,
            target_utilisation: 0.95,
        }
    }
}

impl Budgets {
    /// Checks that every budget is positive, the target is in `(0, 1]`, and the derived limiter
    /// parameters are representable.
    pub fn validate(&self) -> Result<(), String> {
        self.derive().map(|_| ())
    }

    pub(crate) fn derive(&self) -> Result<Derived, String> {
        let target = self.target_utilisation;
        if !(target > 0.0 && target <= 1.0) {
            return Err(format!("target_utilisation must be in (0, 1], got {target}"));
        }
        if self.window.is_zero() {
            return Err("window must be positive".into());
        }
        if self.max_requests == 0 {
            return Err("max_requests must be positive".into());
        }
        if self.max_exec.is_zero() {
            return Err("max_exec must be positive".into());
        }
        if self.max_concurrency == 0 {
            return Err("max_concurrency must be positive".into());
        }

        let requests = self.max_requests as f64;
        // Rounded up so the rate never exceeds the target because of truncation.
        let period_nanos = (self.window.as_nanos() as f64 / (requests * target)).ceil();
        if !period_nanos.is_finite() || period_nanos > u64::MAX as f64 {
            return Err(format!("request rate of {requests} per {:?} is not representable", self.window));
        }
        let request_period = Duration::from_nanos((period_nanos as u64).max(1));

        let burst = (requests * (1.0 - target) + BURST_ROUNDING_SLACK).floor().clamp(1.0, u32::MAX as f64);
        let request_burst = NonZeroU32::new(burst as u32).unwrap_or(NonZeroU32::MIN);

        let exec_per_wall = self.max_exec.as_secs_f64() * target / self.window.as_secs_f64();
        if !exec_per_wall.is_finite() || exec_per_wall <= 0.0 {
            return Err("execution-time rate is not representable".into());
        }
        // The headroom `max_exec·(1 − target)` expressed in wall time at `exec_per_wall`.
        let tolerance_secs = self.max_exec.as_secs_f64() * (1.0 - target) / exec_per_wall;
        let exec_tolerance = Duration::try_from_secs_f64(tolerance_secs)
            .map_err(|e| format!("execution-time tolerance is not representable: {e}"))?
            .max(MIN_EXEC_TOLERANCE);

        Ok(Derived { request_period, request_burst, exec_per_wall, exec_tolerance })
    }
}

/// An instant no schedule can realistically reach, for instant arithmetic that would overflow
/// (an absurd `Retry-After` or measured duration).
pub(crate) fn far_future() -> tokio::time::Instant {
    tokio::time::Instant::now() + Duration::from_secs(86_400 * 365 * 30)
}

/// Limiter parameters computed from [`Budgets`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Derived {
    /// Wall time between two requests at the target rate.
    pub request_period: Duration,
    /// Requests that may be sent back to back after an idle spell.
    pub request_burst: NonZeroU32,
    /// Seconds of server execution time the target allows per second of wall time.
    pub exec_per_wall: f64,
    /// How far (wall time) the execution-time schedule may run ahead of now.
    pub exec_tolerance: Duration,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_dataverse_limits() {
        let b = Budgets::default();
        assert_eq!(b.window, Duration::from_secs(300));
        assert_eq!(b.max_requests, 6_000);
        assert_eq!(b.max_exec, Duration::from_secs(1_200));
        assert_eq!(b.max_concurrency, 52);
        assert_eq!(b.target_utilisation, 0.95);
        assert_eq!(b.validate(), Ok(()));
    }

    #[test]
    fn derived_parameters_keep_rate_times_window_plus_burst_within_budget() {
        let d = Budgets { target_utilisation: 0.9, ..Budgets::default() }
            .derive()
            .unwrap_or_else(|e| panic!("{e}"));
        // 5,400 requests per 300 s is one per 55.6 ms; the 10 % headroom is 600 requests.
        assert_eq!(d.request_period, Duration::from_nanos(55_555_556));
        assert_eq!(d.request_burst.get(), 600);
        let admitted = 300.0 / d.request_period.as_secs_f64() + f64::from(d.request_burst.get());
        assert!(admitted <= 6_000.0, "{admitted}");
        assert!((d.exec_per_wall - 3.6).abs() < 1e-9);
        // 120 s of headroom at 3.6 s per wall second.
        assert!((d.exec_tolerance.as_secs_f64() - 120.0 / 3.6).abs() < 1e-6);
    }

    #[test]
    fn full_target_gets_minimal_burst_and_tolerance() {
        let d = Budgets { target_utilisation: 1.0, ..Budgets::default() }
            .derive()
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(d.request_burst.get(), 1);
        assert_eq!(d.exec_tolerance, MIN_EXEC_TOLERANCE);
    }

    #[test]
    fn validate_rejects_bad_targets() {
        for target in [0.0, -0.5, 1.01, f64::NAN, f64::INFINITY] {
            let b = Budgets { target_utilisation: target, ..Budgets::default() };
            assert!(b.validate().is_err(), "target {target} accepted");
        }
    }

    #[test]
    fn validate_rejects_zero_window_and_budgets() {
        let d = Budgets::default();
        let bad = [
            Budgets { window: Duration::ZERO, ..d },
            Budgets { max_requests: 0, ..d },
            Budgets { max_exec: Duration::ZERO, ..d },
            Budgets { max_concurrency: 0, ..d },
        ];
        for b in bad {
            assert!(b.validate().is_err(), "{b:?} accepted");
        }
    }
}
