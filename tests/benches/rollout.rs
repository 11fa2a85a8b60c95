//! `make bench-rollout`: rollouts by `activator run` against `dataverse-sim` with Dataverse's
//! default rates per application user (600 requests and 120 s of execution per 30 s window:
//! the documented budgets over a tenth of the window): 2,000 mailboxes with one application
//! user; 3,000 with one and with three (the scaling); 20,000 with ten. Each row gives mailboxes
//! per second, the fastest the simulator's limits allow for the same requests and execution
//! time, their ratio, the 429 share and the process's peak memory; then the same rollout by a
//! plain sequential client (one request at a time, as a PowerShell loop would), on the first
//! 200 mailboxes.
//!
//! `BENCH_ROLLOUT_RUNS=2000x1,3000x1,3000x3,20000x10,sequential` chooses the runs (mailboxes x
//! application users).

use dataverse::{Credential, Dataverse, DataverseOptions, DeploymentOutcome, Secret, TestOutcome};
use e2e::{activator, app_users, mailboxes_by_case, start_simulator};
use std::time::{Duration, Instant};
use uuid::Uuid;

const MAILBOXES: usize = 2_000;
const SEQUENTIAL: usize = 200;
const WINDOW_SECS: u64 = 30;
const MAX_REQUESTS: u64 = 600;
const MAX_EXEC_MS: u64 = 120_000;

