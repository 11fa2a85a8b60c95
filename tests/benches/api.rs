//! `make bench-api`: load on `activator api` over Redis, with no workers (batches stay pending,
//! so this measures taking work in and reporting on it, not doing it).
//!
//! 1. `POST /v1/batches` for a fixed time from concurrent clients, each batch 100 distinct
//!    mailbox ids (random GUIDs) and all four steps; every answer must be 202.
//! 2. `GET /v1/batches/{id}` on the batches phase 1 created, same clients and time.
//! 3. One `POST /v1/batches` of 100,000 mailboxes (the default maximum), a few times in turn,
//!    as an admin submitting a whole tenant would.
//!
//! Prints a markdown table; any answer other than 2xx (or a request that fails) is an error and
//! makes the bench exit with 1. Redis is `ACTIVATOR_TEST_REDIS_URL`, else a private
//! `redis-server` (see testkit); the bench's keys live under a namespace of their own and are
//! removed at the end. The simulator is there only so the API has a Dataverse for `/readyz`.

use e2e::{Running, activator, spawn_announcing, start_simulator};
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

const TOKEN: &str = "bench-token";
const CLIENTS: usize = 16;
const PHASE: Duration = Duration::from_secs(15);
const SMALL_BATCH: usize = 100;
const LARGE_BATCH: usize = 100_000;
const LARGE_RUNS: usize = 5;
const STEPS: [&str; 4] = ["approve", "test_and_enable", "assign_role", "deploy_app"];

/// Starts `activator api` on a free port over Redis; returns it with the API's base URL.
fn api(sim: &str, redis: &str, namespace: &str) -> (Running, String) {
    let mut cmd = activator(sim);
    cmd.args(["api", "--redis", redis, "--namespace", namespace, "--listen", "127.0.0.1:0"])
        .env("ACTIVATOR_API_TOKENS", format!("operator:{TOKEN}"));
    spawn_announcing(cmd, "activator api listening on ")
}

/// A JSON batch of `n` distinct random mailbox ids and every step.
fn batch_body(n: usize) -> Vec<u8> {
    let mailboxes: Vec<String> = (0..n).map(|_| Uuid::new_v4().to_string()).collect();
    serde_json::to_vec(&serde_json::json!({ "mailboxes": mailboxes, "steps": STEPS })).expect("body")
}

/// What one client saw.
#[derive(Debug, Default)]
struct Seen {
    latencies: Vec<Duration>,
    errors: u64,
    /// Up to three error descriptions, to print.
    samples: Vec<String>,
    created: Vec<String>,
}

impl Seen {
    fn error(&mut self, what: String) {
        self.errors += 1;
        if self.samples.len() < 3 {
            self.samples.push(what);
        }
    }

    fn merge(mut self, other: Seen) -> Seen {
        self.latencies.extend(other.latencies);
        self.errors += other.errors;
        for s in other.samples {
            if self.samples.len() < 3 {
                self.samples.push(s);
            }
        }
        self.created.extend(other.created);
        self
    }
}

/// POSTs `body`; returns the latency, and the batch id when the answer is 202.
async fn post(http: &reqwest::Client, api: &str, body: Vec<u8>) -> (Duration, Result<String, String>) {
    let started = Instant::now();
    let sent = http
        .post(format!("{api}/v1/batches"))
        .bearer_auth(TOKEN)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await;
    let result = match sent {
        Err(e) => Err(format!("POST failed: {e}")),
        Ok(answer) => {
            let status = answer.status();
            match answer.bytes().await {
                Err(e) => Err(format!("POST {status}: body failed: {e}")),
                Ok(_) if status.as_u16() != 202 => Err(format!("POST answered {status}")),
                Ok(bytes) => serde_json::from_slice::<serde_json::Value>(&bytes)
                    .ok()
                    .and_then(|v| v["batch"]["id"].as_str().map(String::from))
                    .ok_or_else(|| "POST 202 without a batch id".to_string()),
            }
        }
    };
    (started.elapsed(), result)
}

async fn get(http: &reqwest::Client, url: &str) -> (Duration, Result<(), String>) {
    let started = Instant::now();
    let result = match http.get(url).bearer_auth(TOKEN).send().await {
        Err(e) => Err(format!("GET failed: {e}")),
        Ok(answer) => {
            let status = answer.status();
            match answer.bytes().await {
                Err(e) => Err(format!("GET {status}: body failed: {e}")),
                Ok(_) if !status.is_success() => Err(format!("GET answered {status}")),
                Ok(_) => Ok(()),
            }
        }
    };
    (started.elapsed(), result)
}

/// Runs `client(index, deadline)` on [`CLIENTS`] tasks at once for [`PHASE`]; returns what
/// they saw together and how long they took.
async fn phase<F, Fut>(client: F) -> (Seen, Duration)
where
    F: Fn(usize, Instant) -> Fut,
    Fut: std::future::Future<Output = Seen> + Send + 'static,
{
    let started = Instant::now();
    let deadline = started + PHASE;
    let clients: Vec<_> = (0..CLIENTS).map(|i| tokio::spawn(client(i, deadline))).collect();
    let mut all = Seen::default();
    for client in clients {
        all = all.merge(client.await.expect("client task"));
    }
    (all, started.elapsed())
}

