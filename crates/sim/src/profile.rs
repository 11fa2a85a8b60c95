//! The simulator's profile: limits, latencies, process delays, faults and the seeded case mix.
//! Defaults are Dataverse's documented service protection limits and realistic latencies.

use crate::case::CaseShares;
use crate::variants::Variants;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// An inclusive range of milliseconds (or seconds), written `MIN..MAX` or a single number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RangeRepr", into = "String")]
pub struct Range {
    pub min: u64,
    pub max: u64,
}

impl Range {
    pub const fn new(min: u64, max: u64) -> Self {
        Self { min, max }
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RangeRepr {
    Number(u64),
    Text(String),
}

impl TryFrom<RangeRepr> for Range {
    type Error = String;
    fn try_from(r: RangeRepr) -> Result<Self, String> {
        match r {
            RangeRepr::Number(n) => Ok(Range::new(n, n)),
            RangeRepr::Text(t) => t.parse(),
        }
    }
}

impl From<Range> for String {
    fn from(r: Range) -> String {
        r.to_string()
    }
}

impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.min, self.max)
    }
}

impl FromStr for Range {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let num = |p: &str| {
            p.trim().parse::<u64>().map_err(|_| {
                format!("'{s}' is not a range: write MIN..MAX in whole numbers, e.g. 2000..8000")
            })
        };
        let (min, max) = match s.split_once("..") {
            Some((a, b)) => (num(a)?, num(b)?),
            None => {
                let n = num(s)?;
                (n, n)
            }
        };
        if min > max {
            return Err(format!("range {s} has MIN above MAX"));
        }
        Ok(Range::new(min, max))
    }
}

/// Execution time charged (and taken) per operation, in milliseconds. A `$batch` is charged the
/// sum of its operations plus `batch_overhead`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Costs {
    pub whoami: u64,
    pub retrieve: u64,
    pub retrieve_multiple: u64,
    /// Added per row returned by a multi-row read, in microseconds.
    pub per_row_us: u64,
    pub update: u64,
    pub associate: u64,
    pub disassociate: u64,
    pub batch_overhead: u64,
    /// Latency of the token endpoint (not charged against Dataverse limits).
    pub token: u64,
}

impl Default for Costs {
    fn default() -> Self {
        Self {
            whoami: 15,
            retrieve: 25,
            retrieve_multiple: 40,
            per_row_us: 100,
            update: 60,
            associate: 50,
            disassociate: 50,
            batch_overhead: 5,
            token: 40,
        }
    }
}

impl Costs {
    /// Every operation free and instant, the token endpoint too: for fast tests.
    pub fn zero() -> Self {
        Self {
            whoami: 0,
            retrieve: 0,
            retrieve_multiple: 0,
            per_row_us: 0,
            update: 0,
            associate: 0,
            disassociate: 0,
            batch_overhead: 0,
            token: 0,
        }
    }

    pub const NAMES: [&'static str; 9] = [
        "whoami",
        "retrieve",
        "retrieve_multiple",
        "per_row_us",
        "update",
        "associate",
        "disassociate",
        "batch_overhead",
        "token",
    ];

    /// Sets one cost by name (the `--cost NAME=MS` flag).
    pub fn set(&mut self, name: &str, value: u64) -> Result<(), String> {
        let slot = match name {
            "whoami" => &mut self.whoami,
            "retrieve" => &mut self.retrieve,
            "retrieve_multiple" => &mut self.retrieve_multiple,
            "per_row_us" => &mut self.per_row_us,
            "update" => &mut self.update,
            "associate" => &mut self.associate,
            "disassociate" => &mut self.disassociate,
            "batch_overhead" => &mut self.batch_overhead,
            "token" => &mut self.token,
            _ => {
                return Err(format!("unknown cost '{name}': use one of {}", Self::NAMES.join(", ")));
            }
        };
        *slot = value;
        Ok(())
    }
}

/// Everything that shapes the simulated environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Profile {
    /// Length of the sliding window of the service protection limits.
    pub window_secs: u64,
    /// Requests per application user per window (Dataverse: 6,000 per 300 s).
    pub max_requests: u64,
    /// Combined execution time per application user per window (Dataverse: 1,200,000 ms per 300 s).
    pub max_exec_ms: u64,
    /// Concurrent requests per application user (Dataverse: 52).
    pub max_concurrency: u32,
    /// Value of the `x-ms-dop-hint` header (recommended degree of parallelism).
    pub dop_hint: u32,
    /// How much longer the wait grows for each request sent while throttled. Dataverse documents
    /// that such requests extend the wait but not by how much: this figure is the simulator's.
    pub throttle_penalty_ms: u64,
    /// Delay before a scheduled Test & Enable completes.
    pub test_delay_ms: Range,
    /// Delay before a scheduled App for Outlook deployment completes.
    pub deploy_delay_ms: Range,
    /// Lifetime of issued access tokens (Entra: 60–90 minutes).
    pub token_lifetime_secs: Range,
    /// Share of Web API requests that meet an injected fault.
    pub fault_rate: f64,
    /// Extra delay of a "slow response" fault.
    pub slow_ms: Range,
    /// The organization's `emailconnectionchannel`: 0 server-side sync, 1 Email Router.
    pub email_connection_channel: i64,
    pub costs: Costs,
    pub cases: CaseShares,
    /// Behaviour variants in force at start (`[variants]` table); `POST /_sim/variants` changes
    /// them while running.
    pub variants: Variants,
}

