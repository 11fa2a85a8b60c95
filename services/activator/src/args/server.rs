//! Flags of the HTTP API server (`activator api` and `activator serve`), and starting it: the API
//! tokens from `ACTIVATOR_API_TOKENS` (or a file), the listening address, the request limits.

use crate::readiness::DataverseReady;
use anyhow::{Context, Result, bail};
use api::{ApiConfig, AppState, Auth};
use dataverse::EnvironmentConfig;
use metrics::Metrics;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use store::BatchStore;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Where the API tokens come from (never a flag, which others could read in the process list).
const TOKENS_VARIABLE: &str = "ACTIVATOR_API_TOKENS";

#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "HTTP API")]
pub struct ServerArgs {
    /// Address to listen on (port 0: any free port, printed at start).
    #[arg(long, env = "ACTIVATOR_LISTEN", default_value = "127.0.0.1:8080", value_name = "ADDR")]
    listen: SocketAddr,
    /// File holding the API tokens, in the form of ACTIVATOR_API_TOKENS (instead of it).
    #[arg(long, env = "ACTIVATOR_API_TOKENS_FILE", value_name = "FILE")]
    tokens_file: Option<PathBuf>,
    /// Let every caller in as an operator, without a token (only on a trusted network).
    #[arg(long)]
    insecure_no_auth: bool,
    /// Most mailboxes in one batch.
    #[arg(long, default_value_t = ApiConfig::DEFAULT_MAX_MAILBOXES, value_name = "N")]
    max_mailboxes: usize,
    /// Largest request body, in MiB.
    #[arg(long, default_value_t = 16, value_name = "MIB")]
    max_body_mib: usize,
    /// Longest a request may take, in seconds (event streams excepted).
    #[arg(long, default_value_t = 30, value_name = "SECS")]
    request_timeout_secs: u64,
    /// Days a completed or cancelled batch is kept (with its mailboxes and results) before it
    /// is deleted; 0 keeps batches until deleted with DELETE /v1/batches/{id}.
    #[arg(long, env = "ACTIVATOR_RETENTION_DAYS", default_value_t = 90, value_name = "DAYS")]
    retention_days: u64,
}

impl ServerArgs {
    fn auth(&self) -> Result<Auth> {
        let from_file = match &self.tokens_file {
            Some(path) => Some(
                std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read the API tokens from {}", path.display()))?,
            ),
            None => None,
        };
        let from_variable = std::env::var(TOKENS_VARIABLE).ok().filter(|v| !v.trim().is_empty());
        if from_file.is_some() && from_variable.is_some() {
            bail!("give the API tokens in {TOKENS_VARIABLE} or in --tokens-file, not both");
        }
        // A file may hold one entry per line.
        let tokens = from_file.map(|text| text.lines().collect::<Vec<_>>().join(",")).or(from_variable);
        Auth::from_config(tokens.as_deref(), self.insecure_no_auth).map_err(anyhow::Error::msg)
    }

    fn config(&self, environments: &[EnvironmentConfig]) -> Result<ApiConfig> {
        if self.max_mailboxes == 0 || self.max_body_mib == 0 || self.request_timeout_secs == 0 {
            bail!("--max-mailboxes, --max-body-mib and --request-timeout-secs must be at least 1");
        }
        let mut config = ApiConfig::new(environments.iter().map(|e| e.name.clone()).collect());
        config.max_mailboxes = self.max_mailboxes;
        config.max_body_bytes = self.max_body_mib.saturating_mul(1024 * 1024);
        config.request_timeout = Duration::from_secs(self.request_timeout_secs);
        Ok(config)
    }

    /// Checks the configuration, binds the address and serves the API on `store` until `stop`
    /// turns true. Prints the address it listens on.
    pub async fn start<S: BatchStore>(
        &self,
        store: Arc<S>,
        metrics: Arc<Metrics>,
        environments: &[EnvironmentConfig],
        on_scrape: Option<api::ScrapeHook>,
        tenant: Arc<dyn api::Tenant>,
        stop: watch::Receiver<bool>,
    ) -> Result<JoinHandle<std::io::Result<()>>> {
        let auth = self.auth()?;
        if matches!(auth, Auth::Open) {
            eprintln!("warning: --insecure-no-auth: every caller of the API is an operator");
        }
        let config = self.config(environments)?;
        let readiness = Arc::new(DataverseReady::new(environments)?);
        let mut state = AppState::new(Arc::clone(&store), metrics, auth, config, readiness, stop.clone())
            .with_tenant(tenant);
        if let Some(hook) = on_scrape {
            state = state.with_scrape_hook(hook);
        }
        let listener = tokio::net::TcpListener::bind(self.listen).await.with_context(|| {
            format!("cannot listen on {}: free the port or choose another with --listen", self.listen)
        })?;
        let address = listener.local_addr().context("cannot read the address listened on")?;
        println!("activator api listening on http://{address}");
        if self.retention_days > 0 {
            let keep = Duration::from_secs(self.retention_days.saturating_mul(86_400));
            tokio::spawn(api::delete_expired_batches(
                Arc::clone(&store),
                keep,
                api::RETENTION_SWEEP_EVERY,
                stop.clone(),
            ));
        }
        Ok(tokio::spawn(api::serve(listener, api::router(state), stop)))
    }
}

/// Waits for the API server to stop.
pub async fn finish(server: JoinHandle<std::io::Result<()>>) -> Result<()> {
    server.await.context("the API task failed")?.context("the API server failed")
}
