//! `/metrics` (Prometheus text) and `/healthz`, served from one place: the API mounts them
//! beside `/v1`, and `activator worker` serves [`metrics_router`] alone on its own address.
//! Each scrape first refreshes the gauges read from the store (queue jobs, oldest waiting age,
//! mailboxes of active batches), then whatever the process alone knows (the budgets of its
//! limiters, through a [`ScrapeHook`]), then renders the whole catalogue.

use crate::ops;
use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use metrics::Metrics;
use std::sync::Arc;
use store::BatchStore;

/// Refreshes gauges this process alone knows (e.g. its limiters' budgets) before a scrape.
pub type ScrapeHook = Arc<dyn Fn(&Metrics) + Send + Sync>;

/// The text format's content type.
const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// What a scrape reads.
pub struct MetricsSource<S> {
    pub store: Arc<S>,
    pub metrics: Arc<Metrics>,
    pub on_scrape: Option<ScrapeHook>,
}

impl<S> Clone for MetricsSource<S> {
    fn clone(&self) -> Self {
        MetricsSource {
            store: Arc::clone(&self.store),
            metrics: Arc::clone(&self.metrics),
            on_scrape: self.on_scrape.clone(),
        }
    }
}

impl<S> std::fmt::Debug for MetricsSource<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsSource").field("on_scrape", &self.on_scrape.is_some()).finish_non_exhaustive()
    }
}

impl<S: BatchStore> MetricsSource<S> {
    /// The Prometheus text of this process's metrics, with the store's gauges read first
    /// (every process reading the store reports the same values).
    pub async fn render(&self) -> String {
        let now = store::clock::now();
        if let Err(e) = crate::store_gauges::refresh(&*self.store, &self.metrics, now).await {
            tracing::warn!(error = %e, "cannot read the store for the queue gauges; they keep their last values");
        }
        if let Some(hook) = &self.on_scrape {
            hook(&self.metrics);
        }
        self.metrics.render()
    }
}

/// The answer to a scrape.
pub(crate) async fn scrape<S: BatchStore>(source: &MetricsSource<S>) -> impl IntoResponse + use<S> {
    ([(header::CONTENT_TYPE, TEXT_FORMAT)], source.render().await)
}

/// `/metrics` and `/healthz` alone, for a process that serves no API (`activator worker`).
pub fn metrics_router<S: BatchStore>(source: MetricsSource<S>) -> Router {
    Router::new()
        .route("/metrics", get(|State(source): State<MetricsSource<S>>| async move { scrape(&source).await }))
        .route("/healthz", get(ops::healthz))
        .with_state(source)
}
