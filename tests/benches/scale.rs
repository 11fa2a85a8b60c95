//! `make bench-scale`: how our own cost grows with the batch. A rollout of 2,000, 20,000 and
//! 100,000 simulated mailboxes through `activator api` and 4 `activator worker` processes over
//! a Redis of the bench's own, with 10 application users at Dataverse's rates (600 requests
//! and 120 s of execution per 30 s window each), Test & Enable taking 1–4 s and deployment
//! 0.5–2 s. For each size it prints a row: mailboxes per second and their ratio to what the
//! limits allow, CPU seconds of the workers and of the API per 1,000 mailboxes, Redis commands
//! per mailbox (`INFO commandstats`), Redis memory at the batch's peak, once it ended, and
//! after `DELETE /v1/batches/{id}`, the workers' peak RSS, and the load average.
//!
//! `BENCH_SCALE_SIZES=2000,20000` chooses the sizes.

use e2e::{Running, activator, app_users, spawn_announcing, start_simulator};
use std::process::Command;
use std::time::{Duration, Instant};
use testkit::{RedisProcess, free_port};

const TOKEN: &str = "bench-token";
const USERS: usize = 10;
const WORKERS: usize = 4;
const WINDOW_SECS: u64 = 30;
const MAX_REQUESTS: u64 = 600;
const MAX_EXEC_MS: u64 = 120_000;

