//! Server-sent events: progress at once, then on change, and `end` once the batch completes.

use crate::support::{OPERATOR, app, request};
use activator_core::{BatchState, ItemState, Step};
use axum::body::Body;
use axum::http::{StatusCode, header};
use http_body_util::BodyExt;
use serde_json::Value;
use std::time::Duration;
use store::{BatchStore, Transition};
use tower::ServiceExt;

/// Reads events off an SSE body.
struct Events {
    body: Body,
    buffer: String,
}

impl Events {
    /// The next event (name, data), or None when the stream closed; fails after 10 s.
    async fn next(&mut self) -> Option<(String, Value)> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut name = String::new();
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        name = v.trim().to_string();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim());
                    }
                }
                if name.is_empty() {
                    continue; // a keep-alive comment
                }
                return Some((name, serde_json::from_str(&data).unwrap()));
            }
            let frame = tokio::time::timeout(Duration::from_secs(10), self.body.frame())
                .await
                .expect("an event within 10 s");
            match frame {
                None => return None,
                Some(frame) => {
                    if let Ok(bytes) = frame.unwrap().into_data() {
                        self.buffer.push_str(&String::from_utf8_lossy(&bytes));
                    }
                }
            }
        }
    }
}

#[tokio::test]
async fn the_stream_sends_progress_and_ends_when_the_batch_completes() {
    let app = app().await;
    let id = app.create(&["a@contoso.com", "b@contoso.com"]).await;
    let batch = id.parse().unwrap();
    let req =
        request("GET", &format!("/v1/batches/{id}/events"), Some(OPERATOR)).body(Body::empty()).unwrap();
    let response = app.router.clone().oneshot(req).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/event-stream"));
    let mut events = Events { body: response.into_body(), buffer: String::new() };

    let (name, view) = events.next().await.expect("a first event");
    assert_eq!((name.as_str(), view["counts"]["pending"].as_u64()), ("progress", Some(2)));

    let finish = |index: u32| Transition {
        index,
        from: ItemState::Pending,
        from_step: Some(Step::Approve),
        to: ItemState::Done,
        step: Some(Step::Approve),
        attempts: 0,
        due_at: None,
        error: None,
        mailbox_id: None,
        outcome: None,
    };
    assert!(app.store.transition(batch, finish(0), store::clock::now()).await.unwrap());
    let (name, view) = events.next().await.expect("progress after a change");
    assert_eq!((name.as_str(), view["counts"]["done"].as_u64()), ("progress", Some(1)));

    assert!(app.store.transition(batch, finish(1), store::clock::now()).await.unwrap());
    let now = store::clock::now();
    assert!(app.store.set_batch_state(batch, BatchState::Running, BatchState::Completed, now).await.unwrap());
    let mut last = None;
    while let Some((name, view)) = events.next().await {
        last = Some((name, view));
    }
    let (name, view) = last.expect("an end event");
    assert_eq!(name, "end");
    assert_eq!((view["state"].as_str(), view["finished"].as_u64()), (Some("completed"), Some(2)));
}

#[tokio::test]
async fn a_stream_of_an_unknown_batch_is_404_and_streams_end_when_the_process_stops() {
    let app = app().await;
    let answer = app.get("/v1/batches/6f9619ff-8b86-d011-b42d-00cf4fc964ff/events").await;
    answer.error(StatusCode::NOT_FOUND, "not_found");
    let id = app.create(&["a@contoso.com"]).await;
    let req =
        request("GET", &format!("/v1/batches/{id}/events"), Some(OPERATOR)).body(Body::empty()).unwrap();
    let response = app.router.clone().oneshot(req).await.unwrap();
    let mut events = Events { body: response.into_body(), buffer: String::new() };
    assert_eq!(events.next().await.expect("first").0, "progress");
    app.stop.send(true).unwrap();
    assert!(events.next().await.is_none(), "the stream closes on stop");
}