impl Default for Profile {
    fn default() -> Self {
        Self {
            window_secs: 300,
            max_requests: 6000,
            max_exec_ms: 1_200_000,
            max_concurrency: 52,
            dop_hint: 16,
            throttle_penalty_ms: 250,
            test_delay_ms: Range::new(20_000, 120_000),
            deploy_delay_ms: Range::new(10_000, 60_000),
            token_lifetime_secs: Range::new(3600, 5400),
            fault_rate: 0.0,
            slow_ms: Range::new(1000, 4000),
            email_connection_channel: 0,
            costs: Costs::default(),
            cases: CaseShares::default(),
            variants: Variants::default(),
        }
    }
}

impl Profile {
    pub fn from_toml(text: &str) -> Result<Self, String> {
        let p: Profile = toml::from_str(text).map_err(|e| format!("invalid profile: {e}"))?;
        p.validate()?;
        Ok(p)
    }

    pub fn validate(&self) -> Result<(), String> {
        if self.window_secs == 0 {
            return Err("window_secs must be at least 1".into());
        }
        if self.max_requests == 0 || self.max_exec_ms == 0 || self.max_concurrency == 0 {
            return Err("max_requests, max_exec_ms and max_concurrency must be at least 1".into());
        }
        if !(0.0..=1.0).contains(&self.fault_rate) {
            return Err(format!("fault_rate must be between 0 and 1, got {}", self.fault_rate));
        }
        if !matches!(self.email_connection_channel, 0 | 1) {
            return Err("email_connection_channel must be 0 (server-side sync) or 1 (Email Router)".into());
        }
        if self.token_lifetime_secs.min == 0 {
            return Err("token_lifetime_secs must be at least 1".into());
        }
        self.cases.validate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_dataverse_limits() {
        let p = Profile::default();
        assert_eq!(
            (p.window_secs, p.max_requests, p.max_exec_ms, p.max_concurrency),
            (300, 6000, 1_200_000, 52)
        );
        assert!(p.validate().is_ok());
    }

    #[test]
    fn toml_profile_overrides_some_knobs() {
        let p = Profile::from_toml(
            "window_secs = 10\ntest_delay_ms = \"5..50\"\n[costs]\nupdate = 7\n[cases]\nother_org = 0.5\n",
        )
        .expect("profile parses");
        assert_eq!(p.window_secs, 10);
        assert_eq!(p.test_delay_ms, Range::new(5, 50));
        assert_eq!(p.costs.update, 7);
        assert_eq!(p.costs.retrieve, Costs::default().retrieve);
        assert_eq!(p.cases.0.len(), 1);
    }

    #[test]
    fn variants_table_sets_the_approval_mode() {
        let p = Profile::from_toml("[variants]\napproval_mode = \"silent\"\n").expect("profile parses");
        assert_eq!(p.variants.approval_mode, crate::variants::ApprovalMode::Silent);
        assert_eq!(Profile::default().variants.approval_mode, crate::variants::ApprovalMode::Any);
        let err = Profile::from_toml("[variants]\napproval_mode = \"admin\"\n").expect_err("bad mode");
        assert!(err.contains("admin-only"), "{err}");
    }

    #[test]
    fn unknown_profile_key_is_an_error() {
        let err = Profile::from_toml("windw_secs = 10").expect_err("typo rejected");
        assert!(err.contains("windw_secs"), "{err}");
    }

    #[test]
    fn ranges_parse_and_reject_nonsense() {
        assert_eq!("10..20".parse::<Range>(), Ok(Range::new(10, 20)));
        assert_eq!("7".parse::<Range>(), Ok(Range::new(7, 7)));
        assert!("20..10".parse::<Range>().is_err());
        assert!("a..b".parse::<Range>().is_err());
    }

    #[test]
    fn unknown_cost_name_lists_the_valid_ones() {
        let err = Costs::default().set("updat", 1).expect_err("rejected");
        assert!(err.contains("update"), "{err}");
    }
}
