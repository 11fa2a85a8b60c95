//! Everything one process runs: a worker taking jobs from the queue, and conductors for the
//! batches it holds the lease of. `activator run` conducts one batch; `activator worker`
//! discovers every running batch and conducts those no other process holds.

use crate::conductor::{Conducted, Conductor, ConductorSettings};
use crate::dataverse_ops::DataverseOps;
use crate::error::PipelineError;
use crate::feeder::{Feeder, FeederConfig};
use crate::job_handler::JobHandler;
use crate::queue::{Queue, QueueTuning};
use crate::retry_policy::RetryPolicy;
use crate::worker::{WorkerExit, WorkerOptions, run_worker};
use activator_core::BatchState;
use metrics::Metrics;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use store::{BatchId, BatchStore};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How often a worker process looks for batches to conduct.
const DISCOVER_EVERY: Duration = Duration::from_secs(1);

#[derive(Debug)]
pub struct Runtime<S, D> {
    pub store: Arc<S>,
    pub dataverse: Arc<D>,
    pub queue: Queue,
    pub feeder: Arc<Feeder>,
    pub metrics: Arc<Metrics>,
    pub conductor: ConductorSettings,
    pub worker: WorkerOptions,
}

/// Steps a process runs at once per application user's worth of budget: a step waits on a
/// write that travels in a `$batch` (a second or two), so this many keep one user's budget
/// busy with room to spare.
pub const STEPS_PER_CAPACITY: usize = 128;

/// Steps at once for a Dataverse client of `capacity` (see `Dataverse::capacity`).
pub fn steps_at_once(capacity: f64) -> usize {
    (STEPS_PER_CAPACITY as f64 * capacity.max(1.0)).round() as usize
}

/// What a process chooses of its runtime; everything else takes the pipeline's defaults.
#[derive(Debug, Clone)]
pub struct RuntimeSettings {
    /// Unique per process (see [`crate::worker_name`]); also the holder of batch leases.
    pub worker_name: String,
    /// Jobs run at once; None sizes it by the application users' budget (see
    /// [`steps_at_once`]).
    pub concurrency: Option<usize>,
    /// Attempts per step before a mailbox fails.
    pub max_attempts: u32,
    /// How long running jobs may take to finish after the stop signal.
    pub grace: Duration,
    pub tuning: QueueTuning,
    pub feeder: FeederConfig,
}

impl RuntimeSettings {
    pub fn new(worker_name: String) -> RuntimeSettings {
        let worker = WorkerOptions::new(worker_name);
        RuntimeSettings {
            worker_name: worker.name,
            concurrency: Some(worker.concurrency),
            max_attempts: RetryPolicy::default().max_attempts,
            grace: worker.grace,
            tuning: worker.tuning,
            feeder: FeederConfig::default(),
        }
    }
}

impl<S, D> Runtime<S, D> {
    /// A runtime on `queue` with `settings`; the feeder feeds that queue.
    pub fn new(
        store: Arc<S>,
        dataverse: Arc<D>,
        queue: Queue,
        metrics: Arc<Metrics>,
        settings: RuntimeSettings,
    ) -> Runtime<S, D> {
        let mut worker = WorkerOptions::new(settings.worker_name);
        worker.concurrency = settings.concurrency.unwrap_or(STEPS_PER_CAPACITY).max(1);
        worker.grace = settings.grace;
        worker.tuning = settings.tuning;
        Runtime {
            store,
            dataverse,
            feeder: Arc::new(Feeder::new(queue.clone(), settings.feeder)),
            queue,
            metrics,
            conductor: ConductorSettings {
                retry: RetryPolicy { max_attempts: settings.max_attempts.max(1), ..RetryPolicy::default() },
                ..ConductorSettings::default()
            },
            worker,
        }
    }
}

impl<S, D> Clone for Runtime<S, D> {
    fn clone(&self) -> Self {
        Runtime {
            store: Arc::clone(&self.store),
            dataverse: Arc::clone(&self.dataverse),
            queue: self.queue.clone(),
            feeder: Arc::clone(&self.feeder),
            metrics: Arc::clone(&self.metrics),
            conductor: self.conductor.clone(),
            worker: self.worker.clone(),
        }
    }
}

impl<S: BatchStore, D: DataverseOps> Runtime<S, D> {
    pub fn handler(&self) -> JobHandler<S, D> {
        JobHandler {
            store: Arc::clone(&self.store),
            dataverse: Arc::clone(&self.dataverse),
            retry: self.retry().clone(),
            metrics: Arc::clone(&self.metrics),
        }
    }

    fn retry(&self) -> &RetryPolicy {
        &self.conductor.retry
    }

