//! Helpers for end-to-end tests that run the project's binaries as separate processes.

use std::process::Command;

pub use testkit::{Running, binary, spawn_announcing, wait_for};

/// Starts `dataverse-sim --listen 127.0.0.1:0 ARGS…` and returns it with the base URL it
/// printed when ready.
pub fn start_simulator(args: &[&str]) -> (Running, String) {
    let mut cmd = Command::new(binary("dataverse-sim"));
    cmd.args(["--listen", "127.0.0.1:0"]).args(args);
    let (running, url) = spawn_announcing(cmd, "dataverse-sim listening on ");
    assert!(url.starts_with("http://127.0.0.1:"), "dataverse-sim's ready line named {url:?}");
    (running, url)
}

/// Writes `refs` as a one-column mailbox list with a header.
pub fn write_list(path: &std::path::Path, refs: &[String]) {
    let mut text = String::from("mailbox\n");
    for r in refs {
        text.push_str(r);
        text.push('\n');
    }
    std::fs::write(path, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}

/// Runs `activator run --csv dir/list.csv` to its end with the state in `dir/state.db`; returns the exit code
/// and what it printed.
pub fn run(sim: &str, dir: &std::path::Path, extra: &[&str]) -> (i32, String) {
    run_with_state(sim, dir, "state.db", extra)
}

/// [`run`] with the state in `dir/state`.
pub fn run_with_state(sim: &str, dir: &std::path::Path, state: &str, extra: &[&str]) -> (i32, String) {
    let out = activator(sim)
        .args(["run", "--csv"])
        .arg(dir.join("list.csv"))
        .arg("--state")
        .arg(dir.join(state))
        .args(CLIENT_LIMITS)
        .args(extra)
        .output()
        .unwrap_or_else(|e| panic!("cannot run activator: {e}"));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), text)
}

/// A fresh folder under the system's temporary folder, for one test's files.
pub fn scratch_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("activator-e2e-{name}-{}", testkit::unique_prefix()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    dir
}

/// The simulator's quick profile for rollout tests: asynchronous processes of well under a
/// second, and a 10 s limits window (the client is told the same with [`CLIENT_LIMITS`]).
pub const QUICK_SIM: [&str; 6] =
    ["--test-delay-ms", "200..800", "--deploy-delay-ms", "100..400", "--window-secs", "10"];

/// The client's limits matching [`QUICK_SIM`].
pub const CLIENT_LIMITS: [&str; 2] = ["--window-secs", "10"];

/// `activator` as a command, configured for the simulator at `sim` by the `ACTIVATOR_*`
/// variables (the simulator's default application user).
pub fn activator(sim: &str) -> Command {
    let mut cmd = Command::new(binary("activator"));
    cmd.env("ACTIVATOR_DATAVERSE_URL", sim)
        .env("ACTIVATOR_AUTHORITY", format!("{sim}/tenant"))
        .env("ACTIVATOR_CLIENT_ID", "51f81489-12ee-4a9e-aaae-a2591f45987d")
        .env("ACTIVATOR_CLIENT_SECRET", "sim-secret")
        .env_remove("ACTIVATOR_STATE")
        .env_remove("ACTIVATOR_REDIS_URL");
    cmd
}

