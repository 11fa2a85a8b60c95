//! `make bench-plan`: `activator plan` against `dataverse-sim`.
//! - 100,000 mailboxes: how long the plan takes, and how many requests of each kind it sends
//!   (bulk reads only: at most one per 100 mailboxes per kind of read, and no write).
//! - The estimate against the run: 2,000 mailboxes planned, then rolled out by `activator run`,
//!   with 1 and with 3 application users, at Dataverse's rates over a 30 s window; prints the
//!   estimated and the measured duration and their difference.

use e2e::{activator, app_users, operations, start_simulator, write_operations};
use std::process::Stdio;
use std::time::Instant;

const WINDOW_SECS: &str = "30";
const MAX_REQUESTS: &str = "600";
const MAX_EXEC_SECS: &str = "120";

fn limits() -> [&'static str; 6] {
    ["--window-secs", WINDOW_SECS, "--max-requests", MAX_REQUESTS, "--max-exec-secs", MAX_EXEC_SECS]
}

/// Simulator arguments for `mailboxes` and `users` application users at the bench's rates.
fn sim_args(mailboxes: usize, users: usize) -> Vec<String> {
    let mut args: Vec<String> = [
        "--mailboxes",
        &mailboxes.to_string(),
        "--window-secs",
        WINDOW_SECS,
        "--max-requests",
        MAX_REQUESTS,
        "--max-exec-ms",
        "120000",
        "--test-delay-ms",
        "2000..8000",
        "--deploy-delay-ms",
        "1000..4000",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(app_users::sim_args(users));
    args
}

fn plan_json(sim: &str, dir: &std::path::Path, users: usize) -> (serde_json::Value, f64) {
    let config = app_users::config(dir, sim, users);
    let started = Instant::now();
    let out = activator(sim)
        .args(["plan", "--csv"])
        .arg(dir.join("list.csv"))
        .arg("--config")
        .arg(&config)
        .args(["--environment", "sim", "--format", "json"])
        // Test & Enable and deployment take at most 8 s and 4 s in this simulator.
        .args(["--process-secs", "12"])
        .args(limits())
        .stderr(Stdio::inherit())
        .output()
        .expect("activator plan runs");
    let secs = started.elapsed().as_secs_f64();
    assert!(out.status.success(), "activator plan failed");
    (serde_json::from_slice(&out.stdout).expect("the plan is JSON"), secs)
}

async fn plan_at_scale(mailboxes: usize) {
    let args = sim_args(mailboxes, 1);
    let (_sim, url) = start_simulator(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let dir = e2e::scratch_dir("bench-plan");
    e2e::write_list(&dir.join("list.csv"), &e2e::mailbox_list(&url).await);
    let (plan, secs) = plan_json(&url, &dir, 1);
    let ops = operations(&url).await;
    let total: u64 = ops.iter().map(|(_, n)| n).sum();
    println!(
        "plan of {mailboxes} mailboxes: {secs:.1} s, {total} requests ({} counted by the plan), {:.2} per 100 mailboxes",
        plan["plan_requests"],
        total as f64 * 100.0 / mailboxes as f64
    );
    for (op, n) in &ops {
        println!("  {op}: {n} ({:.2} per 100 mailboxes)", *n as f64 * 100.0 / mailboxes as f64);
    }
    println!("  writes: {:?}", write_operations(&url).await);
}

async fn estimate_against_run(users: usize) {
    let args = sim_args(2_000, users);
    let (_sim, url) = start_simulator(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let dir = e2e::scratch_dir("bench-plan-run");
    e2e::write_list(&dir.join("list.csv"), &e2e::mailbox_list(&url).await);
    let (plan, _) = plan_json(&url, &dir, users);
    let estimate = &plan["estimate"];
    let config = app_users::config(&dir, &url, users);
    let started = Instant::now();
    let status = activator(&url)
        .args(["run", "--csv"])
        .arg(dir.join("list.csv"))
        .arg("--config")
        .arg(&config)
        .args(["--environment", "sim", "--state"])
        .arg(dir.join("state.db"))
        .args(limits())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("activator run runs");
    let measured = started.elapsed().as_secs_f64();
    let estimated = estimate["duration_secs"].as_f64().unwrap_or(0.0);
    println!(
        "| {users} | {estimated:.0} | {measured:.0} | {:+.1}% | {} | {} | {} |",
        (estimated - measured) / measured * 100.0,
        estimate["requests"],
        estimate["execution_secs"],
        status.code().unwrap_or(-1)
    );
}

#[tokio::main]
async fn main() {
    // `activator` is built (through cargo) on first use: before any clock starts.
    let _ = activator("http://127.0.0.1:1");
    let mailboxes =
        std::env::var("BENCH_PLAN_MAILBOXES").ok().and_then(|n| n.parse().ok()).unwrap_or(100_000);
    plan_at_scale(mailboxes).await;
    println!(
        "estimate against the run (2,000 mailboxes, 600 requests and 120 s of execution per 30 s per user):"
    );
    println!(
        "| application users | estimated s | measured s | difference | estimated requests | estimated execution s | run's exit |"
    );
    println!("|---|---|---|---|---|---|---|");
    for users in [1, 3] {
        estimate_against_run(users).await;
    }
}
