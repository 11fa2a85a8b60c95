//! Service protection limits: thresholds, 429 bodies, Retry-After, and the penalty for
//! sending while throttled.

use crate::common::{TestSim, config, fast_profile, start};
use serde_json::{Value, json};
use sim::Profile;
use std::time::Duration;

async fn limited(adjust: impl FnOnce(&mut Profile)) -> TestSim {
    let mut p = fast_profile();
    adjust(&mut p);
    start(config(20, p)).await
}

async fn throttle_of(resp: reqwest::Response) -> (u64, String, String) {
    assert_eq!(resp.status(), 429);
    let retry: u64 = resp.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    let body: Value = resp.json().await.unwrap();
    (retry, body["error"]["code"].as_str().unwrap().into(), body["error"]["message"].as_str().unwrap().into())
}

#[tokio::test]
async fn request_limit_triggers_at_the_threshold_and_retry_after_is_honoured() {
    let t = limited(|p| {
        p.window_secs = 3;
        p.max_requests = 20;
    })
    .await;
    for _ in 0..20 {
        assert_eq!(t.get("WhoAmI").send().await.unwrap().status(), 200);
    }
    let (retry, code, message) = throttle_of(t.get("WhoAmI").send().await.unwrap()).await;
    assert_eq!(code, "0x80072322");
    assert_eq!(message, "Number of requests exceeded the limit of 20 over time window of 3 seconds.");
    assert!((1..=3).contains(&retry), "{retry}");
    // Waiting exactly as told is enough.
    tokio::time::sleep(Duration::from_secs(retry)).await;
    assert_eq!(t.get("WhoAmI").send().await.unwrap().status(), 200);
    assert_eq!(t.stats().await["throttled"]["requests"], 1);
}

#[tokio::test]
async fn execution_time_limit_counts_measured_costs() {
    let t = limited(|p| {
        p.window_secs = 5;
        p.max_exec_ms = 250;
        p.costs.update = 100;
    })
    .await;
    let id = t.ids("normal").await.remove(0);
    for _ in 0..3 {
        assert_eq!(t.patch(&format!("mailboxes({id})"), json!({"name": "x"})).await.status(), 204);
    }
    let resp = t
        .http
        .patch(t.api(&format!("mailboxes({id})")))
        .bearer_auth(&t.token)
        .json(&json!({"name": "y"}))
        .send()
        .await
        .unwrap();
    let (_, code, message) = throttle_of(resp).await;
    assert_eq!(code, "0x80072321");
    assert!(
        message
            .starts_with("Combined execution time of incoming requests exceeded limit of 250 milliseconds")
    );
}

#[tokio::test]
async fn concurrency_limit_refuses_at_once() {
    let t = limited(|p| {
        p.max_concurrency = 2;
        p.costs.whoami = 400;
    })
    .await;
    let mut tasks = Vec::new();
    for _ in 0..3 {
        let req = t.get("WhoAmI");
        tasks.push(tokio::spawn(async move { req.send().await.unwrap().status().as_u16() }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    statuses.sort();
    assert_eq!(statuses, vec![200, 200, 429]);
    assert_eq!(t.stats().await["throttled"]["concurrency"], 1);
    assert_eq!(t.stats().await["peak_in_flight_by_client"][sim::default_client().id], 2);
}

#[tokio::test]
async fn a_client_that_keeps_sending_while_throttled_waits_longer() {
    let t = limited(|p| {
        p.window_secs = 10;
        p.max_requests = 5;
        p.throttle_penalty_ms = 1000;
    })
    .await;
    for _ in 0..5 {
        t.get("WhoAmI").send().await.unwrap();
    }
    let (first, _, _) = throttle_of(t.get("WhoAmI").send().await.unwrap()).await;
    let mut last = first;
    for _ in 0..5 {
        last = throttle_of(t.get("WhoAmI").send().await.unwrap()).await.0;
    }
    assert!(last >= first + 4, "first {first}s, after 5 more sends {last}s");
}

#[tokio::test]
async fn limits_are_per_application_user() {
    let p = Profile { window_secs: 10, max_requests: 3, ..fast_profile() };
    let clients = vec!["a:sa".parse().unwrap(), "b:sb".parse().unwrap()];
    let running =
        sim::start(sim::SimConfig { clients, ..config(5, p) }, "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let http = reqwest::Client::new();
    let ta = crate::common::fetch_token(&http, &running, "a", "sa").await;
    let tb = crate::common::fetch_token(&http, &running, "b", "sb").await;
    let who = format!("{}/WhoAmI", running.api_url());
    for _ in 0..3 {
        assert_eq!(http.get(&who).bearer_auth(&ta).send().await.unwrap().status(), 200);
    }
    assert_eq!(http.get(&who).bearer_auth(&ta).send().await.unwrap().status(), 429);
    assert_eq!(http.get(&who).bearer_auth(&tb).send().await.unwrap().status(), 200);
}
