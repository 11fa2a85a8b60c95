//! Several application users of one environment: each has its own limits, so requests are
//! spread across them, skipping any that is paused after a 429.

use crate::lane::Lane;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

#[derive(Debug)]
pub struct Pool {
    lanes: Vec<Lane>,
    next: AtomicUsize,
}

impl Pool {
    /// A pool of at least one lane.
    pub fn new(lanes: Vec<Lane>) -> Option<Self> {
        (!lanes.is_empty()).then(|| Self { lanes, next: AtomicUsize::new(0) })
    }

    pub fn lanes(&self) -> &[Lane] {
        &self.lanes
    }

    /// The next lane in turn that is not paused; when all are, the one free soonest.
    pub fn pick(&self) -> &Lane {
        let n = self.lanes.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let mut best = &self.lanes[start % n];
        let mut best_wait = Duration::MAX;
        for i in 0..n {
            let lane = &self.lanes[(start + i) % n];
            let wait = lane.limiter.snapshot().paused_for;
            if wait.is_zero() {
                return lane;
            }
            if wait < best_wait {
                best = lane;
                best_wait = wait;
            }
        }
        best
    }
}
