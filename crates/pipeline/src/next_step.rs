//! The next step of each due item: before its job is queued, a bulk read of its mailbox (100 per request)
//! decides what is really left to do. A step already so in Dataverse is passed over without a
//! write; an asynchronous process already running is verified instead of started again; a
//! mailbox already in the requested end state is `skipped`; one that cannot be found fails.
//!
//! Every due item goes through here, not only new ones: a retry, an item taken back from a
//! dead worker, or a rerun after Ctrl-C is checked against Dataverse before anything is sent
//! again, so no mailbox is written more often than its steps need.

use crate::dataverse_ops::DataverseOps;
use crate::error::PipelineError;
use crate::remedy;
use crate::resolve::{Resolved, resolve};
use activator_core::BatchOptions;
use activator_core::{ItemState, Step};
use dataverse::{DeploymentOutcome, Mailbox, TestOutcome};
use metrics::Metrics;
use std::collections::HashMap;
use store::clock::after;
use store::{Batch, Item, ItemError, Millis, StepOutcome, Transition};
use uuid::Uuid;

/// An item whose next step must run: the feeder queues it at `step`.
#[derive(Debug, Clone, PartialEq)]
pub struct Ready {
    pub item: Item,
    pub step: Step,
    /// The mailbox's id, when known (set on the item as it is queued).
    pub mailbox_id: Option<Uuid>,
    /// The user owning the mailbox, for the role step.
    pub user: Option<Uuid>,
    /// The App for Outlook role of the user's business unit, for the role step.
    pub role: Option<Uuid>,
}

/// What planning decided for one item.
#[derive(Debug, Clone, PartialEq)]
enum Decision {
    Run { step: Step },
    Verify { step: Step },
    Finished,
    Fail(ItemError),
}

/// Decides for `items` (pending, or waiting and due) of `batch`: applies every decision that needs
/// no job, and returns the items whose next step must run.
pub async fn decide_next_steps<S: store::BatchStore, D: DataverseOps>(
    store: &S,
    dataverse: &D,
    batch: &Batch,
    items: Vec<Item>,
    now: Millis,
    metrics: &Metrics,
) -> Result<Vec<Ready>, PipelineError> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
    let options = BatchOptions::from_json(&batch.options).map_err(PipelineError::Options)?;
    let references: Vec<&str> =
        items.iter().filter(|i| i.mailbox_id.is_none()).map(|i| i.mailbox.as_str()).collect();
    let known: Vec<Uuid> = items.iter().filter_map(|i| i.mailbox_id).collect();
    let found = resolve(dataverse, &references, &known).await?;
    // Decisions may read (the role check), so they run side by side (the client's limiter
    // bounds how many requests are in flight); transitions follow in order.
    let mut deciding = Vec::with_capacity(items.len());
    for item in &items {
        deciding.push(decide_item(dataverse, batch, &found, item, metrics));
    }
    let mut decisions = futures_util::future::join_all(deciding).await;
    let roles = roles_for_role_steps(dataverse, &items, &decisions, &found).await;
    let mut ready = Vec::new();
    for ((item, decision), role) in items.into_iter().zip(decisions.drain(..)).zip(roles) {
        let (Some(from_step), Some(decision)) = (item.step, decision) else { continue };
        let mailbox = found.of(item.mailbox_id, &item.mailbox);
        let mailbox_id = mailbox.map(|m| m.id);
        let to = |to: ItemState, step: Option<Step>| Transition {
            index: item.index,
            from: item.state,
            from_step: item.step,
            to,
            step,
            attempts: if step == item.step { item.attempts } else { 0 },
            due_at: None,
            error: if step == item.step { item.error.clone() } else { None },
            mailbox_id,
            outcome: None,
        };
        let t = match decision {
            Decision::Run { step: Step::AssignRole } if role == Some(None) => {
                metrics.mailbox_steps_total.with_label_values(&[Step::AssignRole.name(), "failed"]).inc();
                let error = remedy::role_missing_in_unit();
                Transition {
                    outcome: Some(StepOutcome::failed(Step::AssignRole, &error.code)),
                    error: Some(error),
                    ..to(ItemState::Failed, item.step)
                }
            }
            Decision::Run { step } => {
                if let Some(id) = mailbox_id {
                    let user = mailbox.and_then(|m| m.owner);
                    ready.push(Ready { item, step, mailbox_id: Some(id), user, role: role.flatten() });
                }
                continue;
            }
            Decision::Verify { step } => {
                let timeout =
                    if step == Step::DeployApp { options.deploy_timeout() } else { options.test_timeout() };
                Transition { due_at: Some(after(now, timeout)), ..to(ItemState::Verifying, Some(step)) }
            }
            Decision::Finished => {
                let untouched = item.state == ItemState::Pending
                    && item.attempts == 0
                    && item.error.is_none()
                    && Step::first_of(&batch.steps) == Some(from_step);
                let state = if untouched { ItemState::Skipped } else { ItemState::Done };
                to(state, item.step)
            }
            Decision::Fail(error) => {
                metrics.mailbox_steps_total.with_label_values(&[from_step.name(), "failed"]).inc();
                Transition {
                    outcome: Some(StepOutcome::failed(from_step, &error.code)),
                    error: Some(error),
                    ..to(ItemState::Failed, item.step)
                }
            }
        };
        store.transition(batch.id, t, now).await?;
    }
    Ok(ready)
}

