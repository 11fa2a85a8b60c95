//! Counters of what clients did to the simulator, served at `GET /_sim/stats`.

use serde::Serialize;
use std::collections::BTreeMap;

/// Requests by operation label, then by status code.
pub type ByOperation = BTreeMap<String, BTreeMap<u16, u64>>;

#[derive(Debug, Default, Clone, Serialize)]
pub struct Stats {
    /// Top-level HTTP requests to the Web API (a `$batch` counts once, as `batch`).
    pub requests: ByOperation,
    /// Operations inside `$batch` requests.
    pub batch_operations: ByOperation,
    /// 429 answers by limit.
    pub throttled: BTreeMap<&'static str, u64>,
    /// 401 answers by reason.
    pub unauthorized: BTreeMap<&'static str, u64>,
    /// Injected faults by kind.
    pub faults: BTreeMap<&'static str, u64>,
    /// Token endpoint answers by status.
    pub token_requests: BTreeMap<u16, u64>,
    /// Execution time charged, per client id, since start or reset.
    pub exec_ms: BTreeMap<String, u64>,
    pub in_flight: u32,
    pub peak_in_flight: u32,
    /// Peak concurrent admitted requests per client id.
    pub peak_in_flight_by_client: BTreeMap<String, u32>,
}

impl Stats {
    pub fn count(map: &mut ByOperation, op: &str, status: u16) {
        *map.entry(op.to_string()).or_default().entry(status).or_default() += 1;
    }

    pub fn enter(&mut self) {
        self.in_flight += 1;
        self.peak_in_flight = self.peak_in_flight.max(self.in_flight);
    }

    pub fn leave(&mut self) {
        self.in_flight = self.in_flight.saturating_sub(1);
    }

    /// Clears everything but the requests now in flight.
    pub fn reset(&mut self) {
        let in_flight = self.in_flight;
        *self = Stats { in_flight, peak_in_flight: in_flight, ..Stats::default() };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peak_follows_the_highest_in_flight() {
        let mut s = Stats::default();
        s.enter();
        s.enter();
        s.leave();
        s.enter();
        assert_eq!((s.in_flight, s.peak_in_flight), (2, 2));
        s.reset();
        assert_eq!((s.in_flight, s.peak_in_flight), (2, 2));
        assert!(s.requests.is_empty());
    }
}
