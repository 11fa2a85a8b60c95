//! What every handler shares: the store, the metrics, who may call, the limits of requests,
//! the readiness check, and the stop signal that ends open event streams on shutdown.
//!
//! The store trait is generic (its methods return `impl Future`), so the state and the router
//! are generic over the store rather than holding a trait object.

use crate::auth::Auth;
use crate::metrics_endpoint::{MetricsSource, ScrapeHook};
use crate::ops::{CachedReadiness, Readiness};
use crate::tenant::{NoTenant, Tenant};
use metrics::Metrics;
use std::sync::Arc;
use std::time::Duration;
use store::BatchStore;
use tokio::sync::watch;

/// The limits and choices of one API process.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Environments a batch may name; the first is the default when there is only one.
    pub environments: Vec<String>,
    /// Most mailboxes in one batch.
    pub max_mailboxes: usize,
    /// Largest request body, in bytes.
    pub max_body_bytes: usize,
    /// Longest a request may take (event streams excepted).
    pub request_timeout: Duration,
    /// Shortest time between two progress events of one stream.
    pub events_every: Duration,
    /// Time between keep-alive comments of an event stream.
    pub keep_alive: Duration,
    /// How long a readiness result is reused.
    pub readiness_ttl: Duration,
}

impl ApiConfig {
    pub const DEFAULT_MAX_MAILBOXES: usize = 100_000;
    pub const DEFAULT_MAX_BODY_BYTES: usize = 16 * 1024 * 1024;
    pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

    /// The defaults of the contract, for these environments.
    pub fn new(environments: Vec<String>) -> ApiConfig {
        ApiConfig {
            environments,
            max_mailboxes: Self::DEFAULT_MAX_MAILBOXES,
            max_body_bytes: Self::DEFAULT_MAX_BODY_BYTES,
            request_timeout: Self::DEFAULT_REQUEST_TIMEOUT,
            events_every: Duration::from_millis(500),
            keep_alive: Duration::from_secs(15),
            readiness_ttl: Duration::from_secs(10),
        }
    }
}

pub struct AppState<S> {
    pub store: Arc<S>,
    pub metrics: Arc<Metrics>,
    pub auth: Arc<Auth>,
    pub config: Arc<ApiConfig>,
    pub readiness: Arc<CachedReadiness>,
    /// Turns true when the process stops; open event streams end then.
    pub stop: watch::Receiver<bool>,
    pub on_scrape: Option<ScrapeHook>,
    /// Dataverse's side: selections and plans.
    pub tenant: Arc<dyn Tenant>,
}

impl<S> std::fmt::Debug for AppState<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").field("config", &self.config).finish_non_exhaustive()
    }
}

impl<S> Clone for AppState<S> {
    fn clone(&self) -> Self {
        AppState {
            store: Arc::clone(&self.store),
            metrics: Arc::clone(&self.metrics),
            auth: Arc::clone(&self.auth),
            config: Arc::clone(&self.config),
            readiness: Arc::clone(&self.readiness),
            stop: self.stop.clone(),
            on_scrape: self.on_scrape.clone(),
            tenant: Arc::clone(&self.tenant),
        }
    }
}

impl<S: BatchStore> AppState<S> {
    pub fn new(
        store: Arc<S>,
        metrics: Arc<Metrics>,
        auth: Auth,
        config: ApiConfig,
        readiness: Arc<dyn Readiness>,
        stop: watch::Receiver<bool>,
    ) -> AppState<S> {
        let readiness = Arc::new(CachedReadiness::new(readiness, config.readiness_ttl));
        AppState {
            store,
            metrics,
            auth: Arc::new(auth),
            config: Arc::new(config),
            readiness,
            stop,
            on_scrape: None,
            tenant: Arc::new(NoTenant),
        }
    }

    /// Reads Dataverse through `tenant` for selections and plans.
    pub fn with_tenant(mut self, tenant: Arc<dyn Tenant>) -> AppState<S> {
        self.tenant = tenant;
        self
    }

    /// Calls `hook` before each scrape of /metrics, after the store gauges are refreshed.
    pub fn with_scrape_hook(mut self, hook: ScrapeHook) -> AppState<S> {
        self.on_scrape = Some(hook);
        self
    }

    /// What `/metrics` reads.
    pub fn metrics_source(&self) -> MetricsSource<S> {
        MetricsSource {
            store: Arc::clone(&self.store),
            metrics: Arc::clone(&self.metrics),
            on_scrape: self.on_scrape.clone(),
        }
    }
}
