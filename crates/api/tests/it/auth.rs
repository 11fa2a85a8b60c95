//! Bearer tokens: who may read, who may write, which endpoints are open.

use crate::support::{OPERATOR, VIEWER, app, app_with, config, request};
use api::Auth;
use axum::body::Body;
use axum::http::{StatusCode, header};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::sync::Arc;

fn create(token: Option<&str>) -> axum::http::Request<Body> {
    request("POST", "/v1/batches", token)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(json!({"mailboxes": ["a@contoso.com"], "steps": ["approve"]}).to_string()))
        .expect("request")
}

fn get(path: &str, token: Option<&str>) -> axum::http::Request<Body> {
    request("GET", path, token).body(Body::empty()).expect("request")
}

#[tokio::test]
async fn a_missing_or_unknown_token_is_401_with_a_bearer_challenge() {
    let app = app().await;
    for token in [None, Some("wrong")] {
        for req in [get("/v1/batches", token), create(token)] {
            let answer = app.send(req).await;
            answer.error(StatusCode::UNAUTHORIZED, "unauthorized");
            assert_eq!(answer.headers[header::WWW_AUTHENTICATE], "Bearer");
        }
    }
    let basic = request("GET", "/v1/batches", None)
        .header(header::AUTHORIZATION, format!("Basic {OPERATOR}"))
        .body(Body::empty())
        .expect("request");
    app.send(basic).await.error(StatusCode::UNAUTHORIZED, "unauthorized");
    assert_eq!(app.batch_count().await, 0);
}

#[tokio::test]
async fn a_viewer_may_read_but_not_write() {
    let app = app().await;
    let answer = app.send(create(Some(VIEWER))).await;
    answer.error(StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(app.batch_count().await, 0);
    let id = app.create(&["a@contoso.com"]).await;
    for path in
        ["/v1/batches".to_string(), format!("/v1/batches/{id}"), format!("/v1/batches/{id}/mailboxes")]
    {
        let answer = app.send(get(&path, Some(VIEWER))).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}: {}", answer.text);
    }
    let pause =
        request("POST", &format!("/v1/batches/{id}/pause"), Some(VIEWER)).body(Body::empty()).expect("req");
    app.send(pause).await.error(StatusCode::FORBIDDEN, "forbidden");
}

#[tokio::test]
async fn an_operator_may_write() {
    let app = app().await;
    let answer = app.send(create(Some(OPERATOR))).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.text);
}

#[tokio::test]
async fn a_token_configured_by_its_sha256_digest_works() {
    let digest: String = Sha256::digest(b"hashed-op").iter().map(|b| format!("{b:02x}")).collect();
    let auth = Auth::from_config(Some(&format!("operator:sha256:{digest}")), false).expect("tokens");
    let app = app_with(config(), auth, Arc::new(api::AlwaysReady)).await;
    assert_eq!(app.send(create(Some("hashed-op"))).await.status, StatusCode::ACCEPTED);
    app.send(create(Some(&digest))).await.error(StatusCode::UNAUTHORIZED, "unauthorized");
}

#[tokio::test]
async fn open_endpoints_need_no_token() {
    let app = app().await;
    for path in ["/healthz", "/readyz", "/metrics", "/openapi.json"] {
        let answer = app.send(get(path, None)).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}: {}", answer.text);
    }
}

#[tokio::test]
async fn without_auth_every_caller_is_an_operator() {
    let app =
        app_with(config(), Auth::from_config(None, true).expect("open"), Arc::new(api::AlwaysReady)).await;
    assert_eq!(app.send(create(None)).await.status, StatusCode::ACCEPTED);
}
