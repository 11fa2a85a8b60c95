//! POST /v1/batches: JSON and CSV, every class of bad input, idempotency.

use crate::support::{OPERATOR, TestApp, addresses, app, app_with, config, request, tokens};
use axum::body::Body;
use axum::http::{StatusCode, header};
use serde_json::{Value, json};
use std::sync::Arc;

async fn post_csv(app: &TestApp, query: &str, csv: &str) -> crate::support::Answer {
    let req = request("POST", &format!("/v1/batches{query}"), Some(OPERATOR))
        .header(header::CONTENT_TYPE, "text/csv; charset=utf-8")
        .body(Body::from(csv.to_string()))
        .expect("request");
    app.send(req).await
}

/// Posts `body` and expects a 422 with nothing created; returns the problems.
async fn rejected(app: &TestApp, body: Value) -> Vec<Value> {
    let answer = app.post_json("/v1/batches", &body).await;
    let error = answer.error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert!(error["message"].as_str().is_some_and(|m| m.contains("nothing was created")), "{error}");
    assert_eq!(app.batch_count().await, 0, "a rejected request created a batch");
    assert_eq!(app.metrics.batches_created_total.get(), 0);
    error["problems"].as_array().expect("problems").clone()
}

#[tokio::test]
async fn a_json_batch_is_created_with_202_location_and_its_view() {
    let app = app().await;
    let body = json!({"mailboxes": ["a@contoso.com", "{6F9619FF-8B86-D011-B42D-00CF4FC964FF}"],
                      "steps": ["test_and_enable", "approve"], "options": {"configure_org": true}});
    let answer = app.post_json("/v1/batches", &body).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.text);
    let json = answer.json();
    let id = json["batch"]["id"].as_str().expect("id");
    assert_eq!(answer.headers[header::LOCATION], format!("/v1/batches/{id}"));
    assert_eq!(json["created"], true);
    assert_eq!(json["duplicates"], json!([]));
    let batch = &json["batch"];
    assert_eq!(batch["environment"], "default");
    assert_eq!(batch["steps"], json!(["approve", "test_and_enable"]));
    assert_eq!(batch["state"], "running");
    assert_eq!(batch["total"], 2);
    assert_eq!(batch["counts"]["pending"], 2);
    assert_eq!(batch["by_step"], json!({"approve": {"pending": 2}}));
    assert_eq!(batch["options"]["configure_org"], true);
    assert_eq!(batch["options"]["test_timeout_secs"], 3600);
    assert_eq!((batch["finished"].clone(), batch["rate_per_sec"].clone()), (json!(0), Value::Null));
    assert!(batch["created_at"].as_str().is_some_and(|t| t.ends_with('Z')), "{batch}");
    assert_eq!(app.metrics.batches_created_total.get(), 1);
}

#[tokio::test]
async fn a_csv_batch_takes_steps_environment_and_options_from_the_query() {
    let app = app().await;
    let answer = post_csv(
        &app,
        "?steps=approve,deploy_app&environment=default&overwrite_primary_org=true&deploy_timeout_secs=60",
        "email,name\na@contoso.com,A\nb@contoso.com,B\n",
    )
    .await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.text);
    let batch = &answer.json()["batch"];
    assert_eq!(batch["total"], 2);
    assert_eq!(batch["steps"], json!(["approve", "deploy_app"]));
    assert_eq!(batch["options"]["overwrite_primary_org"], true);
    assert_eq!(batch["options"]["deploy_timeout_secs"], 60);
}

#[tokio::test]
async fn unknown_steps_and_no_steps_are_named() {
    let app = app().await;
    let problems =
        rejected(&app, json!({"mailboxes": ["a@contoso.com"], "steps": ["approve", "aprove"]})).await;
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0]["field"], "steps");
    assert_eq!(problems[0]["index"], 1);
    assert_eq!(problems[0]["value"], "aprove");
    assert!(problems[0]["reason"].as_str().is_some_and(|r| r.contains("test_and_enable")), "{problems:?}");
    let problems = rejected(&app, json!({"mailboxes": ["a@contoso.com"], "steps": []})).await;
    assert!(problems[0]["reason"].as_str().is_some_and(|r| r.starts_with("no steps")), "{problems:?}");
}

#[tokio::test]
async fn an_unknown_environment_is_refused_and_one_must_be_named_among_several() {
    let app = app().await;
    let problems =
        rejected(&app, json!({"environment": "prod", "mailboxes": ["a@contoso.com"], "steps": ["approve"]}))
            .await;
    assert_eq!(
        (problems[0]["field"].clone(), problems[0]["value"].clone()),
        (json!("environment"), json!("prod"))
    );

    let mut two = config();
    two.environments = vec!["eu".into(), "us".into()];
    let app = app_with(two, tokens(), Arc::new(api::AlwaysReady)).await;
    let problems = rejected(&app, json!({"mailboxes": ["a@contoso.com"], "steps": ["approve"]})).await;
    assert!(
        problems[0]["reason"].as_str().is_some_and(|r| r.contains("environment is required")),
        "{problems:?}"
    );
    let ok = app
        .post_json(
            "/v1/batches",
            &json!({"environment": "us", "mailboxes": ["a@contoso.com"], "steps": ["approve"]}),
        )
        .await;
    assert_eq!(ok.status, StatusCode::ACCEPTED, "{}", ok.text);
}

