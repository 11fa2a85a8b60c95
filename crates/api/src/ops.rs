//! The endpoints for operations, open without a token: liveness (`/healthz`), readiness
//! (`/readyz`: the store answers and Dataverse gives a token, the latter checked at most every
//! few seconds), and the Prometheus metrics (`/metrics`).

use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use store::BatchStore;
use tokio::sync::Mutex;
use utoipa::ToSchema;

/// Whether the environments can be worked on (say, Dataverse gives a token and answers
/// WhoAmI). The error says what is wrong and what to do.
pub trait Readiness: Send + Sync + 'static {
    fn check(&self) -> BoxFuture<'_, Result<(), String>>;
}

/// A readiness check whose result is reused for a while, so probes do not spend Dataverse's
/// request budget.
pub struct CachedReadiness {
    inner: Arc<dyn Readiness>,
    ttl: Duration,
    last: Mutex<Option<(Instant, Result<(), String>)>>,
}

impl std::fmt::Debug for CachedReadiness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedReadiness").field("ttl", &self.ttl).finish_non_exhaustive()
    }
}

impl CachedReadiness {
    pub fn new(inner: Arc<dyn Readiness>, ttl: Duration) -> CachedReadiness {
        CachedReadiness { inner, ttl, last: Mutex::new(None) }
    }

    /// The last result if it is recent, else a new one (one check at a time).
    pub async fn check(&self) -> Result<(), String> {
        let mut last = self.last.lock().await;
        if let Some((at, result)) = last.as_ref()
            && at.elapsed() < self.ttl
        {
            return result.clone();
        }
        let result = self.inner.check().await;
        *last = Some((Instant::now(), result.clone()));
        result
    }
}

/// A readiness check that always passes (for a process with nothing outside to check).
#[derive(Debug, Clone, Copy)]
pub struct AlwaysReady;

impl Readiness for AlwaysReady {
    fn check(&self) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async { Ok(()) })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// Always "ok".
    pub status: String,
}

/// One check of readiness.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CheckResult {
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReadyReport {
    /// "ready" or "not_ready".
    pub status: String,
    /// `store` and `dataverse`.
    pub checks: BTreeMap<String, CheckResult>,
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "The process is alive", body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health { status: "ok".into() })
}

/// Readiness: the store answers and Dataverse gives a token (checked at most every 10 s).
#[utoipa::path(get, path = "/readyz", tag = "operations", responses(
    (status = 200, description = "Ready to take batches", body = ReadyReport),
    (status = 503, description = "Not ready; the failing checks say why", body = ReadyReport)))]
pub async fn readyz<S: BatchStore>(State(state): State<AppState<S>>) -> impl IntoResponse {
    let store = match state.store.list_batches(None, 1).await {
        Ok(_) => CheckResult { ok: true, error: None },
        Err(e) => CheckResult { ok: false, error: Some(e.to_string()) },
    };
    let dataverse = match state.readiness.check().await {
        Ok(()) => CheckResult { ok: true, error: None },
        Err(e) => CheckResult { ok: false, error: Some(e) },
    };
    let ready = store.ok && dataverse.ok;
    let report = ReadyReport {
        status: if ready { "ready" } else { "not_ready" }.into(),
        checks: BTreeMap::from([("store".to_string(), store), ("dataverse".to_string(), dataverse)]),
    };
    (if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE }, Json(report))
}

/// Prometheus metrics (text format 0.0.4).
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text format 0.0.4", body = String, content_type = "text/plain")))]
pub async fn metrics<S: BatchStore>(State(state): State<AppState<S>>) -> impl IntoResponse {
    crate::metrics_endpoint::scrape(&state.metrics_source()).await
}
