//! Reading batches: the list and its pages, one batch, its mailboxes.

use crate::support::{addresses, app};
use activator_core::{ItemState, Step};
use axum::http::StatusCode;
use store::{BatchStore, ItemError, Transition};

#[tokio::test]
async fn batches_are_listed_newest_first_in_pages() {
    let app = app().await;
    let mut ids = Vec::new();
    for n in 0..3 {
        ids.push(app.create(&[&format!("u{n}@contoso.com")]).await);
    }
    let first = app.get("/v1/batches?limit=2").await.json();
    let listed: Vec<&str> =
        first["batches"].as_array().unwrap().iter().map(|b| b["id"].as_str().unwrap()).collect();
    assert_eq!(listed, vec![ids[2].as_str(), ids[1].as_str()]);
    assert_eq!(first["next"], ids[1].as_str());
    let second = app.get(&format!("/v1/batches?limit=2&before={}", ids[1])).await.json();
    assert_eq!(second["batches"][0]["id"], ids[0].as_str());
    assert_eq!(second["next"], serde_json::Value::Null);
    let all = app.get("/v1/batches").await.json();
    assert_eq!(all["batches"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn bad_list_queries_are_400() {
    let app = app().await;
    for query in ["limit=0", "limit=201", "limit=x", "before=nope", "colour=blue"] {
        app.get(&format!("/v1/batches?{query}")).await.error(StatusCode::BAD_REQUEST, "bad_request");
    }
}

#[tokio::test]
async fn one_batch_shows_its_progress_and_unknown_ids_are_404() {
    let app = app().await;
    let id = app.create(&["a@contoso.com", "b@contoso.com"]).await;
    let answer = app.get(&format!("/v1/batches/{id}")).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(answer.json()["total"], 2);
    app.get("/v1/batches/6f9619ff-8b86-d011-b42d-00cf4fc964ff")
        .await
        .error(StatusCode::NOT_FOUND, "not_found");
    app.get("/v1/batches/not-an-id").await.error(StatusCode::NOT_FOUND, "not_found");
    app.get("/v1/batches/not-an-id/mailboxes").await.error(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn mailboxes_are_paged_by_cursor_and_filtered_by_state_with_their_errors() {
    let app = app().await;
    let list = addresses(5);
    let refs: Vec<&str> = list.iter().map(String::as_str).collect();
    let id = app.create(&refs).await;
    let batch_id = id.parse().unwrap();
    for index in [1, 3] {
        let t = Transition {
            index,
            from: ItemState::Pending,
            from_step: Some(Step::Approve),
            to: ItemState::Failed,
            step: Some(Step::Approve),
            attempts: 2,
            due_at: None,
            error: Some(ItemError {
                code: "not_found".into(),
                message: "gone".into(),
                remedy: Some("check it".into()),
            }),
            mailbox_id: None,
            outcome: None,
        };
        assert!(app.store.transition(batch_id, t, store::clock::now()).await.unwrap());
    }
    let page = app.get(&format!("/v1/batches/{id}/mailboxes?limit=2")).await.json();
    assert_eq!(page["mailboxes"].as_array().unwrap().len(), 2);
    assert_eq!(page["mailboxes"][0]["mailbox"], "user0@contoso.com");
    assert_eq!(page["mailboxes"][0]["error"], serde_json::Value::Null);
    assert_eq!(page["next_cursor"], "1");
    let page = app.get(&format!("/v1/batches/{id}/mailboxes?limit=2&cursor=1")).await.json();
    assert_eq!(page["mailboxes"][0]["index"], 2);

    let failed = app.get(&format!("/v1/batches/{id}/mailboxes?state=failed")).await.json();
    let failed = failed["mailboxes"].as_array().unwrap();
    assert_eq!(failed.iter().map(|m| m["index"].as_u64().unwrap()).collect::<Vec<_>>(), vec![1, 3]);
    assert_eq!(failed[0]["state"], "failed");
    assert_eq!(failed[0]["step"], "approve");
    assert_eq!(failed[0]["attempts"], 2);
    assert_eq!(
        failed[0]["error"],
        serde_json::json!({"code": "not_found", "message": "gone", "remedy": "check it"})
    );
    let view = app.get(&format!("/v1/batches/{id}")).await.json();
    assert_eq!(view["counts"]["failed"], 2);
    assert_eq!(view["finished"], 2);
    assert!(view["rate_per_sec"].as_f64().is_some_and(|r| r > 0.0), "{view}");
    assert!(view["eta_secs"].as_f64().is_some(), "{view}");

    for query in ["state=broken", "limit=0", "limit=1001", "cursor=-1"] {
        app.get(&format!("/v1/batches/{id}/mailboxes?{query}"))
            .await
            .error(StatusCode::BAD_REQUEST, "bad_request");
    }
}
