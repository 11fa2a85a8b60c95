//! Helpers for end-to-end tests that run the project's binaries as separate processes.

use std::process::Command;

pub use testkit::{Running, binary};

/// Starts `dataverse-sim --listen 127.0.0.1:0 ARGS…` and returns it with the base URL it
/// printed when ready.
pub fn start_simulator(args: &[&str]) -> (Running, String) {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let mut child = Command::new(binary("dataverse-sim"))
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start dataverse-sim: {e}"));
    let mut line = String::new();
    if let Some(stdout) = child.stdout.take() {
        let _ = BufReader::new(stdout).read_line(&mut line);
    }
    let url = line.trim().rsplit(' ').next().unwrap_or_default().to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "dataverse-sim's ready line was {line:?}");
    (Running(child), url)
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

/// Milliseconds since the Unix epoch, as the store keeps time.
pub fn now_ms() -> i64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}

/// Creates a batch of every step for `mailboxes` in the Redis store of `namespace` (environment
/// `default`), as the API would; returns the store with the batch.
pub async fn create_redis_batch(
    redis: &str,
    namespace: &str,
    mailboxes: Vec<String>,
) -> (store::RedisStore, store::Batch) {
    let store = store::RedisStore::connect(redis, &format!("{namespace}:store"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let new = store::NewBatch {
        idempotency_key: None,
        environment: "default".into(),
        steps: activator_core::Step::ALL.to_vec(),
        options: serde_json::json!({}),
        mailboxes,
    };
    let (batch, _) =
        store::BatchStore::create_batch(&store, new, now_ms()).await.unwrap_or_else(|e| panic!("{e}"));
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

pub mod scrape;

/// Spawns `cmd` and returns it with the rest of the first line, on its stdout or stderr, that
/// starts with `prefix` (such as the address a server bound to). Both streams are passed on to
/// the test's stderr, so a failing test shows what the process said.
pub fn spawn_announcing(mut cmd: Command, prefix: &str) -> (Running, String) {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    use std::sync::mpsc;
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    let name = cmd.get_args().next().and_then(|a| a.to_str()).unwrap_or("process").to_string();
    let (tx, rx) = mpsc::channel();
    let streams: [Box<dyn std::io::Read + Send>; 2] = [
        Box::new(child.stdout.take().unwrap_or_else(|| panic!("no stdout"))),
        Box::new(child.stderr.take().unwrap_or_else(|| panic!("no stderr"))),
    ];
    for stream in streams {
        let (tx, prefix, name) = (tx.clone(), prefix.to_string(), name.clone());
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                eprintln!("{name}: {line}");
                if let Some(rest) = line.strip_prefix(&prefix) {
                    let _ = tx.send(rest.trim().to_string());
                }
            }
        });
    }
    let running = Running(child);
    let said = rx
        .recv_timeout(std::time::Duration::from_secs(120))
        .unwrap_or_else(|e| panic!("{name} never said \"{prefix}…\": {e}"));
    (running, said)
}

/// Starts `activator worker` over Redis for the simulator at `sim`, with its metrics server on
/// a free port, and returns it with that server's base URL.
pub fn metrics_worker(sim: &str, redis: &str, namespace: &str) -> (Running, String) {
    let mut cmd = activator(sim);
    cmd.args(["worker", "--redis", redis, "--namespace", namespace, "--metrics-listen", "127.0.0.1:0"])
        .args(CLIENT_LIMITS);
    let (running, url) = spawn_announcing(cmd, "metrics on ");
    (running, url.strip_suffix("/metrics").unwrap_or(&url).to_string())
}
