//! Control over HTTP: pause, resume, cancel, retry, delete, and the states that refuse them (409).

use crate::support::{OPERATOR, VIEWER, app};
use activator_core::{BatchState, ItemState, Step};
use axum::http::StatusCode;
use store::{BatchStore, Transition};

#[tokio::test]
async fn pause_resume_and_cancel_answer_the_batch_and_refuse_what_its_state_forbids() {
    let app = app().await;
    let id = app.create(&["a@contoso.com"]).await;
    let call = |action: &str| format!("/v1/batches/{id}/{action}");
    for (action, state) in
        [("pause", "paused"), ("pause", "paused"), ("resume", "running"), ("resume", "running")]
    {
        let answer = app.post(&call(action)).await;
        assert_eq!(answer.status, StatusCode::OK, "{action}: {}", answer.text);
        assert_eq!(answer.json()["batch"]["state"], state, "{action}");
        assert!(answer.json().get("retried").is_none());
    }
    assert_eq!(app.post(&call("cancel")).await.json()["batch"]["state"], "cancelled");
    assert_eq!(app.post(&call("cancel")).await.status, StatusCode::OK, "cancel again");
    for action in ["pause", "resume", "retry"] {
        let error = app.post(&call(action)).await.error(StatusCode::CONFLICT, "conflict");
        assert!(error["message"].as_str().is_some_and(|m| m.contains("cancelled")), "{error}");
    }
    app.post("/v1/batches/6f9619ff-8b86-d011-b42d-00cf4fc964ff/pause")
        .await
        .error(StatusCode::NOT_FOUND, "not_found");
    app.get(&call("pause")).await.error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
}

#[tokio::test]
async fn retry_brings_failed_mailboxes_back_and_reopens_a_completed_batch() {
    let app = app().await;
    let id = app.create(&["a@contoso.com", "b@contoso.com"]).await;
    let batch = id.parse().unwrap();
    for (index, to) in [(0, ItemState::Failed), (1, ItemState::Done)] {
        let t = Transition {
            index,
            from: ItemState::Pending,
            from_step: Some(Step::Approve),
            to,
            step: Some(Step::Approve),
            attempts: 1,
            due_at: None,
            error: None,
            mailbox_id: None,
            outcome: None,
        };
        assert!(app.store.transition(batch, t, store::clock::now()).await.unwrap());
    }
    let now = store::clock::now();
    assert!(app.store.set_batch_state(batch, BatchState::Running, BatchState::Completed, now).await.unwrap());
    for action in ["pause", "resume", "cancel"] {
        app.post(&format!("/v1/batches/{id}/{action}")).await.error(StatusCode::CONFLICT, "conflict");
    }
    let answer = app.post(&format!("/v1/batches/{id}/retry")).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let json = answer.json();
    assert_eq!(json["retried"], 1);
    assert_eq!(json["batch"]["state"], "running");
    assert_eq!(json["batch"]["counts"]["pending"], 1);
}

#[tokio::test]
async fn delete_removes_a_finished_batch_and_refuses_a_running_one_or_a_viewer() {
    let app = app().await;
    let kept = app.create(&["a@contoso.com"]).await;
    let id = app.create(&["b@contoso.com", "c@contoso.com"]).await;
    let path = format!("/v1/batches/{id}");
    let error = app.delete(&path, OPERATOR).await.error(StatusCode::CONFLICT, "conflict");
    assert!(
        error["message"].as_str().is_some_and(|m| m.contains("running") && m.contains("cancel it first")),
        "{error}"
    );
    app.post(&format!("{path}/cancel")).await;
    app.delete(&path, VIEWER).await.error(StatusCode::FORBIDDEN, "forbidden");
    let answer = app.delete(&path, OPERATOR).await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.text);
    assert!(answer.text.is_empty());
    app.get(&path).await.error(StatusCode::NOT_FOUND, "not_found");
    app.get(&format!("{path}/mailboxes")).await.error(StatusCode::NOT_FOUND, "not_found");
    app.delete(&path, OPERATOR).await.error(StatusCode::NOT_FOUND, "not_found");
    assert_eq!(app.batch_count().await, 1);
    assert_eq!(app.get(&format!("/v1/batches/{kept}")).await.status, StatusCode::OK);
}
