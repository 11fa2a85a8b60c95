//! `$batch`: per-operation results, change sets, continue-on-error, and how it counts.

use crate::common::{TestSim, config, fast_profile, start};
use serde_json::Value;

fn part(method: &str, url: &str, body: Option<&str>, content_id: Option<usize>) -> String {
    let cid = content_id.map(|c| format!("Content-ID: {c}\r\n")).unwrap_or_default();
    let (ct, body) = match body {
        Some(b) => ("Content-Type: application/json\r\n", b),
        None => ("", ""),
    };
    format!(
        "Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n{cid}\r\n{method} {url} HTTP/1.1\r\n{ct}\r\n{body}\r\n"
    )
}

fn batch_body(items: &[Vec<String>]) -> String {
    let mut out = String::new();
    for (i, item) in items.iter().enumerate() {
        out.push_str("--batch_x\r\n");
        if item.len() == 1 && !item[0].starts_with("CS:") {
            out.push_str(&item[0]);
        } else {
            out.push_str(&format!("Content-Type: multipart/mixed; boundary=cs_{i}\r\n\r\n"));
            for p in item {
                out.push_str(&format!("--cs_{i}\r\n{}", p.trim_start_matches("CS:")));
            }
            out.push_str(&format!("--cs_{i}--\r\n"));
        }
    }
    out.push_str("--batch_x--\r\n");
    out
}

async fn send(t: &TestSim, body: String, continue_on_error: bool) -> (u16, String) {
    let mut req = t
        .http
        .post(t.api("$batch"))
        .bearer_auth(&t.token)
        .header("Content-Type", "multipart/mixed; boundary=batch_x")
        .body(body);
    if continue_on_error {
        req = req.header("Prefer", "odata.continue-on-error");
    }
    let resp = req.send().await.unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

fn statuses(text: &str) -> Vec<u16> {
    text.lines().filter_map(|l| l.strip_prefix("HTTP/1.1 ")).map(|l| l[..3].parse().unwrap()).collect()
}

#[tokio::test]
async fn each_operation_gets_its_own_result_and_the_batch_counts_once() {
    let t = start(config(20, fast_profile())).await;
    let ids = t.ids("normal").await;
    let missing = uuid::Uuid::from_u128(7);
    let items = vec![
        vec![part(
            "PATCH",
            &t.api(&format!("mailboxes({})", ids[0])),
            Some(r#"{"emailrouteraccessapproval":1}"#),
            None,
        )],
        vec![part("GET", &format!("mailboxes({})?$select=emailrouteraccessapproval", ids[0]), None, None)],
        vec![part(
            "PATCH",
            &format!("/api/data/v9.2/mailboxes({missing})"),
            Some(r#"{"emailrouteraccessapproval":1}"#),
            None,
        )],
        vec![part(
            "PATCH",
            &t.api(&format!("mailboxes({})", ids[1])),
            Some(r#"{"emailrouteraccessapproval":1}"#),
            None,
        )],
    ];
    let (status, text) = send(&t, batch_body(&items), true).await;
    assert_eq!(status, 200);
    assert_eq!(statuses(&text), vec![204, 200, 404, 204]);
    assert!(text.contains("\"emailrouteraccessapproval\":1"));
    let stats = t.stats().await;
    assert_eq!(stats["requests"]["batch"]["200"], 1);
    assert_eq!(stats["batch_operations"]["update mailboxes"]["204"], 2);
    assert_eq!(
        stats["window_usage"][sim::default_client().id]["requests_in_window"],
        1,
        "the whole batch is one request"
    );
    assert_eq!(t.truth(&ids[1]).await["mailbox"]["emailrouteraccessapproval"], 1);
}

#[tokio::test]
async fn without_continue_on_error_the_batch_stops_at_the_first_failure() {
    let t = start(config(20, fast_profile())).await;
    let ids = t.ids("normal").await;
    let missing = uuid::Uuid::from_u128(7);
    let items = vec![
        vec![part("PATCH", &format!("mailboxes({missing})"), Some("{}"), None)],
        vec![part(
            "PATCH",
            &format!("mailboxes({})", ids[0]),
            Some(r#"{"emailrouteraccessapproval":1}"#),
            None,
        )],
    ];
    let (_, text) = send(&t, batch_body(&items), false).await;
    assert_eq!(statuses(&text), vec![404]);
    assert_eq!(t.truth(&ids[0]).await["mailbox"]["emailrouteraccessapproval"], 2);
}

/// A change set approving two mailboxes, the second with `second_value`.
fn approval_change_set(ids: &[String], second_value: i64) -> Vec<Vec<String>> {
    let patch = |id: &String, value: i64, cid: usize| {
        let body = format!(r#"{{"emailrouteraccessapproval":{value}}}"#);
        format!("CS:{}", part("PATCH", &format!("mailboxes({id})"), Some(&body), Some(cid)))
    };
    vec![vec![patch(&ids[0], 1, 1), patch(&ids[1], second_value, 2)]]
}

#[tokio::test]
async fn a_failed_change_set_is_rolled_back_whole() {
    let t = start(config(20, fast_profile())).await;
    let ids = t.ids("normal").await;
    let (_, text) = send(&t, batch_body(&approval_change_set(&ids, 42)), true).await;
    assert_eq!(statuses(&text), vec![400]);
    let truth = t.truth(&ids[0]).await;
    assert_eq!(truth["mailbox"]["emailrouteraccessapproval"], 2, "first write undone");
    assert_eq!(truth["writes"], 0);

    let (_, text) = send(&t, batch_body(&approval_change_set(&ids, 1)), true).await;
    assert_eq!(statuses(&text), vec![204, 204]);
    assert!(text.contains("Content-ID: 2"));
}

#[tokio::test]
async fn batch_is_charged_the_execution_time_of_every_operation() {
    let mut profile = fast_profile();
    profile.costs.update = 30;
    profile.costs.batch_overhead = 5;
    let t = start(config(20, profile)).await;
    let ids = t.ids("normal").await;
    let items: Vec<Vec<String>> = ids
        .iter()
        .take(4)
        .map(|id| vec![part("PATCH", &format!("mailboxes({id})"), Some(r#"{"name":"n"}"#), None)])
        .collect();
    let started = std::time::Instant::now();
    send(&t, batch_body(&items), true).await;
    assert!(started.elapsed().as_millis() >= 125);
    let stats: Value = t.stats().await;
    assert_eq!(stats["exec_ms"][sim::default_client().id], 125);
}

#[tokio::test]
async fn malformed_batch_bodies_are_400_not_a_hang() {
    let t = start(config(5, fast_profile())).await;
    for body in ["", "--batch_x\r\nContent-Type: text/plain\r\n\r\nhi\r\n--batch_x--", "--batch_x\r\nno end"]
    {
        let (status, _) = send(&t, body.to_string(), false).await;
        assert_eq!(status, 400, "{body:?}");
    }
    let resp = t
        .http
        .post(t.api("$batch"))
        .bearer_auth(&t.token)
        .header("Content-Type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let many: Vec<Vec<String>> = (0..1001).map(|_| vec![part("GET", "WhoAmI", None, None)]).collect();
    assert_eq!(send(&t, batch_body(&many), true).await.0, 400);
}
