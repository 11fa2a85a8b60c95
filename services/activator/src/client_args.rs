//! Flags shared by the subcommands that talk to Dataverse: which environment, and the limits
//! of each application user (Dataverse's documented defaults unless rehearsing against a
//! simulator with a shortened window).

use crate::environment;
use anyhow::{Context, Result};
use dataverse::{ClientOptions, EnvironmentConfig};
use metrics::Metrics;
use pipeline::request_metrics::RequestMetrics;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Environment")]
pub struct EnvironmentArgs {
    /// TOML file with [environments.NAME] tables (default: the ACTIVATOR_* variables).
    #[arg(long, value_name = "FILE.toml")]
    pub config: Option<PathBuf>,
    /// Which environment of the file to use.
    #[arg(long)]
    pub environment: Option<String>,
}

impl EnvironmentArgs {
    pub fn load(&self) -> Result<EnvironmentConfig> {
        environment::load(self.config.as_deref(), self.environment.as_deref())
    }

    /// Every environment of `--config` (or the one `--environment` picks, or the variables').
    pub fn load_all(&self) -> Result<Vec<EnvironmentConfig>> {
        environment::load_all(self.config.as_deref(), self.environment.as_deref())
    }
}

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
    pub fn client_options(&self) -> Result<ClientOptions> {
        let mut options = ClientOptions::default();
        options.budgets.window = Duration::from_secs(self.window_secs);
        options.budgets.max_requests = self.max_requests;
        options.budgets.max_exec = Duration::from_secs(self.max_exec_secs);
        options.budgets.target_utilisation = self.target;
        options.budgets.validate().map_err(anyhow::Error::msg).context("invalid limits")?;
        Ok(options)
    }

    /// The client's options, its requests, 429s and limiter waits counted in `metrics`.
    pub fn observed_options(&self, metrics: &Arc<Metrics>) -> Result<ClientOptions> {
        let mut options = self.client_options()?;
        options.observer = Some(Arc::new(RequestMetrics(Arc::clone(metrics))));
        Ok(options)
    }
}