fn sim_args(mailboxes: usize) -> Vec<String> {
    let mut args: Vec<String> = [
        "--mailboxes",
        &mailboxes.to_string(),
        "--window-secs",
        &WINDOW_SECS.to_string(),
        "--max-requests",
        &MAX_REQUESTS.to_string(),
        "--max-exec-ms",
        &MAX_EXEC_MS.to_string(),
        "--test-delay-ms",
        "1000..4000",
        "--deploy-delay-ms",
        "500..2000",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(app_users::sim_args(USERS));
    args
}

fn redis_cli(port: u16, args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .args(["-p", &port.to_string()])
        .args(args)
        .output()
        .expect("redis-cli runs");
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn info_field(port: u16, section: &str, field: &str) -> u64 {
    redis_cli(port, &["INFO", section])
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:"))?.trim().parse().ok())
        .unwrap_or(0)
}

/// Commands Redis ran since the last `CONFIG RESETSTAT`, by command, most first.
fn redis_commands(port: u16) -> Vec<(String, u64)> {
    let mut by_command: Vec<(String, u64)> = redis_cli(port, &["INFO", "commandstats"])
        .lines()
        .filter_map(|l| {
            let (name, rest) = l.strip_prefix("cmdstat_")?.split_once(':')?;
            Some((name.to_string(), rest.split("calls=").nth(1)?.split(',').next()?.parse().ok()?))
        })
        .collect();
    by_command.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    by_command
}

fn proc_status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find(|l| l.starts_with(field))?.split_whitespace().nth(1)?.parse().ok()
}

/// User and system CPU seconds of a running process.
fn cpu_secs(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return 0.0 };
    // The fields after the command name (which may hold spaces) in parentheses.
    let fields: Vec<&str> = stat.rsplit_once(')').map_or("", |(_, rest)| rest).split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map_or_else(|_| "?".into(), |l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
}

async fn batch_view(http: &reqwest::Client, api: &str, batch: &str) -> serde_json::Value {
    http.get(format!("{api}/v1/batches/{batch}"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("GET batch")
        .json()
        .await
        .expect("batch JSON")
}

async fn rollout(mailboxes: usize) {
    let port = free_port().expect("a free port");
    let args = ["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
    let _redis = RedisProcess::start(port, args.map(String::from).to_vec()).expect("redis-server starts");
    let redis = format!("redis://127.0.0.1:{port}");
    let sim_args = sim_args(mailboxes);
    let (_sim, sim) = start_simulator(&sim_args.iter().map(String::as_str).collect::<Vec<_>>());
    let dir = e2e::scratch_dir("bench-scale");
    let config = app_users::config(&dir, &sim, USERS);
    let ids = e2e::mailbox_list(&sim).await;
    let common = |cmd: &mut Command| {
        cmd.arg("--config").arg(&config).args([
            "--environment",
            "sim",
            "--redis",
            &redis,
            "--namespace",
            "bench",
        ]);
    };
    let mut api_cmd = activator(&sim);
    api_cmd.arg("api");
    common(&mut api_cmd);
    api_cmd
        .args(["--listen", "127.0.0.1:0", "--retention-days", "0"])
        .env("ACTIVATOR_API_TOKENS", format!("operator:{TOKEN}"));
    let (api_process, api) = spawn_announcing(api_cmd, "activator api listening on ");
    let mut workers: Vec<Running> = Vec::new();
    for _ in 0..WORKERS {
        let mut cmd = activator(&sim);
        cmd.arg("worker");
        common(&mut cmd);
        cmd.args(["--metrics-listen", "127.0.0.1:0"]);
        workers.push(spawn_announcing(cmd, "metrics on ").0);
    }
    let pids: Vec<u32> = workers.iter().map(|w| w.0.id()).collect();
    let api_pid = api_process.0.id();
    let cpu_before: Vec<f64> = pids.iter().map(|&p| cpu_secs(p)).collect();
    let api_cpu_before = cpu_secs(api_pid);
    let memory_before = info_field(port, "memory", "used_memory");
    redis_cli(port, &["CONFIG", "RESETSTAT"]);

    let http = reqwest::Client::new();
    let started = Instant::now();
    let created: serde_json::Value = http
        .post(format!("{api}/v1/batches"))
        .bearer_auth(TOKEN)
        .json(&serde_json::json!({
            "mailboxes": ids,
            "environment": "sim",
            "steps": ["approve", "test_and_enable", "assign_role", "deploy_app"],
        }))
        .send()
        .await
        .expect("POST the batch")
        .json()
        .await
        .expect("the created batch");
    let batch =
        created["batch"]["id"].as_str().unwrap_or_else(|| panic!("no batch in {created}")).to_string();
    let mut peak_memory = 0;
    let mut peak_rss = [0u64; WORKERS];
    let mut last_report = Instant::now();
    let view = loop {
        let view = batch_view(&http, &api, &batch).await;
        peak_memory = peak_memory.max(info_field(port, "memory", "used_memory"));
        for (peak, &pid) in peak_rss.iter_mut().zip(&pids) {
            *peak = (*peak).max(proc_status_kib(pid, "VmHWM:").unwrap_or(0));
        }
        if matches!(view["state"].as_str(), Some("completed" | "cancelled")) {
            break view;
        }
        if view["state"] == "paused" {
            panic!("the batch paused itself: {view}");
        }
        if last_report.elapsed() >= Duration::from_secs(30) {
            eprintln!(
                "  {:>4.0} s: {} of {mailboxes} finished",
                started.elapsed().as_secs_f64(),
                view["finished"]
            );
            last_report = Instant::now();
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    let elapsed = started.elapsed().as_secs_f64();
    let by_command = redis_commands(port);
    let commands: u64 = by_command.iter().map(|(_, n)| n).sum();
    let workers_cpu: f64 = pids.iter().zip(&cpu_before).map(|(&p, before)| cpu_secs(p) - before).sum();
    let api_cpu = cpu_secs(api_pid) - api_cpu_before;
    let memory_ended = info_field(port, "memory", "used_memory");
    let deleted =
        http.delete(format!("{api}/v1/batches/{batch}")).bearer_auth(TOKEN).send().await.expect("DELETE");
    assert_eq!(deleted.status(), 204, "DELETE the batch");
    // UNLINK frees large keys in the background: read the memory once Redis is done.
    let freeing = Instant::now();
    while info_field(port, "memory", "lazyfree_pending_objects") > 0
        && freeing.elapsed() < Duration::from_secs(30)
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let memory_deleted = info_field(port, "memory", "used_memory");
    let mut left: std::collections::BTreeMap<String, u64> = std::collections::BTreeMap::new();
    for key in redis_cli(port, &["--scan"]).lines() {
        let kind: Vec<&str> = key.split(':').take(3).collect();
        *left.entry(kind.join(":")).or_default() += 1;
    }
    eprintln!("  keys left after DELETE, by their first three parts: {left:?}");
    let counted = e2e::sim_requests(&sim).await;
    let (requests, exec_ms) = (counted.total, counted.exec_ms);
    let per_sec = |used: f64, budget: f64| used / (budget * USERS as f64) * WINDOW_SECS as f64;
    let bound =
        per_sec(requests as f64, MAX_REQUESTS as f64).max(per_sec(exec_ms as f64, MAX_EXEC_MS as f64));
    let per_1000 = |secs: f64| secs / mailboxes as f64 * 1000.0;
    let mib = |bytes: u64| bytes as f64 / (1024.0 * 1024.0);
    println!(
        "| {mailboxes} | {elapsed:.0} | {:.1} | {:.1} | {:.2} | {:.1} | {:.2} | {:.1} | {:.1} | {:.1} | {:.1} | {:.0} | {} | {} |",
        mailboxes as f64 / elapsed,
        mailboxes as f64 / bound,
        bound / elapsed,
        per_1000(workers_cpu),
        per_1000(api_cpu),
        commands as f64 / mailboxes as f64,
        mib(peak_memory.saturating_sub(memory_before)),
        mib(memory_ended.saturating_sub(memory_before)),
        mib(memory_deleted.saturating_sub(memory_before)),
        peak_rss.iter().copied().max().unwrap_or(0) as f64 / 1024.0,
        view["counts"]["failed"],
        load_average(),
    );
    let top: Vec<String> = by_command
        .iter()
        .take(8)
        .map(|(name, n)| format!("{name} {:.1}", *n as f64 / mailboxes as f64))
        .collect();
    eprintln!("  Redis commands per mailbox, by command: {}", top.join(", "));
}

#[tokio::main]
async fn main() {
    // `activator` is built (through cargo) on first use: before any clock starts.
    let _ = activator("http://127.0.0.1:1");
    let sizes: Vec<usize> = std::env::var("BENCH_SCALE_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![2_000, 20_000, 100_000]);
    println!(
        "| mailboxes | seconds | mailboxes/s | the limits allow | ratio | worker CPU s per 1,000 | API CPU s per 1,000 | Redis commands per mailbox | Redis MiB at peak | MiB after the end | MiB after DELETE | worker peak RSS MiB | failed | load average |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for mailboxes in sizes {
        rollout(mailboxes).await;
    }
}
