//! A worker's memory does not grow with the batch: the feeder and one worker (demo handler)
//! in one process, on the SQLite store and queue, run the first 5,000 jobs of a 10,000-item
//! and of a 100,000-item batch, and report resident memory before and peak while running.
//!
//! Part of `make bench-store` (no harness: it prints its measurements). Each size runs in a
//! child process of its own (this binary with `--size N`), so neither inherits the other's
//! heap or peak. The peak (`VmHWM`) is reset once the batch is created (`/proc/self/clear_refs`),
//! so it measures feeding and working only: the window bounds what is in flight, whatever the
//! batch holds.

use pipeline::demo_handler::{now, run_to_done};
use pipeline::{
    Feeder, FeederConfig, ItemJob, Queue, QueueConfig, QueueTuning, WorkerOptions, run_worker, worker_name,
};
use std::error::Error;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use store::{BatchStore, NewBatch, SqliteStore};

const SIZES: [usize; 3] = [10_000, 100_000, 1_000_000];
const JOBS: u64 = 5_000;
const GIVE_UP: Duration = Duration::from_secs(120);

type BenchResult<T> = Result<T, Box<dyn Error>>;

fn main() -> BenchResult<()> {
    let mut args = std::env::args().skip_while(|a| a != "--size");
    if args.next().is_some() {
        let size: usize = args.next().ok_or("--size needs a number")?.parse()?;
        return child(size);
    }
    println!("Worker memory (feeder + worker in one process, SQLite store and queue, window 1,000)");
    println!(
        "{:>10} {:>6} {:>14} {:>16} {:>14} {:>10} {:>9}",
        "batch", "jobs", "RSS created", "peak running", "RSS after", "jobs/s", "growth"
    );
    for size in SIZES {
        let out = std::process::Command::new(std::env::current_exe()?)
            .arg("--size")
            .arg(size.to_string())
            .output()?;
        if !out.status.success() {
            return Err(format!("size {size}: {}", String::from_utf8_lossy(&out.stderr)).into());
        }
        print!("{}", String::from_utf8_lossy(&out.stdout));
    }
    println!(
        "(RSS created: after the batch is in the store; peak running: VmHWM reset then; growth: peak − RSS created)"
    );
    Ok(())
}

fn child(size: usize) -> BenchResult<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let dir = std::env::temp_dir().join(format!("worker-memory-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = runtime.block_on(run(size, &dir));
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn run(size: usize, dir: &Path) -> BenchResult<()> {
    let store = Arc::new(SqliteStore::open(&dir.join("store.db")).await?);
    let new = NewBatch {
        idempotency_key: None,
        environment: "bench".into(),
        steps: vec![activator_core::Step::Approve],
        options: serde_json::json!({}),
        mailboxes: (0..size).map(|i| format!("user{i}@contoso.example")).collect(),
    };
    let batch = store.create_batch(new, now()).await?.0.id;

    let tuning = QueueTuning::default();
    let queue = Queue::open(&QueueConfig::Sqlite { path: dir.join("queue.db") }, &tuning).await?;
    let handler = {
        let store = Arc::clone(&store);
        move |job: ItemJob| {
            let store = Arc::clone(&store);
            async move {
                run_to_done(store.as_ref(), job).await;
            }
        }
    };
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let mut options = WorkerOptions::new(worker_name());
    options.tuning = tuning;

    reset_peak()?;
    let created = memory_kib("VmRSS:")?;
    let worker = tokio::spawn(run_worker(queue.clone(), options, handler, async move {
        let _ = stop_rx.await;
    }));
    let feeder = Feeder::new(queue, FeederConfig::default());
    let started = Instant::now();
    loop {
        let done = store.progress(batch).await?.count(activator_core::ItemState::Done);
        if done >= JOBS {
            break;
        }
        if started.elapsed() > GIVE_UP {
            return Err(format!("only {done} of {JOBS} jobs done after {GIVE_UP:?}").into());
        }
        feeder.feed_once(store.as_ref(), batch, now()).await?;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let took = started.elapsed();
    let (peak, after) = (memory_kib("VmHWM:")?, memory_kib("VmRSS:")?);
    let _ = stop_tx.send(());
    tokio::time::timeout(Duration::from_secs(30), worker).await???;
    store.close().await;

    let mib = |kib: u64| format!("{:.1} MiB", kib as f64 / 1024.0);
    println!(
        "{:>10} {:>6} {:>14} {:>16} {:>14} {:>10.0} {:>9}",
        size,
        JOBS,
        mib(created),
        mib(peak),
        mib(after),
        JOBS as f64 / took.as_secs_f64(),
        mib(peak.saturating_sub(created))
    );
    Ok(())
}

/// A field of /proc/self/status (Linux), in KiB.
fn memory_kib(field: &str) -> BenchResult<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let value = status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .ok_or(format!("no {field} in /proc/self/status"))?;
    Ok(value.trim().trim_end_matches("kB").trim().parse()?)
}

/// Makes VmHWM start again from the current resident size.
fn reset_peak() -> BenchResult<()> {
    std::fs::write("/proc/self/clear_refs", "5").map_err(|e| format!("cannot reset the peak RSS: {e}"))?;
    Ok(())
}
