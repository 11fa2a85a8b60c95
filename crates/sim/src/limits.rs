//! Dataverse's three service protection limits, per application user, over a sliding window:
//! requests, combined execution time, and concurrent requests.
//!
//! Requests and execution time are checked when a request arrives against what the window
//! already holds; execution time is charged when a request ends, so both may overshoot a little
//! as Dataverse's do. Concurrency fails at once. A request sent while throttled is refused and
//! pushes the end of the wait further out.

use serde::Serialize;
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// Which limit refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Limit {
    Requests,
    ExecutionTime,
    Concurrency,
}

impl Limit {
    pub fn name(self) -> &'static str {
        match self {
            Limit::Requests => "requests",
            Limit::ExecutionTime => "execution_time",
            Limit::Concurrency => "concurrency",
        }
    }

    /// Dataverse's error code (hex form of -2147015902, -2147015903, -2147015898).
    pub fn code(self) -> &'static str {
        match self {
            Limit::Requests => "0x80072322",
            Limit::ExecutionTime => "0x80072321",
            Limit::Concurrency => "0x80072326",
        }
    }
}

/// Limits as configured.
#[derive(Debug, Clone, Copy)]
pub struct LimitConfig {
    pub window: Duration,
    pub max_requests: u64,
    pub max_exec_ms: u64,
    pub max_concurrency: u32,
    pub penalty: Duration,
}

impl LimitConfig {
    /// Dataverse's message for a limit, with the configured figures.
    pub fn message(&self, limit: Limit) -> String {
        let secs = self.window.as_secs();
        match limit {
            Limit::Requests => format!(
                "Number of requests exceeded the limit of {} over time window of {secs} seconds.",
                self.max_requests
            ),
            Limit::ExecutionTime => format!(
                "Combined execution time of incoming requests exceeded limit of {} milliseconds over time window of {secs} seconds. Decrease number of concurrent requests or reduce the duration of requests and try again later.",
                self.max_exec_ms
            ),
            Limit::Concurrency => {
                format!("Number of concurrent requests exceeded the limit of {}.", self.max_concurrency)
            }
        }
    }
}

/// A refusal: which limit, and how long to wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    pub limit: Limit,
    pub retry_after: Duration,
}

impl Throttled {
    /// The `Retry-After` header value: whole seconds, rounded up, at least 1.
    pub fn retry_after_secs(&self) -> u64 {
        let ms = self.retry_after.as_millis() as u64;
        ms.div_ceil(1000).max(1)
    }
}

#[derive(Debug, Default)]
struct UserWindow {
    requests: VecDeque<Instant>,
    exec: VecDeque<(Instant, u64)>,
    exec_sum: u64,
    in_flight: u32,
    blocked_requests: Option<Instant>,
    blocked_exec: Option<Instant>,
}

/// What one application user has used of its window.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct Usage {
    pub requests_in_window: u64,
    pub exec_ms_in_window: u64,
    pub in_flight: u32,
}

#[derive(Debug)]
pub struct Limits {
    config: LimitConfig,
    users: HashMap<String, UserWindow>,
}

impl Limits {
    pub fn new(config: LimitConfig) -> Self {
        Self { config, users: HashMap::new() }
    }

    pub fn config(&self) -> &LimitConfig {
        &self.config
    }

    pub fn reset(&mut self) {
        self.users.clear();
    }

    /// Admits a request of `user` arriving at `now`, or says which limit refuses it.
    pub fn admit(&mut self, user: &str, now: Instant) -> Result<(), Throttled> {
        let cfg = self.config;
        let w = self.users.entry(user.to_string()).or_default();
        evict(w, now, cfg.window);
        if w.in_flight >= cfg.max_concurrency {
            return Err(Throttled { limit: Limit::Concurrency, retry_after: Duration::from_secs(1) });
        }
        for (limit, blocked) in
            [(Limit::Requests, &mut w.blocked_requests), (Limit::ExecutionTime, &mut w.blocked_exec)]
        {
            if let Some(until) = *blocked {
                if now < until {
                    let until = until + cfg.penalty;
                    *blocked = Some(until);
                    return Err(Throttled { limit, retry_after: until - now });
                }
                *blocked = None;
            }
        }
        if w.requests.len() as u64 >= cfg.max_requests {
            // The count drops below the limit when the entry that makes it full leaves the window.
            let idx = w.requests.len() - cfg.max_requests as usize;
            let until = w.requests[idx] + cfg.window;
            w.blocked_requests = Some(until);
            return Err(Throttled {
                limit: Limit::Requests,
                retry_after: until.saturating_duration_since(now),
            });
        }
        if w.exec_sum >= cfg.max_exec_ms {
            let mut sum = w.exec_sum;
            let mut until = now;
            for (at, ms) in &w.exec {
                sum -= ms;
                until = *at + cfg.window;
                if sum < cfg.max_exec_ms {
                    break;
                }
            }
            w.blocked_exec = Some(until);
            return Err(Throttled {
                limit: Limit::ExecutionTime,
                retry_after: until.saturating_duration_since(now),
            });
        }
        w.requests.push_back(now);
        w.in_flight += 1;
        Ok(())
    }

