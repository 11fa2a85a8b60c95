//! A router on a real SQLite store in a temp file, and requests with the test tokens.

use api::{ApiConfig, AppState, Auth, Readiness};
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt;
use metrics::Metrics;
use serde_json::Value;
use std::sync::Arc;
use store::SqliteStore;
use testkit::TempDb;
use tokio::sync::watch;
use tower::ServiceExt;

pub const OPERATOR: &str = "op-secret";
pub const VIEWER: &str = "view-secret";

pub struct TestApp {
    pub router: Router,
    pub store: Arc<SqliteStore>,
    pub metrics: Arc<Metrics>,
    pub stop: watch::Sender<bool>,
    _db: TempDb,
}

/// The answer to one request.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    /// Checks the status and the error shape; returns the error object.
    pub fn error(&self, status: StatusCode, code: &str) -> Value {
        assert_eq!(self.status, status, "{}", self.text);
        let body = self.json();
        assert_eq!(body["error"]["code"], code, "{body}");
        assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
        body["error"].clone()
    }
}

pub fn config() -> ApiConfig {
    let mut config = ApiConfig::new(vec!["default".to_string()]);
    config.events_every = std::time::Duration::from_millis(20);
    config
}

pub fn tokens() -> Auth {
    Auth::from_config(Some(&format!("operator:{OPERATOR},viewer:{VIEWER}")), false).expect("tokens")
}

pub async fn app() -> TestApp {
    app_with(config(), tokens(), Arc::new(api::AlwaysReady)).await
}

pub async fn app_with(config: ApiConfig, auth: Auth, readiness: Arc<dyn Readiness>) -> TestApp {
    let db = TempDb::new("api");
    let store = Arc::new(SqliteStore::open(&db.0).await.expect("store opens"));
    let metrics = Arc::new(Metrics::new());
    let (stop, stop_rx) = watch::channel(false);
    let state = AppState::new(Arc::clone(&store), Arc::clone(&metrics), auth, config, readiness, stop_rx);
    TestApp { router: api::router(state), store, metrics, stop, _db: db }
}

impl TestApp {
    pub async fn send(&self, req: Request<Body>) -> Answer {
        let response = self.router.clone().oneshot(req).await.expect("infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        Answer { status, headers, text: String::from_utf8_lossy(&bytes).into_owned() }
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.send(request("GET", path, Some(OPERATOR)).body(Body::empty()).expect("request")).await
    }

    pub async fn post(&self, path: &str) -> Answer {
        self.send(request("POST", path, Some(OPERATOR)).body(Body::empty()).expect("request")).await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Answer {
        self.send(request("DELETE", path, Some(token)).body(Body::empty()).expect("request")).await
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Answer {
        let req = request("POST", path, Some(OPERATOR))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .expect("request");
        self.send(req).await
    }

    /// Creates a batch of `mailboxes` (approve only); returns its id.
    pub async fn create(&self, mailboxes: &[&str]) -> String {
        let answer = self
            .post_json("/v1/batches", &serde_json::json!({"mailboxes": mailboxes, "steps": ["approve"]}))
            .await;
        assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.text);
        answer.json()["batch"]["id"].as_str().expect("id").to_string()
    }

    /// How many batches the store holds.
    pub async fn batch_count(&self) -> usize {
        use store::BatchStore;
        self.store.list_batches(None, 1_000).await.expect("list").len()
    }
}

/// A request builder with the bearer token, if any.
pub fn request(method: &str, path: &str, token: Option<&str>) -> axum::http::request::Builder {
    let builder = Request::builder().method(method).uri(path);
    match token {
        Some(t) => builder.header(header::AUTHORIZATION, format!("Bearer {t}")),
        None => builder,
    }
}

/// `n` distinct addresses.
pub fn addresses(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("user{i}@contoso.com")).collect()
}
