//! `activator plan` and its API twin against `dataverse-sim`: the plan reads only, tells each
//! mailbox's outcome with the run's error codes, and prints JSON or CSV cleanly on stdout; a
//! selection is planned and submitted through `activator serve`.

use crate::api_serve::{TOKEN, get, serve};
use e2e::{
    CLIENT_LIMITS, QUICK_SIM, activator, mailboxes_by_case, scratch_dir, sim_json, start_simulator,
    write_operations,
};
use serde_json::{Value, json};
use std::collections::BTreeSet;

fn run_plan(sim: &str, dir: &std::path::Path, format: &str) -> String {
    let out = activator(sim)
        .args(["plan", "--csv"])
        .arg(dir.join("list.csv"))
        .args(["--format", format])
        .args(CLIENT_LIMITS)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test]
async fn plan_reads_only_and_tells_each_mailbox_its_outcome() {
    let (_sim, sim) = start_simulator(&[&["--mailboxes", "200"][..], &QUICK_SIM[..]].concat());
    let dir = scratch_dir("plan");
    let by_case = mailboxes_by_case(&sim).await;
    e2e::write_list(&dir.join("list.csv"), &e2e::mailbox_list(&sim).await);

    let plan: Value =
        serde_json::from_str(&run_plan(&sim, &dir, "json")).expect("stdout holds only the plan's JSON");
    let mailboxes = plan["mailboxes"].as_array().unwrap();
    assert_eq!(mailboxes.len(), 200);
    let outcome_of = |id: &str| mailboxes.iter().find(|m| m["mailbox_id"] == id).unwrap().clone();
    for m in mailboxes {
        assert!(
            ["will_activate", "already_done", "will_fail"].contains(&m["outcome"].as_str().unwrap()),
            "{m}"
        );
        assert_eq!(m["steps"].as_object().unwrap().len(), 4, "{m}");
    }
    for (case, code) in [
        ("approval_rejected", "approval_rejected"),
        ("inactive_mailbox", "mailbox_inactive"),
        ("no_role_in_business_unit", "role_missing_in_business_unit"),
    ] {
        for id in &by_case[case] {
            let m = outcome_of(id);
            assert_eq!(
                (m["outcome"].as_str(), m["reason"].as_str()),
                (Some("will_fail"), Some(code)),
                "{case}: {m}"
            );
            assert!(m["remedy"].as_str().is_some_and(|r| !r.is_empty()), "{m}");
        }
    }
    for id in &by_case["normal"] {
        assert_eq!(outcome_of(id)["outcome"], "will_activate");
    }
    let estimate = &plan["estimate"];
    assert!(estimate["requests"].as_u64().unwrap() > 0 && estimate["duration_secs"].as_f64().unwrap() > 0.0);
    assert_eq!(estimate["duration_secs_by_users"].as_object().unwrap().len(), 3, "{estimate}");
    assert_eq!(plan["totals"]["mailboxes"], 200);

    let csv = run_plan(&sim, &dir, "csv");
    assert!(csv.starts_with("mailbox,mailbox_id,outcome,"), "{csv}");
    assert_eq!(csv.lines().count(), 201);
    assert_eq!(write_operations(&sim).await, Vec::<String>::new(), "the plan sent writes");
}

#[tokio::test]
async fn a_selection_is_planned_and_submitted_through_the_api() {
    let (_sim, sim) = start_simulator(&[&["--mailboxes", "120"][..], &QUICK_SIM[..]].concat());
    let dir = scratch_dir("plan-api");
    let (_server, api) = serve(&sim, &dir.join("state.db"));
    let mut expected = BTreeSet::new();
    for id in e2e::mailbox_list(&sim).await {
        let truth = sim_json(&sim, &format!("/_sim/mailboxes/{id}")).await;
        if truth["business_unit"] == "Sales" && truth["mailbox"]["emailrouteraccessapproval"] != 1 {
            expected.insert(id);
        }
    }
    assert!(!expected.is_empty());
    let submit = |extra: &[&str]| {
        let out = activator(&sim)
            .args(["submit", "--business-unit", "Sales", "--mailbox-state", "not-approved"])
            .args(extra)
            .env("ACTIVATOR_API", &api)
            .env("ACTIVATOR_TOKEN", TOKEN)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };

    let plan: Value = serde_json::from_str(&submit(&["--plan", "--format", "json"])).unwrap();
    let planned: BTreeSet<String> = plan["mailboxes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["mailbox_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(planned, expected);
    assert_eq!(plan["selection"]["mailboxes"], expected.len(), "{}", plan["selection"]);
    assert_eq!(write_operations(&sim).await, Vec::<String>::new(), "planning through the API sent writes");

    let id = submit(&["--quiet", "--canary", "off"]).trim().to_string();
    let http = reqwest::Client::new();
    let batch = get(&http, &format!("{api}/v1/batches/{id}")).await;
    assert_eq!(batch["total"], expected.len(), "{batch}");

    let unknown = json!({"select": {"business_units": ["Nowhere"]}, "steps": ["approve"]});
    let answer = http.post(format!("{api}/v1/plans")).bearer_auth(TOKEN).json(&unknown).send().await.unwrap();
    assert_eq!(answer.status().as_u16(), 422);
    let body: Value = answer.json().await.unwrap();
    assert!(body.to_string().contains("no business unit named 'Nowhere'"), "{body}");
}
