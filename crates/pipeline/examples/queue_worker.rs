//! A worker process for the tests: `queue_worker --redis URL --prefix P --store-prefix S
//! --batch ID [--work-ms N]` runs an apalis-redis worker on queue namespace P whose handler moves each job's
//! item Queued → Running → Done in the Redis store under S (each step taking N ms). Stops on SIGTERM or SIGINT.

use pipeline::demo_handler::run_to_done_with;
use pipeline::{Queue, QueueConfig, QueueTuning, WorkerOptions, run_worker, worker_name};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("queue_worker: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let (mut redis, mut prefix, mut store_prefix, mut batch) = (None, None, None, None);
    let mut work = Duration::ZERO;
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--redis" => redis = Some(value),
            "--prefix" => prefix = Some(value),
            "--store-prefix" => store_prefix = Some(value),
            "--batch" => batch = Some(Uuid::parse_str(&value).map_err(|e| format!("--batch: {e}"))?),
            "--work-ms" => {
                work = Duration::from_millis(value.parse().map_err(|e| format!("--work-ms: {e}"))?)
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    let url = redis.ok_or("--redis is required")?;
    let namespace = prefix.ok_or("--prefix is required")?;
    let store_prefix = store_prefix.ok_or("--store-prefix is required")?;
    let batch = batch.ok_or("--batch is required")?;

    let store = Arc::new(store::RedisStore::connect(&url, &store_prefix).await.map_err(|e| e.to_string())?);
    let tuning = QueueTuning::default();
    let queue = Queue::open(&QueueConfig::Redis { endpoint: url.into(), namespace }, &tuning)
        .await
        .map_err(|e| e.to_string())?;
    let mut options = WorkerOptions::new(worker_name());
    options.tuning = tuning;
    let handler = move |job: pipeline::ItemJob| {
        let store = Arc::clone(&store);
        async move {
            if job.batch == batch {
                run_to_done_with(store.as_ref(), job, work).await;
            }
        }
    };
    let exit = run_worker(queue, options, handler, shutdown_signal()).await.map_err(|e| e.to_string())?;
    eprintln!("queue_worker: {exit:?}");
    Ok(())
}

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
