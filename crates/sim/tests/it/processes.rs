//! Test & Enable and App for Outlook deployment: asynchronous, with outcomes per seeded case.

use crate::common::{TestSim, approve, config, fast_profile, start};
use serde_json::{Value, json};
use std::time::Duration;
use testkit::wait_for;

async fn sim() -> TestSim {
    start(config(300, fast_profile())).await
}

/// Schedules Test & Enable and waits for it to finish; returns the mailbox row.
pub async fn test_and_enable(t: &TestSim, id: &str) -> Value {
    t.patch_mailbox(id, json!({"testemailconfigurationscheduled": true})).await;
    let (_, row) = t.get_json(&format!("mailboxes({id})")).await;
    assert_eq!(row["testemailconfigurationscheduled"], true);
    assert_eq!(row["mailboxstatus"], 0, "a scheduled test starts from Not Run");
    wait_for("Test & Enable to finish", Duration::from_secs(5), || async {
        let (_, row) = t.get_json(&format!("mailboxes({id})")).await;
        (row["testemailconfigurationscheduled"] == false && !row["testmailboxaccesscompletedon"].is_null())
            .then_some(row)
    })
    .await
}

pub fn statuses(row: &Value) -> (i64, i64, i64, i64) {
    let s = |c: &str| row[c].as_i64().unwrap();
    (s("incomingemailstatus"), s("outgoingemailstatus"), s("actstatus"), s("mailboxstatus"))
}

async fn approve_and_test(t: &TestSim, case: &str) -> (String, Value) {
    let id = t.ids(case).await.remove(0);
    t.patch_mailbox(&id, approve()).await;
    let row = test_and_enable(t, &id).await;
    (id, row)
}

#[tokio::test]
async fn approved_mailboxes_pass_test_and_enable() {
    let t = sim().await;
    for case in
        ["normal", "already_approved", "already_tested", "approval_rejected", "no_role_in_business_unit"]
    {
        let (_, row) = approve_and_test(&t, case).await;
        assert_eq!(statuses(&row), (1, 1, 1, 1), "{case}");
        assert_eq!(row["enabledforincomingemail"], true, "{case}");
    }
}

#[tokio::test]
async fn test_without_approval_fails() {
    let t = sim().await;
    let id = t.ids("normal").await.remove(0);
    let row = test_and_enable(&t, &id).await;
    assert_eq!(statuses(&row), (2, 2, 2, 2));
}

#[tokio::test]
async fn inactive_mailbox_and_disabled_user_fail_the_test() {
    let t = sim().await;
    for case in ["inactive_mailbox", "user_disabled"] {
        let (_, row) = approve_and_test(&t, case).await;
        assert_eq!(statuses(&row).3, 2, "{case}");
    }
}

#[tokio::test]
async fn mailbox_tied_to_another_org_fails_act_until_this_org_is_primary() {
    let t = sim().await;
    let (id, row) = approve_and_test(&t, "other_org").await;
    assert_eq!(statuses(&row), (1, 1, 2, 2));
    t.patch_mailbox(&id, json!({"orgmarkedasprimaryforexchangesync": true})).await;
    let row = test_and_enable(&t, &id).await;
    assert_eq!(statuses(&row), (1, 1, 1, 1));
}

#[tokio::test]
async fn approval_needing_an_admin_is_403_and_the_test_then_fails() {
    let t = sim().await;
    let id = t.ids("approval_needs_admin").await.remove(0);
    let resp = t.patch(&format!("mailboxes({id})"), approve()).await;
    assert_eq!(resp.status(), 403);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "0x80040220");
    assert!(body["error"]["message"].as_str().unwrap().contains("prvApproveRejectEmailAddress"));
    let row = test_and_enable(&t, &id).await;
    assert_eq!(statuses(&row).3, 2);
}

#[tokio::test]
async fn mailbox_deleted_mid_run_is_gone_after_its_first_write() {
    let t = sim().await;
    let id = t.ids("deleted_mid_run").await.remove(0);
    t.patch_mailbox(&id, approve()).await;
    let resp = t.patch(&format!("mailboxes({id})"), json!({"testemailconfigurationscheduled": true})).await;
    assert_eq!(resp.status(), 404);
    let truth = t.truth(&id).await;
    assert_eq!(truth["deleted"], true);
    assert_eq!(truth["writes"], 1);
}

async fn assign_app_role(t: &TestSim, id: &str) -> u16 {
    let truth = t.truth(id).await;
    let user = truth["user"]["systemuserid"].as_str().unwrap();
    let bu = truth["user"]["_businessunitid_value"].as_str().unwrap();
    let (_, roles) = t
        .get_json(&format!("roles?$select=roleid&$filter=name eq 'Dynamics 365 App for Outlook User' and _businessunitid_value eq {bu}"))
        .await;
    let Some(role) = roles["value"][0]["roleid"].as_str() else {
        return 0;
    };
    let body = json!({"@odata.id": t.api(&format!("roles({role})"))});
    let url = t.api(&format!("systemusers({user})/systemuserroles_association/$ref"));
    t.http.post(url).bearer_auth(&t.token).json(&body).send().await.unwrap().status().as_u16()
}

async fn deploy(t: &TestSim, id: &str) -> Value {
    t.patch_mailbox(id, json!({"officeappsdeploymentscheduled": true})).await;
    wait_for("the deployment to finish", Duration::from_secs(5), || async {
        let (_, row) = t.get_json(&format!("mailboxes({id})?$select=officeappsdeploymentscheduled,officeappsdeploymentstatus,officeappsdeploymenterror")).await;
        (row["officeappsdeploymentscheduled"] == false).then_some(row)
    })
    .await
}

#[tokio::test]
async fn deployment_succeeds_for_a_tested_user_with_the_role() {
    let t = sim().await;
    let (id, _) = approve_and_test(&t, "normal").await;
    assert_eq!(assign_app_role(&t, &id).await, 204);
    let row = deploy(&t, &id).await;
    assert_eq!(row["officeappsdeploymentstatus"], 1);
    assert!(row["officeappsdeploymenterror"].is_null());
}

#[tokio::test]
async fn deployment_fails_without_the_role_naming_why() {
    let t = sim().await;
    let (id, _) = approve_and_test(&t, "no_role_in_business_unit").await;
    assert_eq!(assign_app_role(&t, &id).await, 0, "the unit has no such role");
    let row = deploy(&t, &id).await;
    assert_eq!(row["officeappsdeploymentstatus"], 2);
    assert!(row["officeappsdeploymenterror"].as_str().unwrap().contains("App for Outlook User role"));
}

#[tokio::test]
async fn results_do_not_appear_before_the_delay() {
    let mut profile = fast_profile();
    profile.test_delay_ms = sim::Range::new(400, 400);
    let t = start(config(50, profile)).await;
    let id = t.ids("normal").await.remove(0);
    t.patch_mailbox(&id, approve()).await;
    t.patch_mailbox(&id, json!({"testemailconfigurationscheduled": true})).await;
    let truth = t.truth(&id).await;
    assert!(truth["test_due_in_ms"].as_u64().unwrap() > 200);
    assert_eq!(truth["mailbox"]["testemailconfigurationscheduled"], true);
}
