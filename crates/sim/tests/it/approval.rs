//! Approval variants (`any`, `admin-only`, `silent`), the read-only column
//! `isemailaddressapprovedbyo365admin`, and switching the variant while running.

use crate::common::{TestSim, approve, config, fast_profile, start};
use crate::processes::{statuses, test_and_enable};
use serde_json::{Value, json};
use sim::ApprovalMode;

async fn sim_in(mode: ApprovalMode) -> TestSim {
    let mut profile = fast_profile();
    profile.variants.approval_mode = mode;
    start(config(200, profile)).await
}

const COLUMNS: &str = "$select=emailrouteraccessapproval,isemailaddressapprovedbyo365admin";

async fn approval_of(t: &TestSim, set: &str, id: &str) -> (i64, bool) {
    let (status, row) = t.get_json(&format!("{set}({id})?{COLUMNS}")).await;
    assert_eq!(status, 200, "{row}");
    (
        row["emailrouteraccessapproval"].as_i64().unwrap(),
        row["isemailaddressapprovedbyo365admin"].as_bool().unwrap(),
    )
}

/// Status, error code and message of a PATCH.
async fn patch_outcome(t: &TestSim, path: &str, body: Value) -> (u16, String, String) {
    let resp = t.patch(path, body).await;
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    let text = |k: &str| body["error"][k].as_str().unwrap_or_default().to_string();
    (status, text("code"), text("message"))
}

async fn user_of(t: &TestSim, mailbox: &str) -> String {
    t.truth(mailbox).await["user"]["systemuserid"].as_str().unwrap().to_string()
}

fn assert_refused(outcome: &(u16, String, String)) {
    assert_eq!((outcome.0, outcome.1.as_str()), (403, "0x80040220"), "{}", outcome.2);
    assert!(outcome.2.contains("prvApproveRejectEmailAddress"), "{}", outcome.2);
}

#[tokio::test]
async fn seeded_admin_approval_shows_in_the_read_only_column() {
    let t = sim_in(ApprovalMode::Any).await;
    for (case, expected) in [
        ("already_approved", (1, true)),
        ("already_tested", (1, true)),
        ("normal", (2, false)),
        ("approval_rejected", (3, false)),
    ] {
        let id = t.ids(case).await.remove(0);
        assert_eq!(approval_of(&t, "mailboxes", &id).await, expected, "{case}");
    }
    // Read-only: a PATCH of it is ignored.
    let id = t.ids("normal").await.remove(0);
    t.patch_mailbox(&id, json!({"isemailaddressapprovedbyo365admin": true})).await;
    assert_eq!(approval_of(&t, "mailboxes", &id).await, (2, false));
    let (_, filtered) =
        t.get_json("mailboxes?$select=mailboxid&$filter=isemailaddressapprovedbyo365admin eq true").await;
    let approved = t.ids("already_approved").await.len() + t.ids("already_tested").await.len();
    assert_eq!(filtered["value"].as_array().unwrap().len(), approved);
}

#[tokio::test]
async fn mode_any_approves_as_an_administrator_except_where_an_admin_is_needed() {
    let t = sim_in(ApprovalMode::Any).await;
    let id = t.ids("normal").await.remove(0);
    t.patch_mailbox(&id, approve()).await;
    assert_eq!(approval_of(&t, "mailboxes", &id).await, (1, true));
    let user = user_of(&t, &id).await;
    assert_eq!(t.patch(&format!("systemusers({user})"), approve()).await.status(), 204);
    assert_eq!(approval_of(&t, "systemusers", &user).await, (1, true));
    // Setting the address back to pending withdraws the administrator's approval.
    t.patch_mailbox(&id, json!({"emailrouteraccessapproval": 2})).await;
    assert_eq!(approval_of(&t, "mailboxes", &id).await, (2, false));

    let needs_admin = t.ids("approval_needs_admin").await.remove(0);
    assert_refused(&patch_outcome(&t, &format!("mailboxes({needs_admin})"), approve()).await);
    assert_eq!(approval_of(&t, "mailboxes", &needs_admin).await, (2, false));
}

#[tokio::test]
async fn mode_admin_only_refuses_every_approval_by_an_application_user() {
    let t = sim_in(ApprovalMode::AdminOnly).await;
    for case in ["normal", "already_approved", "approval_rejected", "approval_needs_admin", "other_org"] {
        let id = t.ids(case).await.remove(0);
        let before = approval_of(&t, "mailboxes", &id).await;
        let outcome = patch_outcome(&t, &format!("mailboxes({id})"), approve()).await;
        assert_refused(&outcome);
        assert!(outcome.2.contains("application user"), "{}", outcome.2);
        assert_eq!(approval_of(&t, "mailboxes", &id).await, before, "{case}: unchanged");
        let user = user_of(&t, &id).await;
        assert_refused(&patch_outcome(&t, &format!("systemusers({user})"), approve()).await);
        assert_eq!(t.truth(&id).await["writes"], 0, "{case}: a refused write is not counted");
    }
    // Other writes still pass.
    let id = t.ids("normal").await.remove(0);
    t.patch_mailbox(&id, json!({"name": "renamed"})).await;
    assert_eq!(t.stats().await["requests"]["update mailboxes"]["403"], 5);
}

