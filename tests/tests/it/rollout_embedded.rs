//! `activator run` (embedded SQLite store) against `dataverse-sim` as separate processes:
//! every seeded case ends as designed, the results CSV agrees with the simulator's ground
//! truth, a rerun sends no writes, and a run killed mid-way resumes without extra writes.

use e2e::{
    CLIENT_LIMITS, QUICK_SIM, activator, mailboxes_by_case, read_results, run, run_with_state, scratch_dir,
    sim_json, start_simulator, wait_for, write_list, writes,
};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::Duration;

/// What each seeded case must end as: (state, error code).
#[tokio::test]
async fn every_case_ends_as_designed_matching_ground_truth_and_a_rerun_writes_nothing() {
    let (_sim, url) = start_simulator(&[&["--mailboxes", "240"][..], &QUICK_SIM[..]].concat());
    let dir = scratch_dir("cases");
    let by_case = mailboxes_by_case(&url).await;
    // Half the list by email address, half by id, to use both lookups.
    let mut refs = Vec::new();
    let mut case_of = BTreeMap::new();
    for (case, ids) in &by_case {
        for (n, id) in ids.iter().enumerate() {
            case_of.insert(id.clone(), case.clone());
            if n % 2 == 0 {
                refs.push(id.clone());
            } else {
                let truth = sim_json(&url, &format!("/_sim/mailboxes/{id}")).await;
                refs.push(
                    truth["mailbox"]["emailaddress"]
                        .as_str()
                        .unwrap_or_else(|| panic!("{id} has an address"))
                        .to_uppercase(),
                );
            }
        }
    }
    write_list(&dir.join("list.csv"), &refs);

    let (code, out) = run(&url, &dir, &[]);
    assert_eq!(code, 1, "some seeded cases must fail, so the exit status is 1:\n{out}");
    let rows = read_results(&dir.join("state-results.csv"));
    assert_eq!(rows.len(), refs.len(), "one row per mailbox");
    for row in &rows {
        let id = &row["mailbox_id"];
        let case = case_of.get(id).unwrap_or_else(|| panic!("results name an unknown mailbox: {row:?}"));
        let (state, error) = e2e::expected_outcome(case);
        assert_eq!((row["state"].as_str(), row["error_code"].as_str()), (state, error), "{case}: {row:?}");
        if state == "failed" {
            assert!(!row["remedy"].is_empty(), "a failure says what to do: {row:?}");
        }
        let truth = sim_json(&url, &format!("/_sim/mailboxes/{id}")).await;
        let mailbox = &truth["mailbox"];
        if state == "done" {
            assert_eq!(mailbox["emailrouteraccessapproval"], 1, "{case} approved: {truth}");
            assert_eq!(
                (mailbox["incomingemailstatus"].as_i64(), mailbox["outgoingemailstatus"].as_i64()),
                (Some(1), Some(1)),
                "{case} tested: {truth}"
            );
            assert_eq!(truth["has_app_role"], true, "{case} has the role: {truth}");
            assert_eq!(mailbox["officeappsdeploymentstatus"], 1, "{case} app deployed: {truth}");
            assert_eq!(row["email"], mailbox["emailaddress"].as_str().unwrap_or_default());
        }
        match case.as_str() {
            "approval_rejected" => {
                assert_eq!(
                    mailbox["emailrouteraccessapproval"], 3,
                    "a rejection is never overridden: {truth}"
                )
            }
            "deleted_mid_run" => assert_eq!(truth["deleted"], true, "{truth}"),
            "other_org" => assert!(row["remedy"].contains("--overwrite-primary-org"), "{row:?}"),
            "approval_needs_admin" => {
                assert!(row["remedy"].contains("Delegated Mailbox Approver"), "{row:?}");
                assert_ne!(mailbox["emailrouteraccessapproval"], 1, "{truth}");
            }
            _ => {}
        }
    }
    let stats = sim_json(&url, "/_sim/stats").await;
    assert!(stats["writes"]["max_per_mailbox"].as_u64() <= Some(4), "at most one write per step: {stats}");

    let before = writes(&url).await;
    let (code, out) = run(&url, &dir, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("resuming batch"), "{out}");
    assert_eq!(writes(&url).await, before, "rerunning a finished batch sends no writes:\n{out}");
}

