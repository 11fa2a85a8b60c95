//! Runs an apalis worker (either backend) whose handler calls a user-supplied async closure.
//!
//! The closure records the outcome in the store itself (checked transitions, so a job run
//! twice changes nothing the second time) and returns nothing: toward apalis the handler
//! always succeeds, so apalis-redis's built-in retries (25, linear, ignoring max attempts)
//! never run. On shutdown the worker stops taking jobs and lets running ones finish within a
//! grace period; what is still running then is left to orphan re-enqueueing and the reconciler.

use crate::error::PipelineError;
use crate::job::ItemJob;
use crate::queue::{Queue, QueueTuning};
use apalis::prelude::*;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// Unique per process (see [`crate::worker_name`]).
    pub name: String,
    /// Jobs run at once by this worker.
    pub concurrency: usize,
    /// How long running jobs may take to finish after the shutdown signal.
    pub grace: Duration,
    pub tuning: QueueTuning,
}

impl WorkerOptions {
    pub fn new(name: String) -> WorkerOptions {
        WorkerOptions {
            name,
            concurrency: 16,
            grace: Duration::from_secs(20),
            tuning: QueueTuning::default(),
        }
    }
}

/// How the worker ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkerExit {
    /// Stopped after the signal with every running job finished.
    Stopped,
    /// The grace period ran out with jobs still running (they come back to other workers).
    GraceExpired,
}

/// Runs a worker on `queue` until `shutdown` completes (then drains within the grace period).
pub async fn run_worker<F, Fut, Sd>(
    queue: Queue,
    options: WorkerOptions,
    handler: F,
    shutdown: Sd,
) -> Result<WorkerExit, PipelineError>
where
    F: Fn(ItemJob) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
    Sd: Future<Output = ()> + Send + 'static,
{
    let handler = Arc::new(handler);
    let service = move |job: ItemJob| {
        let handler = Arc::clone(&handler);
        async move {
            handler(job).await;
            Ok::<(), std::convert::Infallible>(())
        }
    };
    let (began_tx, began_rx) = tokio::sync::oneshot::channel::<()>();
    let signal = async move {
        shutdown.await;
        tracing::info!("shutdown requested: taking no more jobs");
        let _ = began_tx.send(());
        Ok::<(), WorkerError>(())
    };
    let grace = options.grace;
    let expired = async move {
        if began_rx.await.is_ok() {
            tokio::time::sleep(grace).await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    let builder = WorkerBuilder::new(options.name.as_str());
    // The two storages are different types with the same calls.
    macro_rules! run_on {
        ($storage:expr) => {
            builder
                .backend($storage.poll_with_interval(options.tuning.poll_interval))
                .concurrency(options.concurrency.max(1))
                .build(service)
                .run_until(signal)
                .await
        };
    }
    let run = async move {
        match queue {
            Queue::Redis(storage) => run_on!(storage),
            Queue::Sqlite(storage) => run_on!(storage),
        }
    };
    tokio::select! {
        res = run => res.map(|()| WorkerExit::Stopped).map_err(|e| PipelineError::Worker(e.to_string())),
        () = expired => {
            tracing::warn!(?grace, "grace period over with jobs still running");
            Ok(WorkerExit::GraceExpired)
        }
    }
}
