//! Health, readiness, metrics, the OpenAPI document, and the error shape of what no handler
//! answers (unknown paths, methods not allowed, timeouts).

use crate::support::{OPERATOR, app, app_with, config, request, tokens};
use api::Readiness;
use axum::body::Body;
use axum::http::{StatusCode, header};
use futures_util::future::BoxFuture;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// Dataverse that cannot be reached; counts the checks.
struct Unreachable(AtomicU32);

impl Readiness for Unreachable {
    fn check(&self) -> BoxFuture<'_, Result<(), String>> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Box::pin(async { Err("cannot get a token: check ACTIVATOR_CLIENT_SECRET".to_string()) })
    }
}

/// A check that never answers.
struct Hanging;

impl Readiness for Hanging {
    fn check(&self) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(std::future::pending())
    }
}

#[tokio::test]
async fn healthz_answers_ok_and_readyz_is_ready_with_both_checks() {
    let app = app().await;
    assert_eq!(app.get("/healthz").await.json(), serde_json::json!({"status": "ok"}));
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status, StatusCode::OK);
    assert_eq!(
        ready.json(),
        serde_json::json!({"status": "ready", "checks": {"store": {"ok": true}, "dataverse": {"ok": true}}})
    );
}

#[tokio::test]
async fn readyz_is_503_when_dataverse_is_not_reachable_and_the_result_is_reused() {
    let check = Arc::new(Unreachable(AtomicU32::new(0)));
    let app = app_with(config(), tokens(), check.clone()).await;
    for _ in 0..2 {
        let answer = app.get("/readyz").await;
        assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
        let json = answer.json();
        assert_eq!(json["status"], "not_ready");
        assert_eq!(json["checks"]["store"]["ok"], true);
        assert_eq!(json["checks"]["dataverse"]["ok"], false);
        assert!(json["checks"]["dataverse"]["error"].as_str().is_some_and(|e| e.contains("token")), "{json}");
    }
    assert_eq!(check.0.load(Ordering::SeqCst), 1, "the second probe reused the first result");
}

#[tokio::test]
async fn metrics_are_prometheus_text_with_created_batches() {
    let app = app().await;
    app.create(&["a@contoso.com"]).await;
    let answer = app.get("/metrics").await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(answer.headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
    assert!(answer.text.contains("activator_batches_created_total 1"), "{}", answer.text);
}

#[tokio::test]
async fn the_openapi_document_is_served() {
    let app = app().await;
    let doc = app.get("/openapi.json").await.json();
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.1")), "{doc}");
    assert!(doc["paths"]["/v1/batches/{id}/events"]["get"].is_object());
}

#[tokio::test]
async fn unknown_paths_and_methods_answer_in_the_error_shape() {
    let app = app().await;
    app.get("/v2/nothing").await.error(StatusCode::NOT_FOUND, "not_found");
    let delete = request("DELETE", "/v1/batches", Some(OPERATOR)).body(Body::empty()).unwrap();
    app.send(delete).await.error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    let post = request("POST", "/healthz", None).body(Body::empty()).unwrap();
    app.send(post).await.error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
}

#[tokio::test]
async fn a_request_over_the_time_limit_is_408() {
    let mut quick = config();
    quick.request_timeout = Duration::from_millis(50);
    let app = app_with(quick, tokens(), Arc::new(Hanging)).await;
    app.get("/readyz").await.error(StatusCode::REQUEST_TIMEOUT, "timeout");
}
