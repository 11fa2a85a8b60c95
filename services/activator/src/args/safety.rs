//! The canary and the circuit breaker of a batch: what stops a systematic failure early.

use activator_core::{BreakerSetting, CanarySetting};

#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Safety")]
pub struct SafetyArgs {
    /// Mailboxes that run all their steps before any other is written: a number, or off
    /// (default: 1% of the batch, at least 10 and at most 50).
    #[arg(long, default_value = "auto", value_name = "N|off")]
    pub canary: CanarySetting,
    /// The canary fails (and the batch pauses) when more than this share of it fails.
    #[arg(long, default_value_t = 0.2, value_name = "SHARE")]
    pub canary_max_failures: f64,
    /// Pause when, of the last WINDOW outcomes of a step, RATIO or more failed with one error
    /// code; or off.
    #[arg(long, default_value = "50:0.5", value_name = "WINDOW:RATIO|off")]
    pub breaker: BreakerSetting,
}