#[tokio::test]
async fn mode_silent_accepts_approvals_that_then_fail_test_and_enable() {
    let t = sim_in(ApprovalMode::Silent).await;
    for case in ["normal", "approval_needs_admin"] {
        let id = t.ids(case).await.remove(0);
        t.patch_mailbox(&id, approve()).await;
        assert_eq!(approval_of(&t, "mailboxes", &id).await, (1, false), "{case}");
        let row = test_and_enable(&t, &id).await;
        let (incoming, outgoing, _, overall) = statuses(&row);
        assert_eq!((incoming, outgoing, overall), (2, 2, 2), "{case}");
        assert_eq!(row["enabledforincomingemail"], false);
        let truth = t.truth(&id).await;
        let alerts = truth["test_alerts"].as_array().unwrap();
        assert!(
            alerts.iter().any(|a| a.as_str().unwrap().contains("approved by a Microsoft 365 administrator")),
            "{truth}"
        );
        assert_eq!(truth["mailbox"]["isemailaddressapprovedbyo365admin"], false);
    }
    let user = user_of(&t, &t.ids("normal").await.remove(0)).await;
    assert_eq!(t.patch(&format!("systemusers({user})"), approve()).await.status(), 204);
    assert_eq!(approval_of(&t, "systemusers", &user).await, (1, false));
    // An administrator's earlier approval still holds.
    let id = t.ids("already_approved").await.remove(0);
    t.patch_mailbox(&id, approve()).await;
    let row = test_and_enable(&t, &id).await;
    assert_eq!(statuses(&row), (1, 1, 1, 1));
    assert_eq!(t.truth(&id).await["test_alerts"], json!([]));
}

#[tokio::test]
async fn switching_to_admin_only_mid_run_makes_later_approvals_fail() {
    let t = sim_in(ApprovalMode::Any).await;
    assert_eq!(t.sim_get("variants").await, json!({"approval_mode": "any"}));
    let ids = t.ids("normal").await;
    t.patch_mailbox(&ids[0], approve()).await;

    let (status, now) = t.sim_post("variants", json!({"approval_mode": "admin-only"})).await;
    assert_eq!((status, &now), (200, &json!({"approval_mode": "admin-only"})));
    assert_eq!(t.sim_get("variants").await, now);
    assert_eq!(t.stats().await["variants"], now);
    assert_refused(&patch_outcome(&t, &format!("mailboxes({})", ids[1]), approve()).await);
    assert_eq!(approval_of(&t, "mailboxes", &ids[0]).await, (1, true), "earlier approvals stay");

    // An empty body changes nothing; bad values and keys change nothing and say what is allowed.
    assert_eq!(t.sim_post("variants", json!({})).await, (200, now.clone()));
    let (status, err) = t.sim_post("variants", json!({"approval_mode": "admins"})).await;
    assert_eq!(status, 400);
    assert!(err["error"]["message"].as_str().unwrap().contains("any, admin-only, silent"), "{err}");
    let (status, err) = t.sim_post("variants", json!({"approval_mood": "any"})).await;
    assert_eq!(status, 400);
    assert!(err["error"]["message"].as_str().unwrap().contains("approval_mode"), "{err}");
    assert_eq!(t.sim_get("variants").await, now);

    let (status, _) = t.sim_post("variants", json!({"approval_mode": "silent"})).await;
    assert_eq!(status, 200);
    t.patch_mailbox(&ids[1], approve()).await;
    assert_eq!(approval_of(&t, "mailboxes", &ids[1]).await, (1, false));

    // A reset goes back to the variants the simulator was started with.
    t.reset().await;
    assert_eq!(t.sim_get("variants").await, json!({"approval_mode": "any"}));
}

#[tokio::test]
async fn a_batch_sees_the_variant_in_force() {
    let t = sim_in(ApprovalMode::AdminOnly).await;
    let id = t.ids("normal").await.remove(0);
    let boundary = "batch_x";
    let body = format!(
        "--{boundary}\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nPATCH {}/mailboxes({id}) HTTP/1.1\r\nContent-Type: application/json\r\n\r\n{{\"emailrouteraccessapproval\":1}}\r\n--{boundary}--\r\n",
        t.running.api_url()
    );
    let resp = t
        .http
        .post(t.api("$batch"))
        .bearer_auth(&t.token)
        .header("Content-Type", format!("multipart/mixed; boundary={boundary}"))
        .header("Prefer", "odata.continue-on-error")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.unwrap();
    assert!(text.contains("HTTP/1.1 403") && text.contains("0x80040220"), "{text}");
}
