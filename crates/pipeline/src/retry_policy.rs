//! When a failed step runs again: exponential backoff with full jitter (the ceiling from
//! `backon`'s exponential schedule, the delay drawn uniformly below it), and how many
//! attempts a step gets before its mailbox fails. A 429 does not use an attempt: the item
//! waits the Retry-After Dataverse gave.

use backon::{BackoffBuilder, ExponentialBuilder};
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Ceiling of the first retry's delay; doubles with each attempt.
    pub base: Duration,
    /// Largest ceiling.
    pub cap: Duration,
    /// Attempts of one step (the first run included) before the mailbox fails.
    pub max_attempts: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { base: Duration::from_secs(2), cap: Duration::from_secs(120), max_attempts: 5 }
    }
}

impl RetryPolicy {
    /// The ceiling of the delay after failed attempt `attempt` (1 = the first run failed).
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let index = attempt.saturating_sub(1) as usize;
        ExponentialBuilder::default()
            .with_min_delay(self.base)
            .with_max_delay(self.cap)
            .with_factor(2.0)
            .without_max_times()
            .build()
            .nth(index)
            .unwrap_or(self.cap)
    }

    /// The delay before the next attempt: uniform in `[0, ceiling]` (full jitter), so that
    /// mailboxes failing together do not come back together.
    pub fn delay(&self, attempt: u32) -> Duration {
        self.ceiling(attempt).mul_f64(fastrand::f64())
    }

    /// Whether a step that has failed `attempts` times may run again.
    pub fn may_retry(&self, attempts: u32) -> bool {
        attempts < self.max_attempts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceilings_double_up_to_the_cap() {
        let p = RetryPolicy { base: Duration::from_secs(1), cap: Duration::from_secs(10), max_attempts: 5 };
        let ceilings: Vec<u64> = (1..=6).map(|a| p.ceiling(a).as_secs()).collect();
        assert_eq!(ceilings, vec![1, 2, 4, 8, 10, 10]);
    }

    #[test]
    fn delays_are_spread_below_the_ceiling() {
        let p = RetryPolicy::default();
        let delays: Vec<Duration> = (0..200).map(|_| p.delay(3)).collect();
        assert!(delays.iter().all(|d| *d <= p.ceiling(3)));
        let below_half = delays.iter().filter(|d| **d < p.ceiling(3) / 2).count();
        assert!(
            (40..=160).contains(&below_half),
            "full jitter spreads delays: {below_half} of 200 below half"
        );
    }

    #[test]
    fn attempts_run_out() {
        let p = RetryPolicy { max_attempts: 3, ..RetryPolicy::default() };
        assert!(p.may_retry(2));
        assert!(!p.may_retry(3));
    }
}
