//! How soon due work starts, on each queue backend: the time from the feeder's call that pushes
//! a due item to the moment the worker's handler starts running it.
//!
//! `make bench-queue` (no harness: it prints its measurements). For the SQLite queue (a file
//! in the temp folder, with the SQLite store beside it) and the Redis queue (a unique
//! namespace in the tests' Redis, with the Redis store), one in-process worker with the
//! default tuning (polling every 100 ms, 16 jobs at once) runs the demo handler:
//!
//! - one at a time: feed one item, wait until it is done, wait a random 0–150 ms (so feeds land
//!   anywhere in the worker's poll cycle), repeat;
//! - a burst: 1,000 items due at once, fed in one call; each item's delay counts from that call.
//!
//! The target (DESIGN: due work starts within 200 ms) is judged on the p99.

use pipeline::demo_handler::{now, run_to_done};
use pipeline::{
    Feeder, FeederConfig, ItemJob, Queue, QueueConfig, QueueTuning, WorkerOptions, run_worker, worker_name,
};
use std::error::Error;
use std::sync::Arc;
use std::time::Duration;
use store::{BatchId, BatchStore, NewBatch, RedisStore, SqliteStore};
use tokio::sync::mpsc;
use tokio::time::{Instant, timeout};

const ONE_AT_A_TIME: usize = 200;
const BURST: usize = 1_000;
const TARGET: Duration = Duration::from_millis(200);
/// Longest a single item may take to start before the benchmark gives up.
const GIVE_UP: Duration = Duration::from_secs(60);

type BenchResult<T> = Result<T, Box<dyn Error>>;

/// The start delays of one case.
struct Row {
    backend: &'static str,
    case: String,
    /// Sorted.
    delays: Vec<Duration>,
    /// How long the feeder's call took (the burst: 1,000 transitions and pushes).
    feed: Option<Duration>,
}

/// What the handler reports: which item, and when it started running.
type Started = (BatchId, u32, Instant);

fn main() -> BenchResult<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let dir = std::env::temp_dir().join(format!("queue-latency-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = runtime.block_on(async {
        let mut rows = Vec::new();
        let sqlite = Arc::new(SqliteStore::open(&dir.join("store.db")).await?);
        rows.extend(
            measure("SQLite", Arc::clone(&sqlite), QueueConfig::Sqlite { path: dir.join("queue.db") })
                .await?,
        );
        sqlite.close().await;

        let url = testkit::test_redis_url().await;
        let prefix = testkit::unique_prefix();
        let redis = Arc::new(RedisStore::connect(&url, &format!("{prefix}:store")).await?);
        let config = QueueConfig::Redis { endpoint: url.into(), namespace: format!("{prefix}:queue") };
        let measured = measure("Redis", redis, config).await;
        testkit::remove_keys(&prefix).await;
        rows.extend(measured?);
        print_table(&rows);
        Ok(())
    });
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn measure<S: BatchStore>(
    backend: &'static str,
    store: Arc<S>,
    config: QueueConfig,
) -> BenchResult<Vec<Row>> {
    eprintln!("{backend}: measuring...");
    let tuning = QueueTuning::default();
    let queue = Queue::open(&config, &tuning).await?;
    let (tx, mut started) = mpsc::unbounded_channel::<Started>();
    let handler = {
        let store = Arc::clone(&store);
        move |job: ItemJob| {
            let (store, tx) = (Arc::clone(&store), tx.clone());
            async move {
                let at = Instant::now();
                run_to_done(store.as_ref(), job).await;
                // Reported once done, so "idle" really means the item is finished.
                let _ = tx.send((job.batch, job.index, at));
            }
        }
    };
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let mut options = WorkerOptions::new(worker_name());
    options.tuning = tuning;
    let worker = tokio::spawn(run_worker(queue.clone(), options, handler, async move {
        let _ = stop_rx.await;
    }));

    let one = one_at_a_time(store.as_ref(), &queue, &mut started).await?;
    let burst = burst(store.as_ref(), &queue, &mut started).await?;

    let _ = stop_tx.send(());
    timeout(Duration::from_secs(30), worker).await???;
    Ok(vec![
        Row { backend, case: "one at a time, worker idle".into(), delays: one, feed: None },
        Row { backend, case: "burst of 1,000".into(), delays: burst.0, feed: Some(burst.1) },
    ])
}