async fn decide_item<D: DataverseOps>(
    dataverse: &D,
    batch: &Batch,
    found: &Resolved,
    item: &Item,
    metrics: &Metrics,
) -> Option<Decision> {
    let from_step = item.step?;
    let mailbox = found.of(item.mailbox_id, &item.mailbox);
    Some(match mailbox {
        None if item.mailbox_id.is_some() => Decision::Fail(remedy::mailbox_deleted()),
        None => Decision::Fail(remedy::mailbox_not_found(&item.mailbox)),
        Some(m) => decide(dataverse, &batch.steps, from_step, m, metrics).await,
    })
}

/// Walks the requested steps from `step` on, passing over those already done.
async fn decide<D: DataverseOps>(
    dataverse: &D,
    steps: &[Step],
    mut step: Step,
    m: &Mailbox,
    metrics: &Metrics,
) -> Decision {
    loop {
        let done = match step {
            Step::Approve if m.approval == 3 => return Decision::Fail(remedy::approval_rejected()),
            Step::Approve => m.is_approved(),
            Step::TestAndEnable => match m.test_outcome() {
                TestOutcome::Succeeded => true,
                TestOutcome::Running => return Decision::Verify { step },
                TestOutcome::NotRun | TestOutcome::Failed { .. } => false,
            },
            Step::AssignRole => role_held(dataverse, steps, m).await,
            Step::DeployApp => match m.deployment_outcome() {
                DeploymentOutcome::Installed => true,
                DeploymentOutcome::Running => return Decision::Verify { step },
                DeploymentOutcome::NotInstalled | DeploymentOutcome::Failed(_) => false,
            },
        };
        if !done {
            return Decision::Run { step };
        }
        metrics.mailbox_steps_total.with_label_values(&[step.name(), "already_done"]).inc();
        match step.next_in(steps) {
            Some(next) => step = next,
            None => return Decision::Finished,
        }
    }
}

/// Whether the mailbox's user already holds the App for Outlook role. Asked only when every
/// later requested step is already done (the role is the one thing the bulk read cannot
/// show); otherwise the role step itself checks before it writes. Any doubt means "not held".
async fn role_held<D: DataverseOps>(dataverse: &D, steps: &[Step], m: &Mailbox) -> bool {
    let later_done =
        !steps.contains(&Step::DeployApp) || m.deployment_outcome() == DeploymentOutcome::Installed;
    let Some(user) = m.owner else { return false };
    if !later_done {
        return false;
    }
    let Ok(unit) = dataverse.user_business_unit(user).await else { return false };
    let Ok(Some(role)) = dataverse.app_role_for_unit(unit).await else { return false };
    dataverse.user_has_role(user, role).await.unwrap_or(false)
}

/// For each item about to run its role step: Some(the role of its user's business unit, or
/// None when that unit has none); None for other items, or when the users could not be read
/// (the job then looks the role up itself). Business units are read 100 users at a time.
async fn roles_for_role_steps<D: DataverseOps>(
    dataverse: &D,
    items: &[Item],
    decisions: &[Option<Decision>],
    found: &Resolved,
) -> Vec<Option<Option<Uuid>>> {
    let owner = |item: &Item| found.of(item.mailbox_id, &item.mailbox).and_then(|m| m.owner);
    let users: Vec<Uuid> = items
        .iter()
        .zip(decisions)
        .filter(|(_, d)| matches!(d, Some(Decision::Run { step: Step::AssignRole })))
        .filter_map(|(item, _)| owner(item))
        .collect();
    let mut out = vec![None; items.len()];
    if users.is_empty() {
        return out;
    }
    let Ok(units) = dataverse.users_business_units(&users).await else { return out };
    let mut role_of_unit: HashMap<Uuid, Option<Uuid>> = HashMap::new();
    for (slot, (item, decision)) in out.iter_mut().zip(items.iter().zip(decisions)) {
        if !matches!(decision, Some(Decision::Run { step: Step::AssignRole })) {
            continue;
        }
        let Some(unit) = owner(item).and_then(|u| units.get(&u).copied()) else { continue };
        let role = match role_of_unit.get(&unit) {
            Some(role) => *role,
            None => match dataverse.app_role_for_unit(unit).await {
                Ok(role) => {
                    role_of_unit.insert(unit, role);
                    role
                }
                Err(_) => continue,
            },
        };
        *slot = Some(role);
    }
    out
}
