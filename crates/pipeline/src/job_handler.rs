//! The handler of one job: takes its item Queued → Running, runs the step, and records the
//! outcome in the store: the next step, verification of an asynchronous process, a wait
//! (retry with backoff, or Retry-After without using an attempt), or failure with a remedy.
//!
//! Every change is a checked transition from the state this handler saw, so a job delivered
//! twice, or one whose item was taken back meanwhile, changes nothing.

use crate::dataverse_ops::DataverseOps;
use crate::error::PipelineError;
use crate::item_change::keep;
use crate::job::ItemJob;
use crate::remedy;
use crate::retry_policy::RetryPolicy;
use crate::safety;
use crate::step_runner::{StepResult, run_step};
use activator_core::BatchOptions;
use activator_core::{BatchState, ItemState, Step};
use dataverse::DataverseError;
use metrics::Metrics;
use std::sync::Arc;
use std::time::Instant;
use store::clock::{after, now};
use store::{BatchStore, Item, StepOutcome, Transition};

#[derive(Debug)]
pub struct JobHandler<S, D> {
    pub store: Arc<S>,
    pub dataverse: Arc<D>,
    pub retry: RetryPolicy,
    pub metrics: Arc<Metrics>,
}

impl<S, D> Clone for JobHandler<S, D> {
    fn clone(&self) -> Self {
        JobHandler {
            store: Arc::clone(&self.store),
            dataverse: Arc::clone(&self.dataverse),
            retry: self.retry.clone(),
            metrics: Arc::clone(&self.metrics),
        }
    }
}

impl<S: BatchStore, D: DataverseOps> JobHandler<S, D> {
    /// Runs the job; errors of the store leave the item for the reconciler.
    pub async fn handle(&self, job: ItemJob) {
        if let Err(e) = self.try_handle(job).await {
            tracing::warn!(batch = %job.batch, index = job.index, error = %e, "job not recorded; the reconciler takes it back");
        }
    }

    async fn try_handle(&self, job: ItemJob) -> Result<(), PipelineError> {
        let store = &*self.store;
        let Some(item) = store.item(job.batch, job.index).await? else { return Ok(()) };
        if item.state != ItemState::Queued || item.step != Some(job.step) {
            return Ok(()); // run already, or taken back and queued again
        }
        let Some(batch) = store.batch(job.batch).await? else { return Ok(()) };
        match batch.state {
            BatchState::Running => {}
            BatchState::Cancelled => {
                store.transition(job.batch, keep(&item, ItemState::Cancelled), now()).await?;
                return Ok(());
            }
            BatchState::Paused | BatchState::Completed => {
                store.transition(job.batch, keep(&item, ItemState::Pending), now()).await?;
                return Ok(());
            }
        }
        let Some(mailbox) = item.mailbox_id else {
            // Queued without planning (cannot happen through the conductor): plan it first.
            store.transition(job.batch, keep(&item, ItemState::Pending), now()).await?;
            return Ok(());
        };
        if !store.transition(job.batch, keep(&item, ItemState::Running), now()).await? {
            return Ok(());
        }
        let running = Item { state: ItemState::Running, ..item };
        let started = Instant::now();
        let result = run_step(&*self.dataverse, job.step, mailbox, job.user, job.role).await;
        self.metrics
            .step_duration_seconds
            .with_label_values(&[job.step.name()])
            .observe(started.elapsed().as_secs_f64());
        let options = BatchOptions::from_json(&batch.options).map_err(PipelineError::Options)?;
        let t = self.outcome(&running, job.step, &batch.steps, &options, result);
        let failed_for_good = t.to == ItemState::Failed;
        if store.transition(job.batch, t, now()).await? && failed_for_good {
            // Seen at once, not at the conductor's next tick: the jobs still queued find the
            // batch paused and write nothing.
            if let Some(reason) = safety::check_breaker(store, &batch, &options, job.step).await? {
                safety::pause(store, &batch, &reason, &self.metrics).await?;
            }
        }
        Ok(())
    }

    /// The transition that records `result` for the running item.
    fn outcome(
        &self,
        item: &Item,
        step: Step,
        steps: &[Step],
        options: &BatchOptions,
        result: StepResult,
    ) -> Transition {
        let at = now();
        let count =
            |outcome: &str| self.metrics.mailbox_steps_total.with_label_values(&[step.name(), outcome]).inc();
        let retry =
            |reason: &str| self.metrics.job_retries_total.with_label_values(&[step.name(), reason]).inc();
        match result {
            StepResult::Done => {
                count("done");
                let outcome = Some(StepOutcome::succeeded(step));
                match step.next_in(steps) {
                    Some(next) => Transition {
                        step: Some(next),
                        attempts: 0,
                        error: None,
                        outcome,
                        ..keep(item, ItemState::Pending)
                    },
                    None => Transition { error: None, outcome, ..keep(item, ItemState::Done) },
                }
            }
            StepResult::Started => {
                count("started");
                let timeout =
                    if step == Step::DeployApp { options.deploy_timeout() } else { options.test_timeout() };
                Transition {
                    due_at: Some(after(at, timeout)),
                    error: None,
                    ..keep(item, ItemState::Verifying)
                }
            }
            StepResult::Failed(error) => {
                count("failed");
                let outcome = Some(StepOutcome::failed(step, &error.code));
                Transition { error: Some(error), outcome, ..keep(item, ItemState::Failed) }
            }
            StepResult::Error(DataverseError::Throttled { retry_after, .. }) => {
                count("throttled");
                retry("throttled");
                let e = DataverseError::Throttled {
                    retry_after,
                    limit: None,
                    code: String::new(),
                    message: "waiting for Dataverse's Retry-After".into(),
                };
                Transition {
                    due_at: Some(after(at, retry_after)),
                    error: Some(remedy::from_dataverse(step, &e)),
                    ..keep(item, ItemState::Waiting)
                }
            }
            StepResult::Error(e) if e.is_retryable() && self.retry.may_retry(item.attempts + 1) => {
                count("retried");
                retry(if matches!(e, DataverseError::Conflict { .. }) { "conflict" } else { "transient" });
                let attempts = item.attempts + 1;
                Transition {
                    attempts,
                    due_at: Some(after(at, self.retry.delay(attempts))),
                    error: Some(remedy::from_dataverse(step, &e)),
                    ..keep(item, ItemState::Waiting)
                }
            }
            StepResult::Error(e) => {
                count("failed");
                let error = remedy::from_dataverse(step, &e);
                Transition {
                    attempts: item.attempts + 1,
                    outcome: Some(StepOutcome::failed(step, &error.code)),
                    error: Some(error),
                    ..keep(item, ItemState::Failed)
                }
            }
        }
    }
}
