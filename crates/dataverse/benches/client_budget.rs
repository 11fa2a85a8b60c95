//! How close the client runs to Dataverse's limits without being throttled: 3,000 writes
//! against the simulator with Dataverse's rates over a shortened window, once one request per
//! write and once coalesced into `$batch`. Prints the share of requests answered 429 (target
//! under 1%) and the use of the binding budget (target at least 85%). Run with
//! `make bench-client`.
#![allow(clippy::unwrap_used)]

use dataverse::{CoalescingOptions, Credential, Dataverse, DataverseOptions, Secret};
use ratelimit::Budgets;
use serde_json::Value;
use sim::{Profile, SimConfig};
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

const WRITES: usize = 3000;
const WINDOW_SECS: u64 = 30;
/// Dataverse's rates (6,000 requests and 1,200 s of execution per 300 s) over a 30 s window.
const MAX_REQUESTS: u64 = 600;
const MAX_EXEC_MS: u64 = 120_000;

#[tokio::main]
async fn main() {
    println!(
        "client against the simulator: {WRITES} writes, {MAX_REQUESTS} requests and {MAX_EXEC_MS} ms of execution per {WINDOW_SECS} s, 60 ms per update, aiming at {:.0}% of each budget",
        Budgets::default().target_utilisation * 100.0
    );
    run("one request per write", None).await;
    run("coalesced into $batch", Some(CoalescingOptions::default())).await;
}

async fn run(name: &str, batching: Option<CoalescingOptions>) {
    let profile = Profile {
        window_secs: WINDOW_SECS,
        max_requests: MAX_REQUESTS,
        max_exec_ms: MAX_EXEC_MS,
        ..Profile::default()
    };
    let config = SimConfig { mailboxes: WRITES, seed: 5, clients: Vec::new(), profile };
    let running = sim::start(config, "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let c = sim::default_client();
    let credential = Credential {
        authority: format!("{}/t", running.base_url),
        client_id: c.id,
        client_secret: Secret::new(c.secret),
    };
    let budgets = Budgets {
        window: Duration::from_secs(WINDOW_SECS),
        max_requests: MAX_REQUESTS,
        max_exec: Duration::from_millis(MAX_EXEC_MS),
        ..Budgets::default()
    };
    let options = DataverseOptions { budgets, batching, ..DataverseOptions::default() };
    let dv = Arc::new(Dataverse::new(&running.base_url, vec![credential], options).unwrap());
    let all: Value =
        reqwest::get(format!("{}/_sim/mailboxes", running.base_url)).await.unwrap().json().await.unwrap();
    let mut ids: Vec<Uuid> = Vec::new();
    for list in all.as_object().unwrap().values() {
        ids.extend(list.as_array().unwrap().iter().map(|v| v.as_str().unwrap().parse::<Uuid>().unwrap()));
    }
    ids.truncate(WRITES);
    dv.connect().await.unwrap();

    let started = Instant::now();
    let mut tasks = Vec::new();
    for id in ids {
        let dv = dv.clone();
        // A rename is a write every seeded mailbox accepts.
        tasks.push(tokio::spawn(async move {
            let req = dataverse::WebApiRequest::update(
                "rename",
                format!("mailboxes({id})"),
                serde_json::json!({"name": "renamed"}),
            );
            dv.write(&req).await
        }));
    }
    let mut failed = 0;
    for t in tasks {
        if t.await.unwrap().is_err() {
            failed += 1;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let stats: Value =
        reqwest::get(format!("{}/_sim/stats", running.base_url)).await.unwrap().json().await.unwrap();
    let mut requests = 0u64;
    let mut throttled = 0u64;
    for statuses in stats["requests"].as_object().unwrap().values() {
        for (status, n) in statuses.as_object().unwrap() {
            let n = n.as_u64().unwrap();
            requests += n;
            if status == "429" {
                throttled += n;
            }
        }
    }
    let exec_ms: u64 = stats["exec_ms"].as_object().unwrap().values().map(|v| v.as_u64().unwrap()).sum();
    let windows = elapsed / WINDOW_SECS as f64;
    let request_use = requests as f64 / (MAX_REQUESTS as f64 * windows);
    let exec_use = exec_ms as f64 / (MAX_EXEC_MS as f64 * windows);
    let (binding, use_of_binding) =
        if request_use >= exec_use { ("requests", request_use) } else { ("execution time", exec_use) };
    println!(
        "{name:<24} {:>6.1} s, {:>6.1} writes/s, {requests} requests, {:.2}% answered 429, {failed} failed; use of budgets: requests {:.1}%, execution time {:.1}% (binding: {binding}, {:.1}%)",
        elapsed,
        WRITES as f64 / elapsed,
        100.0 * throttled as f64 / requests.max(1) as f64,
        100.0 * request_use,
        100.0 * exec_use,
        100.0 * use_of_binding,
    );
}