async fn create<S: BatchStore>(store: &S, n: usize) -> BenchResult<BatchId> {
    let new = NewBatch {
        idempotency_key: None,
        environment: "bench".into(),
        steps: vec![activator_core::Step::Approve],
        options: serde_json::json!({}),
        mailboxes: (0..n).map(|i| format!("user{i}@contoso.example")).collect(),
    };
    Ok(store.create_batch(new, now()).await?.0.id)
}

/// Waits for the handler to report an item of `batch` started (and done).
async fn next_started(
    rx: &mut mpsc::UnboundedReceiver<Started>,
    batch: BatchId,
) -> BenchResult<(u32, Instant)> {
    loop {
        let (b, index, at) = timeout(GIVE_UP, rx.recv())
            .await
            .map_err(|_| format!("no item started within {GIVE_UP:?}"))?
            .ok_or("the worker stopped")?;
        if b == batch {
            return Ok((index, at));
        }
    }
}

async fn one_at_a_time<S: BatchStore>(
    store: &S,
    queue: &Queue,
    rx: &mut mpsc::UnboundedReceiver<Started>,
) -> BenchResult<Vec<Duration>> {
    // One more than measured: the first item waits for the worker to come up.
    let batch = create(store, ONE_AT_A_TIME + 1).await?;
    let feeder = Feeder::new(queue.clone(), FeederConfig { per_batch_window: 1, ..FeederConfig::default() });
    let mut delays = Vec::with_capacity(ONE_AT_A_TIME);
    for round in 0..=ONE_AT_A_TIME {
        tokio::time::sleep(jitter(Duration::from_millis(150))).await;
        let fed = Instant::now();
        let pushed = feeder.feed_once(store, batch, now()).await?;
        if pushed != 1 {
            return Err(format!("round {round}: fed {pushed} items, expected 1").into());
        }
        let (index, at) = next_started(rx, batch).await?;
        if index as usize != round {
            return Err(format!("round {round}: item {index} started").into());
        }
        if round > 0 {
            delays.push(at.saturating_duration_since(fed));
        }
    }
    delays.sort();
    Ok(delays)
}

async fn burst<S: BatchStore>(
    store: &S,
    queue: &Queue,
    rx: &mut mpsc::UnboundedReceiver<Started>,
) -> BenchResult<(Vec<Duration>, Duration)> {
    let batch = create(store, BURST).await?;
    let window = BURST as u64;
    let config = FeederConfig { per_batch_window: window, total_window: window, ..FeederConfig::default() };
    let feeder = Feeder::new(queue.clone(), config);
    let fed = Instant::now();
    let pushed = feeder.feed_once(store, batch, now()).await?;
    let feed = fed.elapsed();
    if pushed != BURST {
        return Err(format!("fed {pushed} of {BURST} items").into());
    }
    let mut delays = Vec::with_capacity(BURST);
    while delays.len() < BURST {
        let (_, at) = next_started(rx, batch).await?;
        delays.push(at.saturating_duration_since(fed));
    }
    delays.sort();
    Ok((delays, feed))
}

/// A random wait below `max` (no need for a random crate: a v4 UUID is random).
fn jitter(max: Duration) -> Duration {
    let max_us = u64::try_from(max.as_micros()).unwrap_or(u64::MAX).max(1);
    let r = u64::try_from(uuid::Uuid::new_v4().as_u128() % u128::from(max_us)).unwrap_or(0);
    Duration::from_micros(r)
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn print_table(rows: &[Row]) {
    println!("Start delay of due work: feeder call → handler start; worker polls every 100 ms");
    println!(
        "{:<8} {:<28} {:>6} {:>10} {:>10} {:>10} {:>10}  target ≤ 200 ms (p99)",
        "backend", "case", "items", "first", "p50", "p99", "max"
    );
    for row in rows {
        let d = &row.delays;
        let Some(max) = d.last() else { continue };
        let p = |q: usize| d[(d.len() * q / 100).min(d.len() - 1)];
        let verdict = if p(99) <= TARGET { "met" } else { "not met" };
        println!(
            "{:<8} {:<28} {:>6} {:>10} {:>10} {:>10} {:>10}  {verdict}",
            row.backend,
            row.case,
            d.len(),
            ms(d[0]),
            ms(p(50)),
            ms(p(99)),
            ms(*max)
        );
        if let Some(feed) = row.feed {
            println!("{:<8} {:<28} (the feeder's call itself took {})", "", "", ms(feed));
        }
    }
}
