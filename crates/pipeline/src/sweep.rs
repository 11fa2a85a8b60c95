//! The verification sweep: reads, in bulk, the mailboxes whose Test & Enable or app
//! deployment Dataverse is running, and records each result: on to the next step, failed with
//! the reason, or timed out. Never one poll request per mailbox: 100 mailboxes per read.
//!
//! With `overwrite_primary_org`, a Test & Enable that failed only because the mailbox syncs
//! with another organization marks this organization primary and runs the test again.

use crate::dataverse_ops::DataverseOps;
use crate::error::PipelineError;
use crate::item_change::keep;
use crate::remedy;
use crate::retry_policy::RetryPolicy;
use activator_core::BatchOptions;
use activator_core::{ItemState, Step};
use dataverse::{DeploymentOutcome, Mailbox, TestOutcome};
use metrics::Metrics;
use std::collections::HashMap;
use std::time::Duration;
use store::clock::now;
use store::{Batch, BatchStore, Item, Millis, StepOutcome, Transition};
use uuid::Uuid;

/// Items read from the store per page, and so per group of bulk reads.
const PAGE: usize = 1_000;

/// What one sweep saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    /// Items under verification when the sweep began.
    pub verifying: usize,
    /// Items whose process ended (well or not) or timed out.
    pub settled: usize,
}

/// How long until the next sweep, given how many items are under verification: often enough
/// that results show soon, rarely enough that its reads (one per 100 mailboxes) stay a small
/// part of the request budget.
pub fn next_sweep_in(verifying: usize) -> Duration {
    let reads = verifying.div_ceil(100) as u64;
    Duration::from_millis((1_000 + reads * 250).min(30_000))
}

pub async fn sweep<S: BatchStore, D: DataverseOps>(
    store: &S,
    dataverse: &D,
    batch: &Batch,
    retry: &RetryPolicy,
    metrics: &Metrics,
) -> Result<Swept, PipelineError> {
    let options = BatchOptions::from_json(&batch.options).map_err(PipelineError::Options)?;
    let mut out = Swept::default();
    let mut after_index = None;
    loop {
        let page = store.items(batch.id, Some(ItemState::Verifying), after_index, PAGE).await?;
        let Some(last) = page.last() else { break };
        after_index = Some(last.index);
        out.verifying += page.len();
        let ids: Vec<Uuid> = page.iter().filter_map(|i| i.mailbox_id).collect();
        let read: HashMap<Uuid, Mailbox> =
            dataverse.mailboxes_by_ids(&ids).await?.into_iter().map(|m| (m.id, m)).collect();
        let at = now();
        for item in &page {
            let mailbox = item.mailbox_id.and_then(|id| read.get(&id));
            let Some(t) = settle(dataverse, batch, &options, retry, metrics, item, mailbox, at).await else {
                continue;
            };
            if store.transition(batch.id, t, at).await? {
                out.settled += 1;
            }
        }
    }
    Ok(out)
}

/// The transition that records what the mailbox shows, if its process has ended.
#[allow(clippy::too_many_arguments)]
async fn settle<D: DataverseOps>(
    dataverse: &D,
    batch: &Batch,
    options: &BatchOptions,
    retry: &RetryPolicy,
    metrics: &Metrics,
    item: &Item,
    mailbox: Option<&Mailbox>,
    at: Millis,
) -> Option<Transition> {
    let step = item.step?;
    let Some(m) = mailbox else {
        let error = remedy::mailbox_deleted();
        let outcome = Some(StepOutcome::failed(step, &error.code));
        return Some(Transition { error: Some(error), outcome, ..keep(item, ItemState::Failed) });
    };
    let timeout = if step == Step::DeployApp { options.deploy_timeout() } else { options.test_timeout() };
    let deadline = item.due_at.unwrap_or(at);
    let observe = || {
        let scheduled = deadline.saturating_sub(i64::try_from(timeout.as_millis()).unwrap_or(i64::MAX));
        metrics.verification_latency_seconds.observe(at.saturating_sub(scheduled).max(0) as f64 / 1000.0);
    };
    let count = |outcome: &str| metrics.mailbox_steps_total.with_label_values(&[step.name(), outcome]).inc();
    let finished = match step {
        Step::TestAndEnable => match m.test_outcome() {
            TestOutcome::Succeeded => Ok(()),
            TestOutcome::Failed { act: true, incoming: false, outgoing: false }
                if options.overwrite_primary_org && !m.primary_here && retry.may_retry(item.attempts + 1) =>
            {
                observe();
                if let Err(e) = dataverse.mark_primary_for_exchange_sync(m.id).await {
                    tracing::warn!(mailbox = %m.id, error = %e, "could not mark this organization primary; next sweep tries again");
                    return None;
                }
                count("retried");
                metrics.job_retries_total.with_label_values(&[step.name(), "other_organization"]).inc();
                // Back to planning, which sees the failed test and schedules it again.
                return Some(Transition {
                    attempts: item.attempts + 1,
                    due_at: Some(at),
                    ..keep(item, ItemState::Pending)
                });
            }
            TestOutcome::Failed { .. } => Err(remedy::test_failed(m)),
            TestOutcome::Running | TestOutcome::NotRun => return timed_out(item, step, timeout, at, count),
        },
        Step::DeployApp => match m.deployment_outcome() {
            DeploymentOutcome::Installed => Ok(()),
            DeploymentOutcome::Failed(message) => Err(remedy::deployment_failed(&message)),
            DeploymentOutcome::Running | DeploymentOutcome::NotInstalled => {
                return timed_out(item, step, timeout, at, count);
            }
        },
        Step::Approve | Step::AssignRole => return None,
    };
    observe();
    Some(match finished {
        Ok(()) => {
            count("verified");
            let outcome = Some(StepOutcome::succeeded(step));
            match step.next_in(&batch.steps) {
                Some(next) => Transition {
                    step: Some(next),
                    attempts: 0,
                    error: None,
                    due_at: Some(at),
                    outcome,
                    ..keep(item, ItemState::Pending)
                },
                None => Transition { error: None, outcome, ..keep(item, ItemState::Done) },
            }
        }
        Err(error) => {
            count("failed");
            let outcome = Some(StepOutcome::failed(step, &error.code));
            Transition { error: Some(error), outcome, ..keep(item, ItemState::Failed) }
        }
    })
}

fn timed_out(
    item: &Item,
    step: Step,
    timeout: Duration,
    at: Millis,
    count: impl Fn(&str),
) -> Option<Transition> {
    if at < item.due_at.unwrap_or(Millis::MAX) {
        return None;
    }
    count("timed_out");
    let error = remedy::timed_out(step, timeout.as_secs());
    Some(Transition {
        outcome: Some(StepOutcome::failed(step, &error.code)),
        error: Some(error),
        ..keep(item, ItemState::Failed)
    })
}
