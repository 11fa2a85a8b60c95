//! A worker in the test process, fed through the window: every item done exactly once, on
//! both queue backends.

use crate::common::{assert_only_done, create_batch, feed_until_done};
use pipeline::demo_handler::run_to_done;
use pipeline::{
    Feeder, FeederConfig, Queue, QueueConfig, QueueTuning, WorkerExit, WorkerOptions, run_worker, worker_name,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use store::BatchStore;

const ITEMS: u64 = 2_000;

async fn drain<S: BatchStore + Clone>(store: S, config: QueueConfig) -> Queue {
    let batch = create_batch(&store, ITEMS as usize).await;
    let tuning = QueueTuning::default();
    let queue = Queue::open(&config, &tuning).await.unwrap();
    let applied = Arc::new(AtomicU64::new(0));
    let calls = Arc::new(AtomicU64::new(0));
    let handler = {
        let (store, applied, calls) = (store.clone(), applied.clone(), calls.clone());
        move |job| {
            let (store, applied, calls) = (store.clone(), applied.clone(), calls.clone());
            async move {
                calls.fetch_add(1, Ordering::Relaxed);
                if run_to_done(&store, job).await {
                    applied.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    };
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let mut options = WorkerOptions::new(worker_name());
    options.tuning = tuning;
    let kept = queue.clone();
    let worker = tokio::spawn(run_worker(queue.clone(), options, handler, async move {
        let _ = stop_rx.await;
    }));

    // A small window, so the feeding loop really is bounded by it.
    let feeder = Feeder::new(queue, FeederConfig { per_batch_window: 300, ..FeederConfig::default() });
    let started = Instant::now();
    let progress = feed_until_done(&feeder, &store, batch, ITEMS, Duration::from_secs(120)).await;
    let took = started.elapsed();
    assert_only_done(&progress, ITEMS);
    stop_tx.send(()).unwrap();
    let exit = tokio::time::timeout(Duration::from_secs(30), worker).await.unwrap().unwrap().unwrap();
    assert_eq!(exit, WorkerExit::Stopped);
    assert_eq!(applied.load(Ordering::Relaxed), ITEMS);
    eprintln!("{ITEMS} items in {took:?}; handler calls {}", calls.load(Ordering::Relaxed));
    kept
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_queue_runs_every_item_once() {
    let dir = std::env::temp_dir().join(format!("pipeline-test-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let store = store::SqliteStore::open(&dir.join("store.db")).await.unwrap();
    drain(store, QueueConfig::Sqlite { path: dir.join("queue.db") }).await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_queue_runs_every_item_once() {
    let url = testkit::test_redis_url().await;
    let prefix = testkit::unique_prefix();
    let store = store::RedisStore::connect(&url, &format!("{prefix}:store")).await.unwrap();
    let queue = drain(
        store,
        QueueConfig::Redis { endpoint: url.as_str().into(), namespace: format!("{prefix}:queue") },
    )
    .await;
    // Once pruned, nothing of the finished jobs stays: no data, status or result, and no id
    // in apalis's done set.
    queue.prune_finished().await.unwrap();
    let mut conn = redis::Client::open(url).unwrap().get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> =
        redis::cmd("KEYS").arg(format!("{prefix}:queue*")).query_async(&mut conn).await.unwrap();
    let left: Vec<&String> = keys
        .iter()
        .filter(|k| k.ends_with(":done") || k.ends_with(":dead") || k.contains(":meta:"))
        .collect();
    assert!(left.is_empty(), "finished jobs left in Redis: {left:?}");
    let data: u64 =
        redis::cmd("HLEN").arg(format!("{prefix}:queue:data")).query_async(&mut conn).await.unwrap();
    assert_eq!(data, 0, "job data left in Redis");
    testkit::remove_keys(&prefix).await;
}
