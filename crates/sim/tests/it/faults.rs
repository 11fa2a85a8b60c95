//! Injected faults: every kind occurs at the configured rate, none makes the simulator hang.

use crate::common::{TestSim, config, fast_profile, fetch_token, start};
use serde_json::{Value, json};
use sim::Range;

async fn faulty(rate: f64) -> TestSim {
    let mut p = fast_profile();
    p.fault_rate = rate;
    p.slow_ms = Range::new(50, 60);
    start(config(200, p)).await
}

async fn new_token(t: &TestSim) -> String {
    let c = sim::default_client();
    fetch_token(&t.http, &t.running, &c.id, &c.secret).await
}

#[tokio::test]
async fn every_request_meets_a_fault_at_rate_one_and_each_kind_shows() {
    let t = faulty(1.0).await;
    let id = t.ids("normal").await.remove(0);
    let mut token = t.token.clone();
    let (mut server_errors, mut unavailable, mut dropped, mut expired, mut ok) = (0, 0, 0, 0, 0);
    for _ in 0..150 {
        let resp = t
            .http
            .patch(t.api(&format!("mailboxes({id})")))
            .bearer_auth(&token)
            .json(&json!({"name": "n"}))
            .send()
            .await;
        match resp {
            Err(_) => dropped += 1,
            Ok(r) => match r.status().as_u16() {
                500 => {
                    let body: Value = r.json().await.unwrap();
                    assert_eq!(body["error"]["code"], "0x80040216");
                    server_errors += 1;
                }
                503 => {
                    let body: Value = r.json().await.unwrap();
                    assert!(body["error"]["message"].is_string());
                    unavailable += 1;
                }
                401 => {
                    expired += 1;
                    token = new_token(&t).await;
                }
                204 => ok += 1,
                other => panic!("unexpected status {other}"),
            },
        }
    }
    let stats = t.stats().await;
    let faults = &stats["faults"];
    assert!(server_errors > 0 && unavailable > 0 && dropped > 0 && expired > 0 && ok > 0, "{faults}");
    assert_eq!(faults["dropped_connection"].as_u64().unwrap(), dropped);
    assert_eq!(faults["expired_token"].as_u64().unwrap(), expired);
    // At rate one every answered success was a slow response.
    assert_eq!(faults["slow"].as_u64().unwrap(), ok);
}

#[tokio::test]
async fn no_faults_at_rate_zero() {
    let t = faulty(0.0).await;
    for _ in 0..50 {
        assert_eq!(t.get("WhoAmI").send().await.unwrap().status(), 200);
    }
    assert_eq!(t.stats().await["faults"], json!({}));
}

#[tokio::test]
async fn a_dropped_connection_may_still_have_written() {
    let t = faulty(1.0).await;
    let mut token = t.token.clone();
    for id in t.ids("normal").await {
        let r = t
            .http
            .patch(t.api(&format!("mailboxes({id})")))
            .bearer_auth(&token)
            .json(&json!({"emailrouteraccessapproval": 1}))
            .send()
            .await;
        match r {
            Err(_) => {
                assert_eq!(t.truth(&id).await["mailbox"]["emailrouteraccessapproval"], 1);
                return;
            }
            Ok(r) if r.status() == 401 => token = new_token(&t).await,
            Ok(_) => {}
        }
    }
    panic!("no connection was dropped");
}