async fn post_phase(http: &reqwest::Client, api: &str) -> (Seen, Duration) {
    phase(|_, deadline| {
        let (http, api) = (http.clone(), api.to_string());
        async move {
            let mut seen = Seen::default();
            while Instant::now() < deadline {
                // Made before the request's clock starts.
                let body = batch_body(SMALL_BATCH);
                let (took, result) = post(&http, &api, body).await;
                seen.latencies.push(took);
                match result {
                    Ok(id) => seen.created.push(id),
                    Err(e) => seen.error(e),
                }
            }
            seen
        }
    })
    .await
}

async fn get_phase(http: &reqwest::Client, api: &str, ids: Arc<Vec<String>>) -> (Seen, Duration) {
    phase(|client, deadline| {
        let (http, api, ids) = (http.clone(), api.to_string(), ids.clone());
        async move {
            let mut seen = Seen::default();
            // Each client walks the batches from its own place, so they spread over all.
            let mut next = client * ids.len() / CLIENTS;
            while Instant::now() < deadline {
                let url = format!("{api}/v1/batches/{}", ids[next % ids.len()]);
                next += 1;
                let (took, result) = get(&http, &url).await;
                seen.latencies.push(took);
                if let Err(e) = result {
                    seen.error(e);
                }
            }
            seen
        }
    })
    .await
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 { format!("{ms:.2} ms") } else { format!("{ms:.0} ms") }
}

fn row(endpoint: &str, concurrency: usize, seen: &Seen, elapsed: Duration) {
    let mut sorted = seen.latencies.clone();
    sorted.sort();
    let rate = sorted.len() as f64 / elapsed.as_secs_f64();
    let rate = if rate < 10.0 { format!("{rate:.1}") } else { format!("{rate:.0}") };
    println!(
        "| {endpoint} | {concurrency} | {} | {rate} | {} | {} | {} | {} |",
        sorted.len(),
        ms(percentile(&sorted, 0.50)),
        ms(percentile(&sorted, 0.99)),
        ms(sorted.last().copied().unwrap_or_default()),
        seen.errors,
    );
}

#[tokio::main]
async fn main() {
    // Both binaries are built (through cargo, by `start_simulator` and `activator`) before any
    // clock starts.
    let (_sim, sim) = start_simulator(&["--mailboxes", "10"]);
    let redis = testkit::test_redis_url().await;
    let namespace = testkit::unique_prefix();
    let (server, api) = api(&sim, &redis, &namespace);
    println!("api benchmark: activator api at {api} over {redis} (namespace {namespace})");
    let http = reqwest::Client::new();
    let (_, ready) = get(&http, &format!("{api}/readyz")).await;
    ready.expect("activator api is ready");

    let (posts, post_elapsed) = post_phase(&http, &api).await;
    let ids = Arc::new(posts.created.clone());
    assert!(!ids.is_empty(), "no batch was created: {:?}", posts.samples);
    let (gets, get_elapsed) = get_phase(&http, &api, ids.clone()).await;

    let mut large = Seen::default();
    let mut large_elapsed = Duration::ZERO;
    for _ in 0..LARGE_RUNS {
        let body = batch_body(LARGE_BATCH);
        let (took, result) = post(&http, &api, body).await;
        large_elapsed += took;
        large.latencies.push(took);
        match result {
            Ok(id) => large.created.push(id),
            Err(e) => large.error(e),
        }
    }

    println!();
    println!("| endpoint | concurrency | requests | requests/s | p50 | p99 | max | errors |");
    println!("|---|---|---|---|---|---|---|---|");
    row(&format!("POST /v1/batches ({SMALL_BATCH} mailboxes)"), CLIENTS, &posts, post_elapsed);
    row("GET /v1/batches/{id}", CLIENTS, &gets, get_elapsed);
    row(&format!("POST /v1/batches ({LARGE_BATCH} mailboxes)"), 1, &large, large_elapsed);
    println!();
    println!(
        "{} batches of {SMALL_BATCH} created in {:.1} s ({:.0} mailboxes/s); each run of the {LARGE_BATCH}-mailbox POST: {}",
        posts.created.len(),
        post_elapsed.as_secs_f64(),
        (posts.created.len() * SMALL_BATCH) as f64 / post_elapsed.as_secs_f64(),
        large.latencies.iter().map(|d| ms(*d)).collect::<Vec<_>>().join(", "),
    );

    drop(server);
    testkit::remove_keys(&namespace).await;
    let errors: Vec<String> =
        [&posts, &gets, &large].iter().flat_map(|s| s.samples.iter().cloned()).collect();
    if posts.errors + gets.errors + large.errors > 0 {
        eprintln!("errors (first of each phase): {errors:?}");
        std::process::exit(1);
    }
}
