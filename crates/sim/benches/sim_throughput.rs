//! How many requests per second the simulator serves on this machine, and how much latency it
//! adds above the execution time it is configured to charge. Run with `make bench-sim`.
//!
//! The simulator runs on its own runtime; the load comes from another runtime in the same
//! process, with many concurrent keep-alive connections, as a fast client would use it.
#![allow(clippy::unwrap_used)]

use serde_json::json;
use sim::{Profile, SimConfig};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const MAILBOXES: usize = 10_000;

struct Run {
    name: &'static str,
    concurrency: usize,
    seconds: u64,
    /// Cost of every operation, or None for the profile's realistic costs.
    flat_cost_ms: Option<u64>,
}

fn profile(flat: Option<u64>) -> Profile {
    let mut p = Profile {
        max_requests: u64::MAX / 4,
        max_exec_ms: u64::MAX / 4,
        max_concurrency: 100_000,
        ..Profile::default()
    };
    if let Some(ms) = flat {
        for name in ["whoami", "retrieve", "retrieve_multiple", "update", "associate", "disassociate"] {
            p.costs.set(name, ms).unwrap();
        }
        p.costs.per_row_us = 0;
    }
    p
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[((sorted.len() - 1) as f64 * p) as usize]
}

fn main() {
    let runs = [
        Run {
            name: "realistic costs (25-60 ms per operation)",
            concurrency: 256,
            seconds: 10,
            flat_cost_ms: None,
        },
        Run { name: "zero cost (raw capacity)", concurrency: 64, seconds: 10, flat_cost_ms: Some(0) },
    ];
    println!(
        "dataverse-sim throughput, {MAILBOXES} mailboxes, mix: 50% GET one, 30% PATCH, 10% GET 50 by In filter, 10% WhoAmI"
    );
    for run in runs {
        bench(&run);
    }
}

fn bench(run: &Run) {
    let server_rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let config =
        SimConfig { mailboxes: MAILBOXES, seed: 1, clients: Vec::new(), profile: profile(run.flat_cost_ms) };
    let running = server_rt.block_on(sim::start(config, "127.0.0.1:0".parse().unwrap())).unwrap();
    let api = running.api_url();
    let base = running.base_url.clone();
    let client_rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let (count, errors, mut latencies, elapsed) = client_rt.block_on(async move {
        let http = reqwest::Client::builder().pool_max_idle_per_host(run.concurrency).build().unwrap();
        let c = sim::default_client();
        let token: serde_json::Value = http
            .post(format!("{base}/bench/oauth2/v2.0/token"))
            .form(&[("grant_type", "client_credentials"), ("client_id", c.id.as_str()), ("client_secret", c.secret.as_str()), ("scope", "x/.default")])
            .send().await.unwrap().json().await.unwrap();
        let token = Arc::new(token["access_token"].as_str().unwrap().to_string());
        let ids: serde_json::Value = http.get(format!("{base}/_sim/mailboxes?case=normal")).send().await.unwrap().json().await.unwrap();
        let ids: Arc<Vec<String>> = Arc::new(ids["normal"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect());
        let count = Arc::new(AtomicU64::new(0));
        let errors = Arc::new(AtomicU64::new(0));
        let started = Instant::now();
        let deadline = started + Duration::from_secs(run.seconds);
        let mut tasks = Vec::new();
        for worker in 0..run.concurrency {
            let (http, api, token, ids, count, errors) = (http.clone(), api.clone(), token.clone(), ids.clone(), count.clone(), errors.clone());
            tasks.push(tokio::spawn(async move {
                let mut lat = Vec::new();
                let mut i = worker;
                while Instant::now() < deadline {
                    i = i.wrapping_mul(31).wrapping_add(7);
                    let id = &ids[i % ids.len()];
                    let req = match i % 10 {
                        0..=4 => http.get(format!("{api}/mailboxes({id})?$select=emailrouteraccessapproval,mailboxstatus")),
                        5..=7 => http.patch(format!("{api}/mailboxes({id})")).json(&json!({"name": format!("n{i}")})),
                        8 => {
                            let list: Vec<String> = (0..50).map(|k| format!("'{}'", ids[(i + k) % ids.len()])).collect();
                            http.get(format!("{api}/mailboxes?$select=mailboxstatus&$filter=Microsoft.Dynamics.CRM.In(PropertyName='mailboxid',PropertyValues=[{}])", list.join(",")))
                        }
                        _ => http.get(format!("{api}/WhoAmI")),
                    };
                    let t0 = Instant::now();
                    match req.bearer_auth(token.as_str()).send().await {
                        Ok(r) if r.status().is_success() => {
                            let _ = r.bytes().await;
                            count.fetch_add(1, Ordering::Relaxed);
                            lat.push(t0.elapsed().as_micros() as u64);
                        }
                        _ => {
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                lat
            }));
        }
        let mut latencies = Vec::new();
        for t in tasks {
            latencies.extend(t.await.unwrap());
        }
        (count.load(Ordering::Relaxed), errors.load(Ordering::Relaxed), latencies, started.elapsed())
    });
    latencies.sort_unstable();
    let rps = count as f64 / elapsed.as_secs_f64();
    println!(
        "{:<42} concurrency {:>3}: {:>7.0} req/s, {} errors, latency p50 {:.1} ms, p99 {:.1} ms",
        run.name,
        run.concurrency,
        rps,
        errors,
        percentile(&latencies, 0.50) as f64 / 1000.0,
        percentile(&latencies, 0.99) as f64 / 1000.0
    );
    drop(running);
    server_rt.shutdown_timeout(Duration::from_secs(1));
}