/// Creates a batch of every step for `mailboxes` in the Redis store of `namespace` (environment
/// `default`), as the API would; returns the store with the batch.
pub async fn create_redis_batch(
    redis: &str,
    namespace: &str,
    mailboxes: Vec<String>,
    options: serde_json::Value,
) -> (store::RedisStore, store::Batch) {
    let store = store::RedisStore::connect(redis, &format!("{namespace}:store"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let new = store::NewBatch {
        idempotency_key: None,
        environment: "default".into(),
        steps: activator_core::Step::ALL.to_vec(),
        options,
        mailboxes,
    };
    let (batch, _) = store::BatchStore::create_batch(&store, new, store::clock::now())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    (store, batch)
}

/// GET `path` of the simulator as JSON.
pub async fn sim_json(sim: &str, path: &str) -> serde_json::Value {
    let url = format!("{sim}{path}");
    let answer = reqwest::get(&url).await.unwrap_or_else(|e| panic!("GET {url}: {e}"));
    answer.json().await.unwrap_or_else(|e| panic!("GET {url}: not JSON: {e}"))
}

/// Every seeded mailbox id by its case (`/_sim/mailboxes`).
pub async fn mailboxes_by_case(sim: &str) -> std::collections::BTreeMap<String, Vec<String>> {
    serde_json::from_value(sim_json(sim, "/_sim/mailboxes").await).unwrap_or_else(|e| panic!("cases: {e}"))
}

/// Every seeded mailbox id, sorted: ids are random, so the awkward cases are spread through
/// the list as in a real export (a list grouped by case would put, say, every mailbox whose
/// approval needs an admin next to each other, which the circuit breaker rightly stops).
pub async fn mailbox_list(sim: &str) -> Vec<String> {
    let mut ids: Vec<String> = mailboxes_by_case(sim).await.into_values().flatten().collect();
    ids.sort();
    ids
}

/// Requests by operation the simulator counted, top-level and inside `$batch` requests.
pub async fn operations(sim: &str) -> Vec<(String, u64)> {
    let stats = sim_json(sim, "/_sim/stats").await;
    let mut ops = Vec::new();
    for key in ["requests", "batch_operations"] {
        for (op, by_status) in stats[key].as_object().into_iter().flatten() {
            let n = by_status.as_object().into_iter().flatten().filter_map(|(_, n)| n.as_u64()).sum();
            ops.push((op.clone(), n));
        }
    }
    ops
}

/// The operations the simulator counted that change something (anything but reads, WhoAmI and
/// the `$batch` envelope).
pub async fn write_operations(sim: &str) -> Vec<String> {
    operations(sim)
        .await
        .into_iter()
        .map(|(op, _)| op)
        .filter(|op| !(op.starts_with("retrieve") || op == "whoami" || op == "batch"))
        .collect()
}

/// Total writes the simulator has taken.
pub async fn writes(sim: &str) -> u64 {
    sim_json(sim, "/_sim/stats").await["writes"]["total"]
        .as_u64()
        .unwrap_or_else(|| panic!("stats without writes"))
}

/// Rows of a results CSV, as maps from column name to value.
pub fn read_results(path: &std::path::Path) -> Vec<std::collections::BTreeMap<String, String>> {
    let mut reader =
        csv::Reader::from_path(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let headers = reader.headers().unwrap_or_else(|e| panic!("results header: {e}")).clone();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap_or_else(|e| panic!("results row: {e}"));
            headers.iter().zip(r.iter()).map(|(h, v)| (h.to_string(), v.to_string())).collect()
        })
        .collect()
}

pub mod app_users;
pub mod scrape;

/// The HTTP requests the simulator answered (a `$batch` counts once), from `/_sim/stats`.
#[derive(Debug, Clone, Default)]
pub struct SimRequests {
    pub total: u64,
    /// Answered 429.
    pub throttled: u64,
    /// Execution time the simulator charged, every application user together.
    pub exec_ms: u64,
    /// Requests by operation, most first.
    pub by_operation: Vec<(String, u64)>,
}

pub async fn sim_requests(sim: &str) -> SimRequests {
    let stats = sim_json(sim, "/_sim/stats").await;
    let mut counted = SimRequests::default();
    for (op, by_status) in stats["requests"].as_object().into_iter().flatten() {
        let mut of_op = 0;
        for (status, n) in by_status.as_object().into_iter().flatten() {
            let n = n.as_u64().unwrap_or(0);
            of_op += n;
            if status == "429" {
                counted.throttled += n;
            }
        }
        counted.total += of_op;
        counted.by_operation.push((op.clone(), of_op));
    }
    counted.by_operation.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    counted.exec_ms =
        stats["exec_ms"].as_object().into_iter().flatten().filter_map(|(_, v)| v.as_u64()).sum();
    counted
}

/// The state and error code each seeded case of the simulator ends in after a rollout of every
/// step with the default options.
pub fn expected_outcome(case: &str) -> (&'static str, &'static str) {
    match case {
        "normal" | "already_approved" | "already_tested" => ("done", ""),
        "approval_needs_admin" => ("failed", "0x80040220"),
        "approval_rejected" => ("failed", "approval_rejected"),
        "inactive_mailbox" => ("failed", "mailbox_inactive"),
        "other_org" => ("failed", "other_organization"),
        "user_disabled" => ("failed", "test_failed"),
        "deleted_mid_run" => ("failed", "mailbox_not_found"),
        "no_role_in_business_unit" => ("failed", "role_missing_in_business_unit"),
        other => panic!("a case this test does not know: {other}"),
    }
}

/// Checks every item of `batch` (whose mailboxes are the simulator's ids) against the
/// simulator's ground truth: the state and error its case calls for, and for each done
/// mailbox, approved, tested, holding the role and with the app deployed in the simulator.
pub async fn assert_items_match_ground_truth(
    store: &impl store::BatchStore,
    batch: store::BatchId,
    sim: &str,
) {
    let case_of: std::collections::BTreeMap<String, String> = mailboxes_by_case(sim)
        .await
        .into_iter()
        .flat_map(|(case, ids)| ids.into_iter().map(move |id| (id, case.clone())))
        .collect();
    let mut after = None;
    let mut seen = 0;
    loop {
        let page = store.items(batch, None, after, 1_000).await.unwrap_or_else(|e| panic!("{e}"));
        let Some(last) = page.last() else { break };
        after = Some(last.index);
        for item in page {
            seen += 1;
            let case = case_of.get(&item.mailbox).unwrap_or_else(|| panic!("not a seeded mailbox: {item:?}"));
            let (state, code) = expected_outcome(case);
            let got_code = item.error.as_ref().map_or("", |e| e.code.as_str());
            assert_eq!((item.state.name(), got_code), (state, code), "{case}: {item:?}");
            if state == "done" {
                let truth = sim_json(sim, &format!("/_sim/mailboxes/{}", item.mailbox)).await;
                let mailbox = &truth["mailbox"];
                let rolled_out = mailbox["emailrouteraccessapproval"] == 1
                    && mailbox["incomingemailstatus"] == 1
                    && mailbox["outgoingemailstatus"] == 1
                    && truth["has_app_role"] == true
                    && mailbox["officeappsdeploymentstatus"] == 1;
                assert!(rolled_out, "{case} is done but the simulator says otherwise: {truth}");
            }
        }
    }
    assert_eq!(seen, case_of.len(), "one item per seeded mailbox");
}

/// Starts `activator worker` over Redis for the simulator at `sim`, with its metrics server on
/// a free port, and returns it with that server's base URL.
pub fn metrics_worker(sim: &str, redis: &str, namespace: &str) -> (Running, String) {
    let mut cmd = activator(sim);
    cmd.args(["worker", "--redis", redis, "--namespace", namespace, "--metrics-listen", "127.0.0.1:0"])
        .args(CLIENT_LIMITS)
        // A killed worker's mailboxes return to the others after 15 s instead of a minute.
        .args(["--reclaim-after-secs", "15"]);
    let (running, url) = spawn_announcing(cmd, "metrics on ");
    (running, url.strip_suffix("/metrics").unwrap_or(&url).to_string())
}