#[tokio::test]
async fn malformed_ids_and_addresses_are_listed_with_index_value_and_reason() {
    let app = app().await;
    let body = json!({"mailboxes": ["a@contoso.com", "bob@", "not-a-guid", "{6F9619FF-8B86}"], "steps": ["approve"]});
    let problems = rejected(&app, body).await;
    let seen: Vec<(u64, &str)> = problems
        .iter()
        .map(|p| (p["index"].as_u64().expect("index"), p["value"].as_str().expect("value")))
        .collect();
    assert_eq!(seen, vec![(1, "bob@"), (2, "not-a-guid"), (3, "{6F9619FF-8B86}")]);
    assert!(
        problems
            .iter()
            .all(|p| p["field"] == "mailboxes" && p["reason"].as_str().is_some_and(|r| !r.is_empty()))
    );
}

#[tokio::test]
async fn malformed_csv_rows_are_listed_by_row_and_nothing_is_created() {
    let app = app().await;
    let answer = post_csv(&app, "?steps=approve", "mailbox\na@contoso.com\nbob@\n").await;
    let error = answer.error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(error["problems"][0]["row"], 3, "{error}");
    assert_eq!(error["problems"][0]["value"], "bob@", "{error}");
    assert!(error["problems"][0].get("index").is_none(), "{error}");
    let answer = post_csv(&app, "?steps=approve", "name,dept\nAda,IT\n").await;
    answer.error(StatusCode::BAD_REQUEST, "bad_request");
    let answer = post_csv(&app, "?steps=approve&colour=blue", "mailbox\na@contoso.com\n").await;
    answer.error(StatusCode::BAD_REQUEST, "bad_request");
    assert_eq!(app.batch_count().await, 0);
}

#[tokio::test]
async fn csv_bodies_exported_from_excel_are_read_and_workbooks_refused() {
    let app = app().await;
    let post_bytes = |bytes: Vec<u8>| {
        request("POST", "/v1/batches?steps=approve", Some(OPERATOR))
            .header(header::CONTENT_TYPE, "text/csv")
            .body(Body::from(bytes))
            .expect("request")
    };
    let danish =
        "\u{feff}Navn;E-mail;Afdeling\r\nSøren;soren@contoso.dk;IT\r\n\"Hansen; Ib\";ib@contoso.dk;IT\r\n";
    let answer = app.send(post_bytes(danish.as_bytes().to_vec())).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.text);
    assert_eq!(answer.json()["batch"]["total"], 2);
    let unicode_text: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain("Name\tEmail Address\r\nZoë\tzoe@contoso.de\r\n".encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    let answer = app.send(post_bytes(unicode_text)).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.text);
    let error = app
        .send(post_bytes(b"PK\x03\x04\x14\x00\x00\x00".to_vec()))
        .await
        .error(StatusCode::BAD_REQUEST, "bad_request");
    let message = error["message"].as_str().unwrap_or_default();
    assert!(message.contains("not a text file") && message.contains("CSV UTF-8"), "{error}");
    assert_eq!(app.batch_count().await, 2);
}

#[tokio::test]
async fn duplicates_are_reported_and_kept_once() {
    let app = app().await;
    let body = json!({"mailboxes": ["a@contoso.com", "b@contoso.com", "A@Contoso.com", "b@contoso.com"], "steps": ["approve"]});
    let answer = app.post_json("/v1/batches", &body).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.text);
    let json = answer.json();
    assert_eq!(json["batch"]["total"], 2);
    assert_eq!(
        json["duplicates"],
        json!([{"index": 2, "value": "A@Contoso.com", "first": 0}, {"index": 3, "value": "b@contoso.com", "first": 1}])
    );
    let answer = post_csv(&app, "?steps=approve", "mailbox\na@contoso.com\n\nA@contoso.com\n").await;
    assert_eq!(answer.json()["duplicates"], json!([{"row": 4, "value": "A@contoso.com", "first": 2}]));
}

#[tokio::test]
async fn an_empty_list_and_bad_options_are_refused() {
    let app = app().await;
    let problems = rejected(&app, json!({"mailboxes": [], "steps": ["approve"]})).await;
    assert_eq!(problems[0]["field"], "mailboxes");
    assert!(problems[0]["reason"].as_str().is_some_and(|r| r.contains("empty")), "{problems:?}");
    let problems = rejected(
        &app,
        json!({"mailboxes": ["a@contoso.com"], "steps": ["approve"], "options": {"configure_orgs": true}}),
    )
    .await;
    assert_eq!(problems[0]["field"], "options");
    assert!(problems[0]["reason"].as_str().is_some_and(|r| r.contains("configure_orgs")), "{problems:?}");
    let problems = rejected(&app, json!({"mailbox": ["a@contoso.com"], "steps": ["approve"]})).await;
    assert_eq!(problems[0]["field"], "body");
}

