//! The limits of each application user: Dataverse's documented defaults, changed only to
//! rehearse against a simulator with a shortened window.

use anyhow::{Context, Result};
use dataverse::DataverseOptions;
use metrics::Metrics;
use pipeline::request_metrics::RequestMetrics;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone, clap::Args)]
#[command(
    next_help_heading = "Limits per application user (Dataverse's defaults; change only to rehearse against dataverse-sim)"
)]
pub struct LimitArgs {
    /// Length of the service protection window, in seconds.
    #[arg(long, default_value_t = 300, value_name = "SECS")]
    pub window_secs: u64,
    /// Requests allowed per window.
    #[arg(long, default_value_t = 6_000, value_name = "N")]
    pub max_requests: u64,
    /// Combined execution time allowed per window, in seconds.
    #[arg(long, default_value_t = 1_200, value_name = "SECS")]
    pub max_exec_secs: u64,
    /// Share of each budget to aim for, in (0, 1].
    #[arg(long, default_value_t = 0.95, value_name = "SHARE")]
    pub target: f64,
}

impl LimitArgs {
    pub fn dataverse_options(&self) -> Result<DataverseOptions> {
        let mut options = DataverseOptions::default();
        options.budgets.window = Duration::from_secs(self.window_secs);
        options.budgets.max_requests = self.max_requests;
        options.budgets.max_exec = Duration::from_secs(self.max_exec_secs);
        options.budgets.target_utilisation = self.target;
        options.budgets.validate().map_err(anyhow::Error::msg).context("invalid limits")?;
        Ok(options)
    }

    /// The Dataverse client's options, its requests, 429s and limiter waits counted in `metrics`.
    pub fn observed_options(&self, metrics: &Arc<Metrics>) -> Result<DataverseOptions> {
        let mut options = self.dataverse_options()?;
        options.observer = Some(Arc::new(RequestMetrics(Arc::clone(metrics))));
        Ok(options)
    }
}
