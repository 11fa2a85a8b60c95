//! Both stores at scale: creating a 100,000-item batch, reading its progress, moving items, a
//! page of due work, and this process's memory before and after (it must not grow with the
//! batch: nothing reads a whole batch into memory).
//!
//! `make bench-store` (no harness: it prints its measurements). SQLite uses a database file in
//! the temp folder, removed afterwards (`--in-memory` for the in-memory store); Redis is the
//! tests' Redis (`ACTIVATOR_TEST_REDIS_URL`, or a private `redis-server`).

use activator_core::{ItemState, Step};
use std::error::Error;
use std::time::{Duration, Instant};
use store::{BatchStore, NewBatch, RedisStore, SqliteStore, Transition};

const ITEMS: usize = 100_000;
const READS: usize = 1_000;
const TRANSITIONS: u32 = 2_000;
const NOW: i64 = 1_800_000_000_000;

fn main() -> Result<(), Box<dyn Error>> {
    let in_memory = std::env::args().any(|a| a == "--in-memory");
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let path = std::env::temp_dir().join(format!("store-scale-{}.db", std::process::id()));
    let result = runtime.block_on(async {
        let sqlite = match in_memory {
            true => SqliteStore::in_memory().await?,
            false => SqliteStore::open(&path).await?,
        };
        let label = if in_memory { "in memory".to_string() } else { path.display().to_string() };
        run(&format!("SQLite store ({label})"), &sqlite).await?;
        sqlite.close().await;
        let url = testkit::test_redis_url().await;
        let prefix = testkit::unique_prefix();
        let redis = RedisStore::connect(&url, &prefix).await?;
        let outcome = run(&format!("Redis store ({url})"), &redis).await;
        testkit::remove_keys(&prefix).await;
        outcome
    });
    for suffix in ["", "-wal", "-shm"] {
        let mut file = path.clone().into_os_string();
        file.push(suffix);
        let _ = std::fs::remove_file(file);
    }
    result
}

/// Resident memory of this process, from /proc (Linux), in MiB.
fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

async fn run<S: BatchStore>(name: &str, store: &S) -> Result<(), Box<dyn Error>> {
    println!("{name}");
    let rss_before = rss_mib();
    let new = NewBatch {
        idempotency_key: None,
        environment: "bench".into(),
        steps: vec![Step::Approve, Step::TestAndEnable, Step::AssignRole, Step::DeployApp],
        options: serde_json::json!({}),
        mailboxes: (0..ITEMS).map(|i| format!("user{i}@contoso.example")).collect(),
    };
    let started = Instant::now();
    let (batch, _) = store.create_batch(new, NOW).await?;
    println!("create_batch of {ITEMS} items: {:.1} ms", ms(started.elapsed()));

    let mut reads = Vec::with_capacity(READS);
    for _ in 0..READS {
        let started = Instant::now();
        let progress = store.progress(batch.id).await?;
        reads.push(started.elapsed());
        if progress.total != ITEMS as u64 {
            return Err(format!("progress counted {} items of {ITEMS}", progress.total).into());
        }
    }
    reads.sort();
    println!(
        "progress, {READS} reads: p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        ms(reads[READS / 2]),
        ms(reads[READS * 99 / 100]),
        ms(reads[READS - 1])
    );

    let started = Instant::now();
    for index in 0..TRANSITIONS {
        let t = Transition {
            index,
            from: ItemState::Pending,
            from_step: Some(Step::Approve),
            to: ItemState::Queued,
            step: Some(Step::Approve),
            attempts: 0,
            due_at: None,
            error: None,
            mailbox_id: None,
            outcome: None,
        };
        store.transition(batch.id, t, NOW + 1).await?;
    }
    let each = started.elapsed() / TRANSITIONS;
    println!("transition, {TRANSITIONS} one after another: {:.3} ms each", ms(each));

    let started = Instant::now();
    let due = store.due_items(batch.id, NOW + 1, 1_000).await?;
    println!("due_items, a page of {}: {:.2} ms", due.len(), ms(started.elapsed()));
    println!("process memory: {rss_before:.1} MiB before the batch, {:.1} MiB after", rss_mib());
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
