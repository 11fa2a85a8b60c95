//! The big one: 20,000 items through worker processes on apalis-redis; the first worker is
//! SIGKILLed a third of the way through and a second one started. Every item must end Done
//! exactly once, whatever the queue lost or delivered twice.

use crate::common::{assert_only_done, create_batch};
use activator_core::ItemState;
use pipeline::demo_handler::now;
use pipeline::{Feeder, FeederConfig, Queue, QueueConfig, QueueTuning};
use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use store::BatchStore;

const ITEMS: u64 = 20_000;

use testkit::{Running, example};

fn start_worker(bin: &Path, url: &str, prefix: &str, store_prefix: &str, batch: uuid::Uuid) -> Running {
    start_worker_with(bin, url, prefix, store_prefix, batch, 20)
}

/// A worker process whose every job takes `work_ms`.
fn start_worker_with(
    bin: &Path,
    url: &str,
    prefix: &str,
    store_prefix: &str,
    batch: uuid::Uuid,
    work_ms: u64,
) -> Running {
    let child = Command::new(bin)
        .args([
            "--redis",
            url,
            "--prefix",
            prefix,
            "--store-prefix",
            store_prefix,
            "--batch",
            &batch.to_string(),
            "--work-ms",
            &work_ms.to_string(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    Running(child)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_killed_worker_loses_nothing() {
    let bin = example("queue_worker");
    let url = testkit::test_redis_url().await;
    let prefix = testkit::unique_prefix();
    let (store_prefix, namespace) = (format!("{prefix}:store"), format!("{prefix}:queue"));
    let store = store::RedisStore::connect(&url, &store_prefix).await.unwrap();
    let batch = create_batch(&store, ITEMS as usize).await;
    let queue = Queue::open(
        &QueueConfig::Redis { endpoint: url.as_str().into(), namespace: namespace.clone() },
        &QueueTuning::default(),
    )
    .await
    .unwrap();
    let stale_after = Duration::from_secs(30);
    let feeder = Feeder::new(queue, FeederConfig { stale_after, ..FeederConfig::default() });

    let started = Instant::now();
    let mut worker = start_worker(&bin, &url, &namespace, &store_prefix, batch);
    let mut killed_at: Option<Instant> = None;
    let mut at_kill: BTreeSet<u32> = BTreeSet::new();
    let mut recovered_after: Option<Duration> = None;
    let (mut queued_back, mut running_back) = (0, 0);
    let mut last_reconcile = Instant::now();
    let deadline = Duration::from_secs(300);
    let progress = loop {
        let p = store.progress(batch).await.unwrap();
        let done = p.count(ItemState::Done);
        let active = p.count(ItemState::Queued) + p.count(ItemState::Running);
        assert!(active <= feeder.config().per_batch_window, "window exceeded: {p:?}");
        if let (Some(k), None) = (killed_at, recovered_after) {
            let mut all_done = true;
            for index in &at_kill {
                let item = store.item(batch, *index).await.unwrap().unwrap();
                if item.state != ItemState::Done {
                    all_done = false;
                    break;
                }
            }
            if all_done {
                recovered_after = Some(k.elapsed());
                eprintln!(
                    "every item held at the kill ({}) done {:?} after the kill",
                    at_kill.len(),
                    k.elapsed()
                );
            }
        }
        if done == ITEMS {
            break p;
        }
        assert!(started.elapsed() < deadline, "not done within {deadline:?}: {p:?}");
        if last_reconcile.elapsed() > Duration::from_secs(2) {
            let r = feeder.reconcile_once(&store, batch, now()).await.unwrap();
            queued_back += r.queued_to_pending;
            running_back += r.running_to_pending;
            last_reconcile = Instant::now();
        }
        let pushed = feeder.feed_once(&store, batch, now()).await.unwrap();
        if killed_at.is_none() && done >= ITEMS / 3 && pushed > 0 {
            tokio::time::sleep(Duration::from_millis(15)).await;
            worker.0.kill().unwrap(); // SIGKILL
            worker.0.wait().unwrap();
            let now_killed = Instant::now();
            killed_at = Some(now_killed);
            // What the dead worker left: Running, and Queued (some fetched by it).
            for state in [ItemState::Running] {
                let mut after = None;
                loop {
                    let page = store.items(batch, Some(state), after, 1_000).await.unwrap();
                    let Some(last) = page.last() else { break };
                    after = Some(last.index);
                    at_kill.extend(page.iter().map(|i| i.index));
                }
            }
            let p = store.progress(batch).await.unwrap();
            let done = p.count(ItemState::Done);
            eprintln!(
                "killed the first worker at {:?} with done {done}, running {}, queued {}",
                started.elapsed(),
                p.count(ItemState::Running),
                p.count(ItemState::Queued)
            );
            worker = start_worker(&bin, &url, &namespace, &store_prefix, batch);
        }
        // The feeder keeps feeding while the worker works: this is a driver, not a poll.
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let took = started.elapsed();
    drop(worker);
    assert_only_done(&progress, ITEMS);
    eprintln!(
        "{ITEMS} items done in {took:?}; reconciler took back {queued_back} queued and {running_back} \
         running; recovery after the kill: {recovered_after:?}"
    );
    assert!(killed_at.is_some());
    testkit::remove_keys(&prefix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_running_jobs_finish_and_takes_no_more() {
    let bin = example("queue_worker");
    let url = testkit::test_redis_url().await;
    let prefix = testkit::unique_prefix();
    let (store_prefix, namespace) = (format!("{prefix}:store"), format!("{prefix}:queue"));
    let store = store::RedisStore::connect(&url, &store_prefix).await.unwrap();
    let batch = create_batch(&store, 60).await;
    let queue = Queue::open(
        &QueueConfig::Redis { endpoint: url.as_str().into(), namespace: namespace.clone() },
        &QueueTuning::default(),
    )
    .await
    .unwrap();
    let feeder = Feeder::new(queue, FeederConfig::default());
    feeder.feed_once(&store, batch, now()).await.unwrap();
    let mut worker = start_worker_with(&bin, &url, &namespace, &store_prefix, batch, 1500);

    // One 30 s deadline for both waits.
    let deadline = Instant::now() + Duration::from_secs(30);
    testkit::wait_for("a job to start", deadline.saturating_duration_since(Instant::now()), || async {
        (store.progress(batch).await.unwrap().count(ItemState::Running) > 0).then_some(())
    })
    .await;
    let status = Command::new("kill").args(["-TERM", &worker.0.id().to_string()]).status().unwrap();
    assert!(status.success());
    let exit = testkit::wait_for(
        "the worker to stop after SIGTERM",
        deadline.saturating_duration_since(Instant::now()),
        || std::future::ready(worker.0.try_wait().unwrap()),
    )
    .await;
    assert!(exit.success(), "{exit:?}");
    let p = store.progress(batch).await.unwrap();
    assert_eq!(p.count(ItemState::Running), 0, "a running job was abandoned: {p:?}");
    assert!(p.count(ItemState::Done) >= 1, "{p:?}");
    assert!(p.count(ItemState::Queued) >= 1, "the worker took every job before stopping: {p:?}");
    testkit::remove_keys(&prefix).await;
}
