//! The Redis our users run: over TLS with a password and a private CA, and restarted
//! (SIGKILL) mid-batch on its append-only file. Either way the batch completes and every
//! mailbox ends as the simulator's ground truth says; a finished batch is deleted through the
//! API, leaving nothing of it in Redis.

use activator_core::{BatchState, ItemState};
use e2e::{
    CLIENT_LIMITS, QUICK_SIM, activator, assert_items_match_ground_truth, create_redis_batch, metrics_worker,
    spawn_announcing, start_simulator, wait_for,
};
use redis_endpoint::RedisEndpoint;
use std::time::{Duration, Instant};
use store::{BatchId, BatchStore, RedisStore};
use testkit::{ClientCerts, RedisProcess, TLS_REDIS_PASSWORD, TlsRedis, free_port};

const TOKEN: &str = "e2e-operator-token";

async fn wait_until_completed(store: &RedisStore, batch: BatchId, deadline: Instant) {
    wait_for("the batch to complete", deadline.saturating_duration_since(Instant::now()), || async {
        // Redis may be down or loading for a moment: an error is a reason to look again.
        let b = store.batch(batch).await.ok().flatten()?;
        (b.state == BatchState::Completed).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn api_and_worker_over_rediss_with_a_ca_file_complete_a_batch_as_the_ground_truth_says() {
    let redis = TlsRedis::start(ClientCerts::Optional);
    let namespace = testkit::unique_prefix();
    let (_sim, sim) = start_simulator(&[&["--mailboxes", "200"][..], &QUICK_SIM[..]].concat());
    let dir = e2e::scratch_dir("rediss");
    let csv = dir.join("mailboxes.csv");
    std::fs::write(&csv, format!("mailbox\n{}\n", e2e::mailbox_list(&sim).await.join("\n"))).unwrap();

    // The API is given the CA by its variable, the worker by its flag.
    let mut api = activator(&sim);
    api.args(["api", "--redis", &redis.url, "--namespace", &namespace, "--listen", "127.0.0.1:0"])
        .env("ACTIVATOR_REDIS_CA_FILE", &redis.ca_file)
        .env("ACTIVATOR_API_TOKENS", format!("operator:{TOKEN}"));
    let (_api, api_url) = spawn_announcing(api, "activator api listening on ");
    let mut worker = activator(&sim);
    worker
        .args(["worker", "--redis", &redis.url, "--namespace", &namespace, "--metrics-listen", "127.0.0.1:0"])
        .arg("--redis-ca-file")
        .arg(&redis.ca_file)
        .args(CLIENT_LIMITS);
    let (_worker, _) = spawn_announcing(worker, "metrics on ");

    let out = activator(&sim)
        .args(["submit", "--csv"])
        .arg(&csv)
        .args(["--api", &api_url, "--token", TOKEN, "--watch"])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    // The seeded awkward cases fail by design: watch exits 1 for a batch with failures.
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(!said.contains(TLS_REDIS_PASSWORD), "the password shows: {said}");
    let batch: BatchId = said
        .lines()
        .find_map(|l| l.strip_prefix("batch ")?.split(':').next()?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no batch id in {said}"));

    let endpoint = RedisEndpoint::new(&redis.url).with_ca_file(&redis.ca_file);
    let store = RedisStore::connect(endpoint, &format!("{namespace}:store")).await.unwrap();
    let b = store.batch(batch).await.unwrap().unwrap();
    assert_eq!(b.state, BatchState::Completed);
    assert_items_match_ground_truth(&store, batch, &sim).await;

    // Once finished, the batch may be deleted, and nothing of it stays in Redis.
    let out = activator(&sim)
        .args(["delete", &batch.to_string(), "--api", &api_url, "--token", TOKEN])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(store.batch(batch).await.unwrap().is_none());
    assert!(store.item(batch, 0).await.unwrap().is_none());
    assert!(store.list_batches(None, 10).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn redis_killed_mid_batch_and_restarted_on_its_aof_loses_nothing() {
    let dir = e2e::scratch_dir("redis-aof");
    let port = free_port().unwrap();
    let args = [
        "--port",
        &port.to_string(),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "yes",
        "--appendfsync",
        "everysec",
        "--dir",
        dir.to_str().unwrap(),
    ];
    let mut redis = RedisProcess::start(port, args.map(String::from).to_vec()).unwrap();
    let url = format!("redis://127.0.0.1:{port}");
    let namespace = testkit::unique_prefix();
    let (_sim, sim) = start_simulator(&[&["--mailboxes", "600"][..], &QUICK_SIM[..]].concat());
    let ids = e2e::mailbox_list(&sim).await;
    let (store, batch) = create_redis_batch(&url, &namespace, ids, serde_json::json!({})).await;
    let (_first, _) = metrics_worker(&sim, &url, &namespace);
    let (_second, _) = metrics_worker(&sim, &url, &namespace);

    let deadline = Instant::now() + Duration::from_secs(600);
    wait_for("200 mailboxes finished", deadline.saturating_duration_since(Instant::now()), || async {
        let p = store.progress(batch.id).await.ok()?;
        (p.finished() >= 200).then_some(())
    })
    .await;
    redis.kill();
    redis.restart().unwrap();

    wait_until_completed(&store, batch.id, deadline).await;
    let p = store.progress(batch.id).await.unwrap();
    assert_eq!((p.total, p.finished()), (600, 600), "{p:?}");
    assert_eq!(p.count(ItemState::Running) + p.count(ItemState::Queued), 0, "{p:?}");
    assert_items_match_ground_truth(&store, batch.id, &sim).await;
}
