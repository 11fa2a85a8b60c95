//! The canary as users meet it, with every approval refused to the application user
//! (`--case approval_needs_admin=1`): `activator run` writes at most the canary's mailboxes,
//! pauses and exits 3 with the remedy, and the same command finishes the batch once an admin
//! has granted the right; through `activator api` and two workers the batch shows `paused`
//! with its reason, and `resume` finishes it.

use e2e::{
    QUICK_SIM, activator, mailbox_list, metrics_worker, read_results, run, scratch_dir, sim_json,
    spawn_announcing, start_simulator, wait_for, write_list,
};
use serde_json::{Value, json};
use std::time::Duration;

const TOKEN: &str = "e2e-operator-token";

/// Mailboxes the simulator has taken at least one write for.
async fn mailboxes_written(sim: &str) -> u64 {
    let stats = sim_json(sim, "/_sim/stats").await;
    let by_count = stats["writes"]["mailboxes_by_write_count"].as_object().cloned().unwrap_or_default();
    by_count.iter().filter(|(n, _)| *n != "0").filter_map(|(_, m)| m.as_u64()).sum()
}

async fn clear_case(sim: &str) {
    let answer = reqwest::Client::new()
        .post(format!("{sim}/_sim/cases/approval_needs_admin/clear"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("clear the case: {e}"));
    assert!(answer.status().is_success(), "clear the case: {}", answer.status());
}

fn refused_sim(mailboxes: &str) -> Vec<&str> {
    [&["--mailboxes", mailboxes, "--no-cases", "--case", "approval_needs_admin=1"][..], &QUICK_SIM[..]]
        .concat()
}

#[tokio::test]
async fn run_pauses_after_the_canary_and_the_same_command_finishes_after_the_fix() {
    let (_sim, url) = start_simulator(&refused_sim("2000"));
    let dir = scratch_dir("canary-run");
    write_list(&dir.join("list.csv"), &mailbox_list(&url).await);

    let (code, out) = run(&url, &dir, &[]);
    assert_eq!(code, 3, "the batch pauses itself:\n{out}");
    assert!(out.contains("paused itself (canary)") && out.contains("0x80040220"), "{out}");
    assert!(out.contains("what to do:") && out.contains("Exchange"), "the remedy is printed:\n{out}");
    assert!(mailboxes_written(&url).await <= 20, "at most the canary's 20 mailboxes were written");
    let rows = read_results(&dir.join("state-results.csv"));
    let failed = rows.iter().filter(|r| r["state"] == "failed").count();
    assert_eq!(failed, 20, "the canary's mailboxes failed; the rest did not start");

    clear_case(&url).await;
    let (code, out) = run(&url, &dir, &[]);
    assert_eq!(code, 0, "the same command finishes the batch:\n{out}");
    assert!(out.contains("resuming batch") && out.contains("20 failed mailboxes start again"), "{out}");
    let rows = read_results(&dir.join("state-results.csv"));
    assert!(rows.len() == 2000 && rows.iter().all(|r| r["state"] == "done"), "every mailbox is done");
}

async fn batch_view(api: &str, id: &str) -> Value {
    let answer = reqwest::Client::new()
        .get(format!("{api}/v1/batches/{id}"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET the batch: {e}"));
    answer.json().await.unwrap_or_else(|e| panic!("the batch view: {e}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn through_the_api_the_batch_shows_paused_with_its_reason_and_resume_finishes_it() {
    let redis = testkit::test_redis_url().await;
    let namespace = testkit::unique_prefix();
    let (_sim, sim) = start_simulator(&refused_sim("600"));
    let mut cmd = activator(&sim);
    cmd.args(["api", "--redis", &redis, "--namespace", &namespace, "--listen", "127.0.0.1:0"])
        .env("ACTIVATOR_API_TOKENS", format!("operator:{TOKEN}"));
    let (_api_process, api) = spawn_announcing(cmd, "activator api listening on ");
    let (_first, _) = metrics_worker(&sim, &redis, &namespace);
    let (_second, _) = metrics_worker(&sim, &redis, &namespace);

    let http = reqwest::Client::new();
    let body = json!({"mailboxes": mailbox_list(&sim).await, "steps": ["approve", "test_and_enable", "assign_role", "deploy_app"]});
    let created: Value = http
        .post(format!("{api}/v1/batches"))
        .bearer_auth(TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST the batch: {e}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("the created batch: {e}"));
    let id = created["batch"]["id"].as_str().unwrap_or_else(|| panic!("no id in {created}")).to_string();

    let paused = wait_for("the batch to pause itself", Duration::from_secs(120), || async {
        let view = batch_view(&api, &id).await;
        (view["state"] == "paused").then_some(view)
    })
    .await;
    let reason = &paused["paused_reason"];
    assert_eq!(
        (reason["by"].as_str(), reason["code"].as_str()),
        (Some("canary"), Some("0x80040220")),
        "{paused}"
    );
    assert!(reason["remedy"].as_str().is_some_and(|r| r.contains("resume")), "{paused}");
    assert_eq!(paused["not_started"], 590, "only the canary of 10 started: {paused}");
    assert!(mailboxes_written(&sim).await <= 10);

    clear_case(&sim).await;
    let resumed = http
        .post(format!("{api}/v1/batches/{id}/resume"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap_or_else(|e| panic!("resume: {e}"));
    assert_eq!(resumed.status(), 200);
    let done = wait_for("the batch to complete", Duration::from_secs(300), || async {
        let view = batch_view(&api, &id).await;
        (view["state"] == "completed").then_some(view)
    })
    .await;
    assert_eq!(
        (done["counts"]["done"].as_u64(), done["counts"]["failed"].as_u64()),
        (Some(590), Some(10)),
        "{done}"
    );
    assert!(done.get("paused_reason").is_none(), "resuming cleared the reason: {done}");
    testkit::remove_keys(&namespace).await;
}
