//! The CLI client against a small stand-in for the API's transport (the real API is tested
//! end to end elsewhere): `activator watch` opens the event stream again after it drops, and
//! exits by the final view; `activator submit` shows the API's problems and exits 2.

use axum::Router;
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::StreamExt;
use futures_util::stream;
use serde_json::{Value, json};
use std::process::Output;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Longest a command may take here before the test fails (it normally takes well under 2 s).
const BOUND: Duration = Duration::from_secs(60);

#[derive(Default)]
struct Api {
    /// Failed mailboxes in the final view.
    failed: u64,
    connections: AtomicUsize,
    /// Content type, query and body of each POST /v1/batches.
    submissions: Mutex<Vec<(String, String, String)>>,
    /// The status and body to answer a submission with.
    submit_answer: Option<(StatusCode, Value)>,
}

fn view(state: &str, done: u64, failed: u64) -> Value {
    json!({
        "id": "b1", "environment": "default", "steps": ["approve", "deploy_app"], "state": state,
        "total": 4, "created_at": "2026-11-28T13:05:00Z", "updated_at": "2026-11-28T13:05:01Z",
        "counts": {"pending": 4 - done - failed, "done": done, "failed": failed},
        "by_step": {"approve": {"pending": 4 - done - failed, "failed": failed}, "deploy_app": {"done": done}},
        "finished": done + failed, "rate_per_sec": null, "eta_secs": null, "throttled": 0,
        "a_field_from_the_future": true
    })
}

fn event(name: &str, data: &Value) -> String {
    format!(": keep-alive\r\nevent: {name}\r\ndata: {data}\r\n\r\n")
}

/// First connection: one progress event, then the connection breaks. Later ones: progress, end.
async fn events(State(api): State<Arc<Api>>) -> Response {
    let n = api.connections.fetch_add(1, Ordering::SeqCst);
    let body = if n == 0 {
        let first = stream::once(async { Ok(event("progress", &view("running", 1, 0))) });
        // Pending once, so that the server sends the event before it breaks the connection.
        let drop = stream::once(async {
            tokio::task::yield_now().await;
            Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "dropped by the test"))
        });
        Body::from_stream(first.chain(drop))
    } else {
        let last = view("completed", 4 - api.failed, api.failed);
        let chunks =
            [Ok::<_, std::io::Error>(event("progress", &view("running", 2, 0))), Ok(event("end", &last))];
        Body::from_stream(stream::iter(chunks))
    };
    ([(header::CONTENT_TYPE, "text/event-stream")], body).into_response()
}

async fn submit(
    State(api): State<Arc<Api>>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: String,
) -> Response {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    api.submissions.lock().expect("lock").push((content_type.into(), q.unwrap_or_default(), body));
    let (status, body) = api.submit_answer.clone().unwrap_or((StatusCode::INTERNAL_SERVER_ERROR, json!({})));
    (status, axum::Json(body)).into_response()
}

async fn serve(api: Arc<Api>) -> (String, Arc<Api>) {
    let app = Router::new()
        .route("/v1/batches/{id}/events", get(events))
        .route("/v1/batches", post(submit))
        .with_state(Arc::clone(&api));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let url = format!("http://{}", listener.local_addr().expect("an address"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, api)
}

async fn activator(args: &[&str]) -> Output {
    let run = tokio::process::Command::new(e2e::binary("activator"))
        .args(args)
        .env_remove("ACTIVATOR_API")
        .env_remove("ACTIVATOR_TOKEN")
        .kill_on_drop(true)
        .output();
    tokio::time::timeout(BOUND, run).await.expect("activator ends in time").expect("activator runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn watch_reconnects_after_the_stream_drops_and_exits_0_when_nothing_failed() {
    let (url, api) = serve(Arc::new(Api::default())).await;
    let out = activator(&["watch", "b1", "--api", &url]).await;
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "stdout: {stdout}\nstderr: {stderr}");
    assert_eq!(api.connections.load(Ordering::SeqCst), 2, "{stderr}");
    let first = stderr.find("progress: 1/4 finished").expect("the first event is shown");
    let reconnect = stderr.find("connecting again in 0.5 s").expect("a reconnection is told");
    let again = stderr.find("progress: 2/4 finished").expect("the view after reconnecting is shown");
    assert!(first < reconnect && reconnect < again, "{stderr}");
    assert!(stdout.starts_with("batch b1 completed: 4/4 finished: done 4"), "{stdout}");
}

#[tokio::test]
async fn watch_exits_1_when_the_final_view_has_failed_mailboxes() {
    let (url, _api) = serve(Arc::new(Api { failed: 1, ..Api::default() })).await;
    let out = activator(&["watch", "b1", "--api", &url]).await;
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "stdout: {stdout}\nstderr: {}", text(&out.stderr));
    assert!(stdout.contains("1 mailboxes failed: `activator failures b1`"), "{stdout}");
}

