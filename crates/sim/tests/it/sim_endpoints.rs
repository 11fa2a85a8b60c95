//! The simulator's own endpoints: deterministic seeding, ground truth, statistics and reset.

use crate::common::{approve, config, fast_profile, start};
use serde_json::json;

#[tokio::test]
async fn the_same_seed_seeds_the_same_org_in_two_simulators() {
    let a = start(config(400, fast_profile())).await;
    let b = start(config(400, fast_profile())).await;
    let cases_a = a.sim_get("mailboxes").await;
    assert_eq!(cases_a, b.sim_get("mailboxes").await);
    let id = a.ids("other_org").await.remove(0);
    let (_, row_a) = a.get_json(&format!("mailboxes({id})?$select=emailaddress,name")).await;
    let (_, row_b) = b.get_json(&format!("mailboxes({id})?$select=emailaddress,name")).await;
    assert_eq!(row_a["emailaddress"], row_b["emailaddress"]);
    for case in [
        "already_approved",
        "already_tested",
        "approval_rejected",
        "inactive_mailbox",
        "other_org",
        "approval_needs_admin",
        "user_disabled",
        "deleted_mid_run",
        "no_role_in_business_unit",
    ] {
        assert!(!cases_a[case].as_array().unwrap().is_empty(), "{case} missing");
    }
}

#[tokio::test]
async fn stats_count_requests_writes_and_reset_restores_the_seeded_state() {
    let t = start(config(50, fast_profile())).await;
    let id = t.ids("normal").await.remove(0);
    t.patch_mailbox(&id, approve()).await;
    t.patch_mailbox(&id, json!({"name": "renamed"})).await;
    t.get("WhoAmI").send().await.unwrap();
    let stats = t.stats().await;
    assert_eq!(stats["requests"]["update mailboxes"]["204"], 2);
    assert_eq!(stats["requests"]["whoami"]["200"], 1);
    assert_eq!(stats["writes"]["total"], 2);
    assert_eq!(stats["writes"]["max_per_mailbox"], 2);
    assert_eq!(stats["writes"]["mailboxes_by_write_count"]["2"], 1);
    assert!(stats["exec_ms"].is_object());
    assert_eq!(stats["mailboxes"]["seeded"], 50);

    t.reset().await;
    let truth = t.truth(&id).await;
    assert_eq!(truth["mailbox"]["emailrouteraccessapproval"], 2);
    assert_eq!(truth["writes"], 0);
    assert_eq!(t.stats().await["requests"], json!({}));
    // Tokens survive a reset.
    assert_eq!(t.get("WhoAmI").send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn ground_truth_of_unknown_or_malformed_ids_is_an_error() {
    let t = start(config(5, fast_profile())).await;
    let resp = t.http.get(format!("{}/_sim/mailboxes/nope", t.running.base_url)).send().await.unwrap();
    assert_eq!(resp.status(), 400);
    let resp = t
        .http
        .get(format!("{}/_sim/mailboxes/{}", t.running.base_url, uuid::Uuid::from_u128(3)))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    let resp = t.http.get(format!("{}/_sim/mailboxes?case=bogus", t.running.base_url)).send().await.unwrap();
    assert_eq!(resp.status(), 400);
}

#[tokio::test]
async fn a_cleared_case_behaves_as_normal_from_then_on() {
    let t = start(config(50, fast_profile())).await;
    let id = t.ids("approval_needs_admin").await.remove(0);
    let refused = t.patch(&format!("mailboxes({id})"), approve()).await;
    assert_eq!(refused.status(), 403);
    let (status, body) = t.sim_post("cases/approval_needs_admin/clear", json!({})).await;
    assert_eq!((status, body["cleared"].as_u64()), (200, Some(1)), "{body}");
    t.patch_mailbox(&id, approve()).await;
    let (status, body) = t.sim_post("cases/no_such_case/clear", json!({})).await;
    assert_eq!(status, 404, "{body}");
    assert!(body.to_string().contains("approval_needs_admin"), "names the cases: {body}");
}