    /// Ends an admitted request, charging its execution time.
    pub fn finish(&mut self, user: &str, now: Instant, exec_ms: u64) {
        if let Some(w) = self.users.get_mut(user) {
            w.in_flight = w.in_flight.saturating_sub(1);
            w.exec.push_back((now, exec_ms));
            w.exec_sum += exec_ms;
        }
    }

    pub fn usage(&mut self, user: &str, now: Instant) -> Usage {
        let window = self.config.window;
        match self.users.get_mut(user) {
            Some(w) => {
                evict(w, now, window);
                Usage {
                    requests_in_window: w.requests.len() as u64,
                    exec_ms_in_window: w.exec_sum,
                    in_flight: w.in_flight,
                }
            }
            None => Usage::default(),
        }
    }
}

fn evict(w: &mut UserWindow, now: Instant, window: Duration) {
    while w.requests.front().is_some_and(|t| now.saturating_duration_since(*t) >= window) {
        w.requests.pop_front();
    }
    while let Some((t, ms)) = w.exec.front().copied() {
        if now.saturating_duration_since(t) < window {
            break;
        }
        w.exec_sum -= ms;
        w.exec.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(max_requests: u64, max_exec_ms: u64, max_concurrency: u32) -> Limits {
        Limits::new(LimitConfig {
            window: Duration::from_secs(10),
            max_requests,
            max_exec_ms,
            max_concurrency,
            penalty: Duration::from_millis(500),
        })
    }

    #[test]
    fn request_limit_triggers_at_the_threshold_and_frees_with_the_window() {
        let mut l = limits(3, 1_000_000, 10);
        let t0 = Instant::now();
        for i in 0..3 {
            assert!(l.admit("a", t0 + Duration::from_secs(i)).is_ok());
            l.finish("a", t0 + Duration::from_secs(i), 1);
        }
        let refused = l.admit("a", t0 + Duration::from_secs(3)).expect_err("fourth refused");
        assert_eq!(refused.limit, Limit::Requests);
        assert_eq!(refused.retry_after, Duration::from_secs(7));
        assert!(l.admit("a", t0 + Duration::from_secs(10)).is_ok());
    }

    #[test]
    fn sending_while_throttled_extends_the_wait() {
        let mut l = limits(1, 1_000_000, 10);
        let t0 = Instant::now();
        assert!(l.admit("a", t0).is_ok());
        let first = l.admit("a", t0).expect_err("throttled");
        let second = l.admit("a", t0).expect_err("still throttled");
        assert_eq!(second.retry_after, first.retry_after + Duration::from_millis(500));
        // The original end of the wait no longer frees the user.
        assert!(l.admit("a", t0 + first.retry_after).is_err());
    }

    #[test]
    fn execution_time_is_charged_at_the_end_and_may_overshoot() {
        let mut l = limits(100, 1000, 10);
        let t0 = Instant::now();
        assert!(l.admit("a", t0).is_ok());
        assert!(l.admit("a", t0).is_ok());
        l.finish("a", t0, 900);
        l.finish("a", t0 + Duration::from_secs(1), 900);
        let refused = l.admit("a", t0 + Duration::from_secs(2)).expect_err("over budget");
        assert_eq!(refused.limit, Limit::ExecutionTime);
        // Dropping the first 900 ms leaves 900 < 1000, so the wait ends when it leaves the window.
        assert_eq!(refused.retry_after, Duration::from_secs(8));
    }

    #[test]
    fn concurrency_fails_at_once_and_frees_when_a_request_ends() {
        let mut l = limits(100, 1_000_000, 2);
        let t0 = Instant::now();
        assert!(l.admit("a", t0).is_ok());
        assert!(l.admit("a", t0).is_ok());
        assert_eq!(l.admit("a", t0).map_err(|t| t.limit), Err(Limit::Concurrency));
        l.finish("a", t0, 1);
        assert!(l.admit("a", t0).is_ok());
    }

    #[test]
    fn each_application_user_has_its_own_limits() {
        let mut l = limits(1, 1_000_000, 10);
        let t0 = Instant::now();
        assert!(l.admit("a", t0).is_ok());
        assert!(l.admit("a", t0).is_err());
        assert!(l.admit("b", t0).is_ok());
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        let t = Throttled { limit: Limit::Requests, retry_after: Duration::from_millis(1200) };
        assert_eq!(t.retry_after_secs(), 2);
        let t = Throttled { limit: Limit::Requests, retry_after: Duration::ZERO };
        assert_eq!(t.retry_after_secs(), 1);
    }
}