#[tokio::test]
async fn more_mailboxes_than_the_maximum_is_413() {
    let mut small = config();
    small.max_mailboxes = 3;
    let app = app_with(small, tokens(), Arc::new(api::AlwaysReady)).await;
    let answer =
        app.post_json("/v1/batches", &json!({"mailboxes": addresses(4), "steps": ["approve"]})).await;
    let error = answer.error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    assert!(error["message"].as_str().is_some_and(|m| m.contains("at most 3")), "{error}");
    assert_eq!(app.batch_count().await, 0);
    // Duplicates do not count.
    let mut list = addresses(3);
    list.push(list[0].clone());
    let answer = app.post_json("/v1/batches", &json!({"mailboxes": list, "steps": ["approve"]})).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.text);
}

#[tokio::test]
async fn a_body_over_the_byte_limit_is_413() {
    let mut small = config();
    small.max_body_bytes = 1_024;
    let app = app_with(small, tokens(), Arc::new(api::AlwaysReady)).await;
    let answer =
        app.post_json("/v1/batches", &json!({"mailboxes": addresses(100), "steps": ["approve"]})).await;
    answer.error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    let answer = post_csv(&app, "?steps=approve", &format!("mailbox\n{}", addresses(100).join("\n"))).await;
    answer.error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    assert_eq!(app.batch_count().await, 0);
}

#[tokio::test]
async fn malformed_json_is_400_and_a_wrong_content_type_is_415() {
    let app = app().await;
    let req = request("POST", "/v1/batches", Some(OPERATOR))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{\"mailboxes\": [\"a@contoso.com\""))
        .expect("request");
    app.send(req).await.error(StatusCode::BAD_REQUEST, "bad_request");
    for content_type in [Some("text/plain"), Some("application/x-www-form-urlencoded"), None] {
        let mut req = request("POST", "/v1/batches", Some(OPERATOR));
        if let Some(t) = content_type {
            req = req.header(header::CONTENT_TYPE, t);
        }
        let answer = app.send(req.body(Body::from("{}")).expect("request")).await;
        answer.error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    }
    assert_eq!(app.batch_count().await, 0);
}

#[tokio::test]
async fn a_repeat_with_the_same_idempotency_key_returns_the_first_batch() {
    let app = app().await;
    let post = |key: &str, list: Vec<String>| {
        request("POST", "/v1/batches", Some(OPERATOR))
            .header(header::CONTENT_TYPE, "application/json")
            .header("Idempotency-Key", key)
            .body(Body::from(json!({"mailboxes": list, "steps": ["approve"]}).to_string()))
            .expect("request")
    };
    let first = app.send(post("k-1", addresses(2))).await;
    assert_eq!(first.status, StatusCode::ACCEPTED, "{}", first.text);
    let again = app.send(post("k-1", addresses(2))).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    assert_eq!(again.json()["created"], false);
    assert_eq!(again.json()["batch"]["id"], first.json()["batch"]["id"]);
    assert_eq!(again.headers[header::LOCATION], first.headers[header::LOCATION]);
    assert_eq!(app.batch_count().await, 1);
    assert_eq!(app.metrics.batches_created_total.get(), 1, "a repeat is not counted");
    let other = app.send(post("k-2", addresses(2))).await;
    assert_eq!(other.status, StatusCode::ACCEPTED);
    app.send(post("has space", addresses(1))).await.error(StatusCode::BAD_REQUEST, "bad_request");
    app.send(post(&"x".repeat(201), addresses(1))).await.error(StatusCode::BAD_REQUEST, "bad_request");
    assert_eq!(app.batch_count().await, 2);
}

#[tokio::test]
async fn a_selection_needs_something_to_select_and_excludes_a_list() {
    let app = app().await;
    let problems = rejected(
        &app,
        json!({"mailboxes": ["a@contoso.com"], "select": {"business_units": ["Sales"]},
                                         "steps": ["approve"]}),
    )
    .await;
    assert!(
        problems.iter().any(|p| p["field"] == "select" && p["reason"].as_str().unwrap().contains("not both"))
    );
    let problems = rejected(&app, json!({"select": {}, "steps": ["approve"]})).await;
    assert!(problems.iter().any(|p| p["field"] == "select"), "{problems:?}");
}

#[tokio::test]
async fn without_access_to_dataverse_a_selection_or_a_plan_answers_503() {
    let app = app().await;
    let body = json!({"select": {"business_units": ["Sales"]}, "steps": ["approve"]});
    let answer = app.post_json("/v1/batches", &body).await;
    let error = answer.error(StatusCode::SERVICE_UNAVAILABLE, "unavailable");
    assert!(error["message"].as_str().unwrap().contains("send a list of mailboxes"), "{error}");
    assert_eq!(app.batch_count().await, 0);
    let plan = json!({"mailboxes": ["a@contoso.com"], "steps": ["approve"]});
    app.post_json("/v1/plans", &plan).await.error(StatusCode::SERVICE_UNAVAILABLE, "unavailable");
}