    pub fn conductor(&self) -> Conductor<S, D> {
        Conductor {
            store: Arc::clone(&self.store),
            dataverse: Arc::clone(&self.dataverse),
            feeder: Arc::clone(&self.feeder),
            settings: self.conductor.clone(),
            metrics: Arc::clone(&self.metrics),
            holder: self.worker.name.clone(),
        }
    }

    /// Starts the worker; it takes jobs until `stop` turns true, then lets running ones finish
    /// within the grace period.
    pub fn spawn_worker(&self, stop: watch::Receiver<bool>) -> JoinHandle<Result<WorkerExit, PipelineError>> {
        let handler = self.handler();
        let queue = self.queue.clone();
        let options = self.worker.clone();
        let metrics = Arc::clone(&self.metrics);
        tokio::spawn(async move {
            metrics.workers_active.inc();
            let shutdown = async move {
                let mut stop = stop;
                let _ = stop.wait_for(|s| *s).await;
            };
            let exit = run_worker(
                queue,
                options,
                move |job| {
                    let handler = handler.clone();
                    async move { handler.handle(job).await }
                },
                shutdown,
            )
            .await;
            metrics.workers_active.dec();
            exit
        })
    }

    /// Conducts `batch` until it ends or `stop` turns true, waiting for the lease while
    /// another holder's has not expired.
    pub async fn conduct(
        &self,
        batch: BatchId,
        stop: watch::Receiver<bool>,
    ) -> Result<Conducted, PipelineError> {
        let conductor = self.conductor();
        loop {
            match conductor.conduct(batch, stop.clone()).await? {
                Conducted::HeldElsewhere => {
                    let mut stop = stop.clone();
                    tokio::select! {
                        _ = tokio::time::sleep(self.conductor.tick * 4) => {}
                        _ = stop.wait_for(|s| *s) => return Ok(Conducted::Stopped),
                    }
                }
                other => return Ok(other),
            }
        }
    }

    /// For a process that owns its store alone (the embedded one), when it starts: every item
    /// an earlier process left queued or running in an open batch of `environment` is planned
    /// again (nothing else can be running it).
    pub async fn recover_open_batches(&self, environment: &str) -> Result<(), PipelineError> {
        let mut before = None;
        loop {
            let page = self.store.list_batches(before, 200).await?;
            let Some(last) = page.last() else { return Ok(()) };
            before = Some(last.id);
            for batch in page.iter().filter(|b| b.environment == environment && !b.state.is_final()) {
                self.feeder.recover_all(&*self.store, batch.id, store::clock::now()).await?;
            }
        }
    }

    /// The worker process: runs jobs, and conducts every running, paused or cancelling batch of
    /// `environment` (the one its client talks to) whose lease it can take, until `stop` turns
    /// true.
    pub async fn serve(
        &self,
        environment: &str,
        stop: watch::Receiver<bool>,
    ) -> Result<WorkerExit, PipelineError> {
        let worker = self.spawn_worker(stop.clone());
        let mut conducting: HashMap<BatchId, JoinHandle<()>> = HashMap::new();
        let mut ended: std::collections::HashSet<BatchId> = std::collections::HashSet::new();
        let mut stop_rx = stop.clone();
        loop {
            conducting.retain(|_, task| !task.is_finished());
            match self.store.list_batches(None, 500).await {
                Ok(batches) => {
                    for batch in batches {
                        let open = matches!(
                            batch.state,
                            BatchState::Running | BatchState::Paused | BatchState::Cancelled
                        );
                        let ours = batch.environment == environment;
                        if !ours || !open || conducting.contains_key(&batch.id) || ended.contains(&batch.id) {
                            continue;
                        }
                        let conductor = self.conductor();
                        let stop = stop.clone();
                        let id = batch.id;
                        conducting.insert(
                            id,
                            tokio::spawn(async move {
                                match conductor.conduct(id, stop).await {
                                    Ok(outcome) => tracing::debug!(batch = %id, ?outcome, "conductor ended"),
                                    Err(e) => tracing::warn!(batch = %id, error = %e, "conductor failed; it is taken up again"),
                                }
                            }),
                        );
                        if batch.state == BatchState::Cancelled {
                            // Conducted once to cancel what is left; not looked at again.
                            ended.insert(id);
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "cannot list batches; trying again"),
            }
            tokio::select! {
                _ = tokio::time::sleep(DISCOVER_EVERY) => {}
                _ = stop_rx.wait_for(|s| *s) => break,
            }
        }
        for (_, task) in conducting {
            let _ = task.await;
        }
        worker.await.map_err(|e| PipelineError::Worker(e.to_string()))?
    }
}