#[tokio::test]
async fn a_run_killed_mid_way_resumes_and_no_mailbox_is_written_more_than_its_steps_need() {
    let (_sim, url) = start_simulator(&[&["--mailboxes", "600", "--no-cases"][..], &QUICK_SIM[..]].concat());
    let dir = scratch_dir("kill");
    let ids: Vec<String> = e2e::mailbox_list(&url).await;
    write_list(&dir.join("list.csv"), &ids);
    let child = activator(&url)
        .args(["run", "--csv"])
        .arg(dir.join("list.csv"))
        .arg("--state")
        .arg(dir.join("state.db"))
        .args(CLIENT_LIMITS)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start activator: {e}"));
    // Killed once about a third of the writes (4 per mailbox) have landed.
    // In a RefCell: each round borrows it to see whether it is still running.
    let child = RefCell::new(child);
    wait_for("the run to get going (800 writes)", Duration::from_secs(120), || async {
        if writes(&url).await >= 800 {
            return Some(());
        }
        let ended = child.borrow_mut().try_wait().ok().flatten();
        assert!(ended.is_none(), "the run ended before it was killed");
        None
    })
    .await;
    let mut child = child.into_inner();
    child.kill().unwrap_or_else(|e| panic!("cannot kill: {e}"));
    let _ = child.wait();
    let at_kill = writes(&url).await;
    assert!(at_kill < 2_400, "killed before the end ({at_kill} writes)");

    let (code, out) = run(&url, &dir, &[]);
    assert_eq!(code, 0, "every mailbox ends done:\n{out}");
    let rows = read_results(&dir.join("state-results.csv"));
    assert_eq!(rows.iter().filter(|r| r["state"] == "done").count(), 600, "{out}");
    let stats = sim_json(&url, "/_sim/stats").await;
    assert_eq!(
        stats["writes"]["max_per_mailbox"], 4,
        "no mailbox written more often than its 4 steps need: {}",
        stats["writes"]
    );
    assert_eq!(stats["writes"]["total"], 2_400, "{}", stats["writes"]);
}

#[tokio::test]
async fn the_organization_prerequisite_pauses_the_batch_or_is_set_when_asked() {
    let (_sim, url) = start_simulator(
        &[&["--mailboxes", "20", "--no-cases", "--email-router"][..], &QUICK_SIM[..]].concat(),
    );
    let dir = scratch_dir("org");
    let ids: Vec<String> = e2e::mailbox_list(&url).await;
    write_list(&dir.join("list.csv"), &ids);
    let (code, out) = run(&url, &dir, &[]);
    assert_eq!(code, 3, "the batch pauses itself before anything is written:\n{out}");
    assert!(
        out.contains("paused itself (prerequisite)") && out.contains("org_not_server_side_sync"),
        "{out}"
    );
    assert!(out.contains("--configure-org"), "the remedy names the way out: {out}");
    assert_eq!(writes(&url).await, 0, "nothing written while the organization is not ready");

    let (code, out) = run_with_state(&url, &dir, "second.db", &["--configure-org"]);
    assert_eq!(code, 0, "with --configure-org the rollout goes through:\n{out}");
}

#[tokio::test]
async fn other_org_mailboxes_pass_with_overwrite_primary_org() {
    let (_sim, url) = start_simulator(
        &[&["--mailboxes", "30", "--no-cases", "--case", "other_org=0.3"][..], &QUICK_SIM[..]].concat(),
    );
    let dir = scratch_dir("primary");
    let ids: Vec<String> = e2e::mailbox_list(&url).await;
    write_list(&dir.join("list.csv"), &ids);
    let (code, out) = run(&url, &dir, &["--overwrite-primary-org"]);
    assert_eq!(code, 0, "{out}");
    let rows = read_results(&dir.join("state-results.csv"));
    assert!(rows.iter().all(|r| r["state"] == "done"), "{rows:?}");
    let other_org = &mailboxes_by_case(&url).await["other_org"];
    assert_eq!(other_org.len(), 9);
    for id in other_org {
        let truth = sim_json(&url, &format!("/_sim/mailboxes/{id}")).await;
        assert_eq!(truth["mailbox"]["orgmarkedasprimaryforexchangesync"], true, "{truth}");
        assert_eq!(truth["mailbox"]["actstatus"], 1, "{truth}");
    }
}

#[test]
fn bad_rows_are_reported_with_line_numbers_and_strict_rejects_the_list() {
    let dir = scratch_dir("rows");
    std::fs::write(dir.join("list.csv"), "email\nada@contoso.com\nnot-an-address\n\nada@contoso.com\n")
        .unwrap_or_else(|e| panic!("{e}"));
    // Nothing is started with --strict, so no simulator is needed.
    let (code, out) = run("http://127.0.0.1:9", &dir, &["--strict"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("list.csv:3: 'not-an-address'"), "{out}");
    assert!(out.contains("1 duplicate rows kept once (first at line 5)"), "{out}");
    assert!(out.contains("nothing was started"), "{out}");
}
