//! The HTTP API of activator (`/v1`, JSON): create batches (JSON or CSV), follow their
//! progress (also as server-sent events), read per-mailbox results, pause, resume, cancel and
//! retry; plus `/healthz`, `/readyz`, `/metrics` and `/openapi.json`. The contract is
//! `docs/openapi.json`; errors all share one JSON shape ([`api_error`]).
//!
//! The router is generic over the store; [`serve`] runs it until a stop signal.

pub mod api_error;
pub mod auth;
pub mod batch_actions;
pub mod batch_request;
pub mod batches;
pub mod create_batch;
pub mod events;
pub mod metrics_endpoint;
pub mod openapi;
pub mod ops;
pub mod plans;
mod query;
pub mod retention;
pub mod state;
pub mod store_gauges;
pub mod tenant;
pub mod views;

pub use auth::{Auth, Role};
pub use metrics_endpoint::{MetricsSource, ScrapeHook, metrics_router};
pub use ops::{AlwaysReady, Readiness};
pub use retention::{RETENTION_SWEEP_EVERY, delete_expired_batches};
pub use state::{ApiConfig, AppState};
pub use tenant::{NoTenant, Tenant, TenantError};

use api_error::ApiError;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use store::BatchStore;
use tokio::sync::watch;

/// Ends a request that takes longer than the configured timeout with a 408.
async fn time_limit<S: BatchStore>(State(state): State<AppState<S>>, req: Request, next: Next) -> Response {
    let limit = state.config.request_timeout;
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => ApiError::Timeout(format!(
            "the request took longer than {} s and was stopped: try again (a very large batch may need \
             a longer --request-timeout-secs)",
            limit.as_secs_f64()
        ))
        .into_response(),
    }
}

/// Every route of the API.
pub fn router<S: BatchStore>(state: AppState<S>) -> Router {
    let timed = from_fn_with_state(state.clone(), time_limit::<S>);
    let v1 = Router::new()
        .route("/v1/batches", get(batches::list_batches::<S>).post(create_batch::create_batch::<S>))
        .route("/v1/plans", post(plans::create_plan::<S>))
        .route("/v1/batches/{id}", get(batches::get_batch::<S>).delete(batch_actions::delete::<S>))
        .route("/v1/batches/{id}/mailboxes", get(batches::list_mailboxes::<S>))
        .route("/v1/batches/{id}/pause", post(batch_actions::pause::<S>))
        .route("/v1/batches/{id}/resume", post(batch_actions::resume::<S>))
        .route("/v1/batches/{id}/cancel", post(batch_actions::cancel::<S>))
        .route("/v1/batches/{id}/retry", post(batch_actions::retry::<S>))
        .route_layer(timed.clone())
        // Added after the time limit, which does not apply to a stream.
        .route("/v1/batches/{id}/events", get(events::events::<S>))
        .route_layer(from_fn_with_state(state.clone(), auth::require_role::<S>));
    let open = Router::new()
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz::<S>))
        .route("/metrics", get(ops::metrics::<S>))
        .route("/openapi.json", get(openapi::openapi_json))
        .route_layer(timed);
    Router::new()
        .merge(v1)
        .merge(open)
        .fallback(api_error::not_found)
        .method_not_allowed_fallback(api_error::method_not_allowed)
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
        .with_state(state)
}

/// Serves `router` on `listener` until `stop` turns true, then lets requests under way finish
/// (event streams end with the stop signal too).
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    mut stop: watch::Receiver<bool>,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(async move {
            let _ = stop.wait_for(|s| *s).await;
        })
        .await
}