#[tokio::test]
async fn submit_prints_the_problems_of_a_422_and_exits_2() {
    let body = json!({"error": {"code": "validation_failed", "message": "2 problems in the request; nothing was created",
        "problems": [{"field": "mailboxes", "index": 1, "value": "bob@", "reason": "neither a mailbox id (GUID) nor an email address"},
                     {"field": "steps", "value": "approve", "reason": "an example of a problem without a position"}]}});
    let api = Api { submit_answer: Some((StatusCode::UNPROCESSABLE_ENTITY, body)), ..Api::default() };
    let (url, api) = serve(Arc::new(api)).await;
    let out = activator(&["submit", "a@contoso.com", "bob@", "--steps", "approve", "--api", &url]).await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("2 problems in the request; nothing was created"), "{stderr}");
    assert!(
        stderr.contains("mailboxes index 1 \"bob@\": neither a mailbox id (GUID) nor an email address"),
        "{stderr}"
    );
    assert!(stderr.contains("steps \"approve\": an example of a problem without a position"), "{stderr}");
    let sent = api.submissions.lock().expect("lock").clone();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0, "application/json");
    let sent_body: Value = serde_json::from_str(&sent[0].2).expect("JSON was sent");
    assert_eq!(sent_body, json!({"mailboxes": ["a@contoso.com", "bob@"], "steps": ["approve"]}));
}

#[tokio::test]
async fn submit_sends_a_csv_as_it_is_with_the_query_and_quiet_prints_only_the_id() {
    let answer = json!({"batch": view("running", 0, 0), "created": true, "duplicates": [{"row": 3, "value": "a@b.c", "first": 2}]});
    let api = Api { submit_answer: Some((StatusCode::ACCEPTED, answer)), ..Api::default() };
    let (url, api) = serve(Arc::new(api)).await;
    let dir = std::env::temp_dir().join(format!("activator-client-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a folder");
    let csv = dir.join("mailboxes.csv");
    std::fs::write(&csv, "email\na@b.c\na@b.c\n").expect("a CSV");
    let csv_arg = csv.to_string_lossy().into_owned();
    let args = [
        "submit",
        "--quiet",
        "--csv",
        &csv_arg,
        "--environment",
        "default",
        "--configure-org",
        "--api",
        &url,
    ];
    let out = activator(&args).await;
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "b1\n");
    let sent = api.submissions.lock().expect("lock").clone();
    assert_eq!(
        sent,
        vec![(
            "text/csv".to_string(),
            "steps=approve%2Ctest_and_enable%2Cassign_role%2Cdeploy_app&environment=default&configure_org=true"
                .to_string(),
            "email\na@b.c\na@b.c\n".to_string()
        )]
    );
}

#[tokio::test]
async fn an_unreachable_api_says_what_to_check_and_exits_2() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let url = format!("http://{}", listener.local_addr().expect("an address"));
    drop(listener);
    let out = activator(&["status", "b1", "--api", &url]).await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(&format!("cannot reach the API at {url}")), "{stderr}");
    assert!(stderr.contains("ACTIVATOR_API"), "{stderr}");
}
