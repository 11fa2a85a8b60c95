//! `/metrics` and `/healthz` of `activator worker`. Each scrape first refreshes the gauges
//! read from the store (queue jobs, oldest waiting age, mailboxes of active batches) and from
//! the limiters (budget left per application user), then renders the whole catalogue.

use axum::Router;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;
use dataverse::Dataverse;
use metrics::Metrics;
use pipeline::{clock, request_metrics, store_gauges};
use std::net::SocketAddr;
use std::sync::Arc;
use store::BatchStore;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// What a scrape reads.
#[derive(Debug)]
pub struct Sources<S> {
    pub store: Arc<S>,
    pub dataverse: Arc<Dataverse>,
    pub metrics: Arc<Metrics>,
}

/// The text format's content type.
const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Listens on `listen` (a port of 0 picks a free one) and serves until the task is aborted.
/// Returns the bound address and the serving task.
pub async fn start<S: BatchStore>(
    listen: &str,
    sources: Sources<S>,
) -> anyhow::Result<(SocketAddr, JoinHandle<()>)> {
    use anyhow::Context;
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen for /metrics on {listen}: check --metrics-listen"))?;
    let addr = listener.local_addr()?;
    let app = Router::new()
        .route("/metrics", get(scrape::<S>))
        .route("/healthz", get(|| async { "ok\n" }))
        .with_state(Arc::new(sources));
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "the /metrics server stopped");
        }
    });
    Ok((addr, task))
}

async fn scrape<S: BatchStore>(State(sources): State<Arc<Sources<S>>>) -> impl IntoResponse {
    if let Err(e) = store_gauges::refresh(&*sources.store, &sources.metrics, clock::now()).await {
        tracing::warn!(error = %e, "cannot read the store for the queue gauges; they keep their last values");
    }
    request_metrics::refresh_budgets(&sources.dataverse, &sources.metrics);
    ([(CONTENT_TYPE, TEXT_FORMAT)], sources.metrics.render())
}