fn sim_args(mailboxes: usize, users: usize) -> Vec<String> {
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

struct Measured {
    mailboxes: usize,
    users: usize,
    elapsed: Duration,
    requests: u64,
    throttled: u64,
    exec_ms: u64,
    peak_rss_kib: Option<u64>,
    /// Requests by operation, as the simulator counted them.
    by_operation: Vec<(String, u64)>,
}

impl Measured {
    /// The least time the limits' sustained rates allow for these requests and this execution
    /// time: requests at 600 per 30 s, execution at 120 s per 30 s, whichever takes longer.
    /// (A fresh window could also be spent at once; over a rollout of thousands that bonus
    /// does not last, so it is left out.)
    fn bound(&self) -> Duration {
        let secs = |used: f64, budget: f64| used / (budget * self.users as f64) * WINDOW_SECS as f64;
        Duration::from_secs_f64(
            secs(self.requests as f64, MAX_REQUESTS as f64)
                .max(secs(self.exec_ms as f64, MAX_EXEC_MS as f64)),
        )
    }
}

fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

async fn pipeline(mailboxes: usize, users: usize) -> Measured {
    let args = sim_args(mailboxes, users);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (_sim, url) = start_simulator(&args);
    let dir = e2e::scratch_dir("bench");
    let ids: Vec<String> = e2e::mailbox_list(&url).await;
    std::fs::write(dir.join("list.csv"), format!("mailbox\n{}\n", ids.join("\n"))).expect("list written");
    let config = app_users::config(&dir, &url, users);
    // Built (by `activator`, through cargo) before the clock starts.
    let mut command = activator(&url);
    let started = Instant::now();
    let mut child = command
        .args(["run", "--csv"])
        .arg(dir.join("list.csv"))
        .arg("--config")
        .arg(&config)
        .args(["--environment", "sim"])
        .arg("--state")
        .arg(dir.join("state.db"))
        .args(["--window-secs", &WINDOW_SECS.to_string(), "--max-requests", &MAX_REQUESTS.to_string()])
        .args(["--max-exec-secs", &(MAX_EXEC_MS / 1000).to_string()])
        .stdout(std::process::Stdio::null())
        // Its progress lines (one every 5 s without a terminal), to see where the time goes.
        .stderr(std::fs::File::create(dir.join("progress.log")).expect("progress log"))
        .spawn()
        .expect("activator starts");
    println!("activator run's progress: {}", dir.join("progress.log").display());
    let mut peak = None;
    loop {
        if let Some(kib) = vm_hwm_kib(child.id()) {
            peak = Some(kib);
        }
        if child.try_wait().expect("activator can be waited for").is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let elapsed = started.elapsed();
    let e2e::SimRequests { total: requests, throttled, exec_ms, by_operation } =
        e2e::sim_requests(&url).await;
    Measured {
        mailboxes: ids.len(),
        users,
        elapsed,
        requests,
        throttled,
        exec_ms,
        peak_rss_kib: peak,
        by_operation,
    }
}

/// One request at a time, step by step over the list, polling each mailbox until its
/// process ends: what a script does.
async fn sequential() -> Measured {
    let args = sim_args(MAILBOXES, 1);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (_sim, url) = start_simulator(&args);
    let ids: Vec<Uuid> = mailboxes_by_case(&url).await["normal"]
        .iter()
        .take(SEQUENTIAL)
        .filter_map(|s| s.parse().ok())
        .collect();
    let mut options = DataverseOptions { batching: None, ..DataverseOptions::default() };
    options.budgets.window = Duration::from_secs(WINDOW_SECS);
    options.budgets.max_requests = MAX_REQUESTS;
    options.budgets.max_exec = Duration::from_millis(MAX_EXEC_MS);
    options.budgets.max_concurrency = 1;
    let credential = Credential {
        authority: format!("{url}/tenant"),
        client_id: app_users::client_id(0),
        client_secret: Secret::new(app_users::SECRET),
    };
    let dv = Dataverse::new(&url, vec![credential], options).expect("client");
    let started = Instant::now();
    for id in &ids {
        dv.approve_mailbox(*id).await.expect("approve");
    }
    for id in &ids {
        dv.schedule_test_and_enable(*id).await.expect("test and enable");
    }
    for id in &ids {
        loop {
            let m = &dv.mailboxes_by_ids(&[*id]).await.expect("read")[0];
            if m.test_outcome() != TestOutcome::Running {
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
    for id in &ids {
        let m = &dv.mailboxes_by_ids(&[*id]).await.expect("read")[0];
        let user = m.owner.expect("owner");
        let unit = dv.user_business_unit(user).await.expect("unit");
        let role = dv.role_in_unit(dataverse::APP_ROLE_NAME, unit).await.expect("role").expect("role exists");
        if !dv.user_has_role(user, role).await.expect("check") {
            dv.assign_role(user, role).await.expect("assign");
        }
    }
    for id in &ids {
        dv.schedule_app_deployment(*id).await.expect("deploy");
    }
    for id in &ids {
        loop {
            let m = &dv.mailboxes_by_ids(&[*id]).await.expect("read")[0];
            if m.deployment_outcome() != DeploymentOutcome::Running {
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
    let elapsed = started.elapsed();
    let e2e::SimRequests { total: requests, throttled, exec_ms, by_operation } =
        e2e::sim_requests(&url).await;
    Measured {
        mailboxes: ids.len(),
        users: 1,
        elapsed,
        requests,
        throttled,
        exec_ms,
        peak_rss_kib: None,
        by_operation,
    }
}

impl Measured {
    fn rate(&self) -> f64 {
        self.mailboxes as f64 / self.elapsed.as_secs_f64()
    }
}

fn row(name: &str, m: &Measured) {
    let rate = m.rate();
    let bound = m.bound();
    let best_rate = if bound.is_zero() { f64::INFINITY } else { m.mailboxes as f64 / bound.as_secs_f64() };
    println!(
        "| {name} | {} | {} | {:.1} | {rate:.2} | {best_rate:.2} | {:.2} | {} | {:.2}% | {:.0} | {} |",
        m.users,
        m.mailboxes,
        m.elapsed.as_secs_f64(),
        rate / best_rate,
        m.requests,
        100.0 * m.throttled as f64 / m.requests.max(1) as f64,
        m.exec_ms as f64 / 1000.0,
        m.peak_rss_kib.map_or("-".to_string(), |k| format!("{:.1} MiB", k as f64 / 1024.0)),
    );
}

#[tokio::main]
async fn main() {
    println!(
        "rollout benchmark: limits {MAX_REQUESTS} requests and {} s execution per {WINDOW_SECS} s window and application user (Dataverse's rates)",
        MAX_EXEC_MS / 1000
    );
    let runs = std::env::var("BENCH_ROLLOUT_RUNS")
        .unwrap_or_else(|_| "2000x1,sequential,3000x1,3000x3,20000x10".to_string());
    let mut measured: Vec<(String, Measured)> = Vec::new();
    for run in runs.split(',').map(str::trim) {
        if run == "sequential" {
            measured.push(("sequential script".to_string(), sequential().await));
            continue;
        }
        let Some((mailboxes, users)) =
            run.split_once('x').and_then(|(m, u)| Some((m.parse().ok()?, u.parse().ok()?)))
        else {
            panic!("BENCH_ROLLOUT_RUNS: '{run}' is not MAILBOXESxUSERS or sequential");
        };
        eprintln!("run: {mailboxes} mailboxes, {users} application users");
        measured.push(("activator run".to_string(), pipeline(mailboxes, users).await));
    }
    println!(
        "| client | application users | mailboxes | seconds | mailboxes/s | limits allow (mailboxes/s) | ratio | requests | 429 share | execution s | peak memory |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for (name, m) in &measured {
        row(name, m);
    }
    // Each added application user should add its full budget: the same rollout with more users
    // against the same rollout with one.
    let runs_of = |n: usize| measured.iter().filter(move |(name, m)| name == "activator run" && m.users == n);
    for (_, one) in runs_of(1) {
        for (_, more) in measured
            .iter()
            .filter(|(name, m)| name == "activator run" && m.users > 1 && m.mailboxes == one.mailboxes)
        {
            println!(
                "scaling: {} mailboxes, {} application users: {:.2}x one user ({:.2} vs {:.2} mailboxes/s; {:.2} would be linear)",
                one.mailboxes,
                more.users,
                more.rate() / one.rate(),
                more.rate(),
                one.rate(),
                more.users as f64
            );
        }
    }
    for (name, m) in &measured {
        let ops: Vec<String> = m.by_operation.iter().map(|(op, n)| format!("{op} {n}")).collect();
        println!("requests of {name} ({} mailboxes, {} users): {}", m.mailboxes, m.users, ops.join(", "));
    }
}
