//! `activator serve` (API and worker in one process, embedded store) against `dataverse-sim`:
//! a batch posted over HTTP completes, with every seeded case ending as designed, and the
//! process stops cleanly on SIGTERM.

use e2e::{
    CLIENT_LIMITS, QUICK_SIM, Running, activator, mailboxes_by_case, scratch_dir, start_simulator, wait_for,
};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

pub(crate) const TOKEN: &str = "e2e-operator";

/// Starts `activator serve` on a free port; returns it with the API's base URL.
pub(crate) fn serve(sim: &str, state: &std::path::Path) -> (Running, String) {
    let mut child = activator(sim)
        .args(["serve", "--listen", "127.0.0.1:0", "--state"])
        .arg(state)
        .args(CLIENT_LIMITS)
        .env("ACTIVATOR_API_TOKENS", format!("operator:{TOKEN}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start activator serve: {e}"));
    let mut line = String::new();
    if let Some(stdout) = child.stdout.take() {
        let _ = BufReader::new(stdout).read_line(&mut line);
    }
    let url = line.trim().rsplit(' ').next().unwrap_or_default().to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "activator serve's ready line was {line:?}");
    (Running(child), url)
}

pub(crate) async fn get(http: &reqwest::Client, url: &str) -> Value {
    let answer = http.get(url).bearer_auth(TOKEN).send().await.unwrap_or_else(|e| panic!("GET {url}: {e}"));
    assert!(answer.status().is_success(), "GET {url}: {}", answer.status());
    answer.json().await.unwrap_or_else(|e| panic!("GET {url}: not JSON: {e}"))
}

#[tokio::test]
async fn a_batch_posted_to_serve_completes_with_every_case_as_designed() {
    let (_sim, sim) = start_simulator(&[&["--mailboxes", "50"][..], &QUICK_SIM[..]].concat());
    let dir = scratch_dir("serve");
    let (mut server, api) = serve(&sim, &dir.join("state.db"));
    let by_case = mailboxes_by_case(&sim).await;
    let ids: Vec<String> = e2e::mailbox_list(&sim).await;
    let failing: usize = by_case
        .iter()
        .filter(|(case, _)| !matches!(case.as_str(), "normal" | "already_approved" | "already_tested"))
        .map(|(_, ids)| ids.len())
        .sum();
    let http = reqwest::Client::new();

    let ready = get(&http, &format!("{api}/readyz")).await;
    assert_eq!(ready["status"], "ready", "{ready}");
    let body =
        json!({"mailboxes": ids, "steps": ["approve", "test_and_enable", "assign_role", "deploy_app"]});
    let created = http.post(format!("{api}/v1/batches")).bearer_auth(TOKEN).json(&body).send().await.unwrap();
    assert_eq!(created.status().as_u16(), 202);
    let created: Value = created.json().await.unwrap();
    let id = created["batch"]["id"].as_str().unwrap().to_string();
    assert_eq!(created["batch"]["total"], 50);

    let view = wait_for("the batch to complete", Duration::from_secs(300), || async {
        let view = get(&http, &format!("{api}/v1/batches/{id}")).await;
        (view["state"] == "completed").then_some(view)
    })
    .await;
    assert_eq!(view["finished"], 50, "{view}");
    assert_eq!(view["counts"]["failed"].as_u64(), Some(failing as u64), "{view}");
    assert_eq!(view["counts"]["done"].as_u64(), Some(50 - failing as u64), "{view}");
    let failed = get(&http, &format!("{api}/v1/batches/{id}/mailboxes?state=failed&limit=1000")).await;
    let failed = failed["mailboxes"].as_array().unwrap();
    assert_eq!(failed.len(), failing);
    assert!(
        failed.iter().all(|m| m["error"]["code"].is_string() && m["error"]["remedy"].is_string()),
        "{failed:?}"
    );
    let metrics = http.get(format!("{api}/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("activator_batches_created_total 1"), "{metrics}");

    let pid = server.0.id().to_string();
    let sent = std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(sent.success());
    let status = wait_for("activator serve to stop after SIGTERM", Duration::from_secs(30), || {
        std::future::ready(server.0.try_wait().unwrap())
    })
    .await;
    assert!(status.success(), "activator serve stopped with {status}");
    let _ = std::fs::remove_dir_all(dir);
}
