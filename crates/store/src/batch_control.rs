//! Control of a batch by its operator: pause, resume, cancel, and retry of its failed mailboxes.
//! The rules live here once, for the HTTP API and `activator run` alike; the conductor of the
//! batch applies their effect (stops feeding while paused, cancels what is left).
//!
//! Every change is a checked store transition, so two operators acting at once, or an operator
//! and the conductor finishing the batch, never leave it in a state the rules do not allow:
//! a change that lost such a race reads the batch again and decides anew.

use crate::clock::now;
use crate::{Batch, BatchId, BatchStore, Deletion, StoreError, Transition};
use activator_core::{BatchAction, BatchState, ItemState, PausedBy};

/// How often a change that lost a race with another writer is tried again.
const TRIES: usize = 5;

/// Why a control action was not applied.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("batch {0} does not exist: list the batches to find its id")]
    NotFound(BatchId),
    /// The batch's state does not allow the action.
    #[error("cannot {} batch {batch}: it is {state}; {hint}", action.name())]
    NotAllowed { batch: BatchId, action: BatchAction, state: BatchState, hint: &'static str },
    /// Only a finished batch may be deleted.
    #[error(
        "cannot delete batch {batch}: it is {state}; only a completed or cancelled batch can be deleted: cancel it first"
    )]
    NotFinished { batch: BatchId, state: BatchState },
    /// Other writers kept changing the batch while this one tried.
    #[error("batch {0} kept changing while it was being changed: try again")]
    Contended(BatchId),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a retry did.
#[derive(Debug, Clone, PartialEq)]
pub struct Retried {
    pub batch: Batch,
    /// Failed items moved back to pending.
    pub retried: u64,
}

async fn read<S: BatchStore>(store: &S, id: BatchId) -> Result<Batch, ControlError> {
    store.batch(id).await?.ok_or(ControlError::NotFound(id))
}

/// Moves the batch from the state `target` names for its current one, again after a lost
/// race; `target` returns `Ok(None)` when the batch is already where the action leads.
async fn change<S, F>(store: &S, id: BatchId, target: F) -> Result<Batch, ControlError>
where
    S: BatchStore,
    F: Fn(&Batch) -> Result<Option<BatchState>, ControlError>,
{
    for _ in 0..TRIES {
        let batch = read(store, id).await?;
        let Some(to) = target(&batch)? else { return Ok(batch) };
        if store.set_batch_state(id, batch.state, to, now()).await? {
            return read(store, id).await;
        }
    }
    Err(ControlError::Contended(id))
}

fn not_allowed(batch: &Batch, action: BatchAction, hint: &'static str) -> ControlError {
    ControlError::NotAllowed { batch: batch.id, action, state: batch.state, hint }
}

/// Running → paused; a paused batch stays paused. Nothing new is fed while paused; steps
/// under way finish.
pub async fn pause<S: BatchStore>(store: &S, id: BatchId) -> Result<Batch, ControlError> {
    change(store, id, |b| match b.state {
        BatchState::Running => Ok(Some(BatchState::Paused)),
        BatchState::Paused => Ok(None),
        BatchState::Completed | BatchState::Cancelled => {
            Err(not_allowed(b, BatchAction::Pause, "only a running batch can be paused"))
        }
    })
    .await
}

/// Paused → running; a running batch stays running. Resuming a batch that paused itself (a
/// failed canary, a tripped breaker, a missing prerequisite) is the operator's word that it
/// may go on: the reason is cleared, the breaker's window starts again, and a failed canary
/// counts as behind the batch. Mailboxes that failed stay failed (`retry` runs them again).
pub async fn resume<S: BatchStore>(store: &S, id: BatchId) -> Result<Batch, ControlError> {
    let reason = read(store, id).await?.paused_reason;
    if reason.as_ref().is_some_and(|r| r.by == PausedBy::Canary) {
        store.set_canary_done(id, now()).await?;
    }
    change(store, id, |b| match b.state {
        BatchState::Paused => Ok(Some(BatchState::Running)),
        BatchState::Running => Ok(None),
        BatchState::Completed => {
            Err(not_allowed(b, BatchAction::Resume, "to run its failed mailboxes again, retry the batch"))
        }
        BatchState::Cancelled => Err(not_allowed(
            b,
            BatchAction::Resume,
            "a cancelled batch cannot run again: create a new batch for its mailboxes",
        )),
    })
    .await
}

/// After the cause of a self-pause is fixed: the mailboxes it failed start again, then the
/// batch resumes, so they are the first to show whether the fix worked. A canary's failed
/// mailboxes all start again and the canary is judged anew; after a breaker, those that failed
/// with its error code. Returns the batch and how many started again.
pub async fn retry_cause_and_resume<S: BatchStore>(store: &S, id: BatchId) -> Result<Retried, ControlError> {
    let batch = read(store, id).await?;
    let Some(reason) = batch.paused_reason.clone().filter(|_| batch.state == BatchState::Paused) else {
        return Ok(Retried { batch, retried: 0 });
    };
    let retried = match reason.by {
        PausedBy::Canary => retry_failed(store, id, |_| true).await?,
        PausedBy::Breaker => retry_failed(store, id, |code| code == reason.code).await?,
        PausedBy::Prerequisite => 0,
    };
    let batch =
        change(store, id, |b| Ok((b.state == BatchState::Paused).then_some(BatchState::Running))).await?;
    Ok(Retried { batch, retried })
}

/// Running or paused → cancelled; a cancelled batch stays cancelled. The conductor cancels
/// the mailboxes that have not finished.
pub async fn cancel<S: BatchStore>(store: &S, id: BatchId) -> Result<Batch, ControlError> {
    change(store, id, |b| match b.state {
        BatchState::Running | BatchState::Paused => Ok(Some(BatchState::Cancelled)),
        BatchState::Cancelled => Ok(None),
        BatchState::Completed => {
            Err(not_allowed(b, BatchAction::Cancel, "every mailbox of a completed batch has finished"))
        }
    })
    .await
}

/// Deletes a finished (completed or cancelled) batch with its items; a running or paused
/// batch is refused, so a rollout under way is never lost by accident.
pub async fn delete<S: BatchStore>(store: &S, id: BatchId) -> Result<(), ControlError> {
    match store.delete_batch(id).await? {
        Deletion::Deleted => Ok(()),
        Deletion::NotFound => Err(ControlError::NotFound(id)),
        Deletion::NotFinished(state) => Err(ControlError::NotFinished { batch: id, state }),
    }
}

/// Failed items go back to pending at the step they failed at, with their attempts reset
/// (their last error is kept until the next outcome). A completed batch that has open items
/// then goes back to running; a paused one stays paused. A cancelled batch cannot be retried.
pub async fn retry<S: BatchStore>(store: &S, id: BatchId) -> Result<Retried, ControlError> {
    let batch = read(store, id).await?;
    if batch.state == BatchState::Cancelled {
        return Err(not_allowed(
            &batch,
            BatchAction::Retry,
            "a cancelled batch cannot run again: create a new batch for its failed mailboxes",
        ));
    }
    let retried = retry_failed(store, id, |_| true).await?;
    // Reopened after the items moved, so the conductor never sees it running with nothing to
    // do; judged by the items, so a batch that completed while they moved reopens too, and a
    // completed batch with nothing failed stays completed.
    let batch = if has_open_items(store, id).await? {
        change(store, id, |b| Ok((b.state == BatchState::Completed).then_some(BatchState::Running))).await?
    } else {
        read(store, id).await?
    };
    Ok(Retried { batch, retried })
}

/// Failed items whose error code `which` picks go back to pending at the step they failed at,
/// attempts reset (the last error is kept until the next outcome); returns how many moved.
async fn retry_failed<S: BatchStore>(
    store: &S,
    id: BatchId,
    which: impl Fn(&str) -> bool,
) -> Result<u64, ControlError> {
    let mut retried = 0;
    for item in crate::all_items(store, id, Some(ItemState::Failed)).await? {
        if !which(item.error.as_ref().map_or("", |e| e.code.as_str())) {
            continue;
        }
        let t = Transition {
            index: item.index,
            from: ItemState::Failed,
            from_step: item.step,
            to: ItemState::Pending,
            step: item.step,
            attempts: 0,
            due_at: None,
            error: item.error,
            mailbox_id: None,
            outcome: None,
        };
        if store.transition(id, t, now()).await? {
            retried += 1;
        }
    }
    Ok(retried)
}

async fn has_open_items<S: BatchStore>(store: &S, id: BatchId) -> Result<bool, ControlError> {
    let progress = store.progress(id).await?;
    Ok(progress.finished() < progress.total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ItemError, NewBatch, SqliteStore};
    use activator_core::Step;
    use uuid::Uuid;

    async fn batch_of(n: usize) -> (SqliteStore, BatchId) {
        let store = SqliteStore::in_memory().await.expect("store");
        let new = NewBatch {
            idempotency_key: None,
            environment: "default".into(),
            steps: vec![Step::Approve],
            options: serde_json::json!({}),
            mailboxes: (0..n).map(|i| format!("m{i}@contoso.com")).collect(),
        };
        let (batch, _) = store.create_batch(new, now()).await.expect("created");
        (store, batch.id)
    }

    /// Ends item `index` as `to` (failed ones with an error and 3 attempts).
    async fn end(store: &SqliteStore, id: BatchId, index: u32, to: ItemState) {
        let item = store.item(id, index).await.expect("read").expect("item");
        let failed = to == ItemState::Failed;
        let t = Transition {
            index,
            from: item.state,
            from_step: item.step,
            to,
            step: item.step,
            attempts: if failed { 3 } else { 0 },
            due_at: None,
            error: failed.then(|| ItemError { code: "x".into(), message: "y".into(), remedy: None }),
            mailbox_id: None,
            outcome: None,
        };
        assert!(store.transition(id, t, now()).await.expect("moved"));
    }

    async fn complete(store: &SqliteStore, id: BatchId) {
        let set = store.set_batch_state(id, BatchState::Running, BatchState::Completed, now());
        assert!(set.await.expect("set"));
    }

    fn state_of(e: ControlError) -> BatchState {
        match e {
            ControlError::NotAllowed { state, .. } => state,
            other => panic!("expected a refusal, got {other}"),
        }
    }

    #[tokio::test]
    async fn pause_resume_and_cancel_follow_the_rules_and_repeat_harmlessly() {
        let (store, id) = batch_of(2).await;
        assert_eq!(pause(&store, id).await.expect("paused").state, BatchState::Paused);
        assert_eq!(pause(&store, id).await.expect("still paused").state, BatchState::Paused);
        assert_eq!(resume(&store, id).await.expect("running").state, BatchState::Running);
        assert_eq!(resume(&store, id).await.expect("still running").state, BatchState::Running);
        assert_eq!(cancel(&store, id).await.expect("cancelled").state, BatchState::Cancelled);
        assert_eq!(cancel(&store, id).await.expect("still cancelled").state, BatchState::Cancelled);
        assert_eq!(state_of(pause(&store, id).await.expect_err("no pause")), BatchState::Cancelled);
        assert_eq!(state_of(resume(&store, id).await.expect_err("no resume")), BatchState::Cancelled);
        assert_eq!(state_of(retry(&store, id).await.expect_err("no retry")), BatchState::Cancelled);
        assert!(matches!(pause(&store, Uuid::nil()).await, Err(ControlError::NotFound(_))));
    }

    #[tokio::test]
    async fn retry_moves_failed_items_back_and_reopens_a_completed_batch() {
        let (store, id) = batch_of(3).await;
        end(&store, id, 0, ItemState::Failed).await;
        end(&store, id, 1, ItemState::Done).await;
        end(&store, id, 2, ItemState::Failed).await;
        complete(&store, id).await;
        assert_eq!(state_of(cancel(&store, id).await.expect_err("completed")), BatchState::Completed);

        let out = retry(&store, id).await.expect("retried");
        assert_eq!(out.retried, 2);
        assert_eq!(out.batch.state, BatchState::Running);
        let item = store.item(id, 2).await.expect("read").expect("item");
        assert_eq!((item.state, item.attempts), (ItemState::Pending, 0));
        assert_eq!(item.error.map(|e| e.code), Some("x".to_string()), "the last error stays");
        assert_eq!(retry(&store, id).await.expect("again").retried, 0);
    }

    #[tokio::test]
    async fn a_completed_batch_with_nothing_failed_stays_completed_on_retry() {
        let (store, id) = batch_of(1).await;
        end(&store, id, 0, ItemState::Done).await;
        complete(&store, id).await;
        let out = retry(&store, id).await.expect("retried");
        assert_eq!((out.retried, out.batch.state), (0, BatchState::Completed));
        assert_eq!(state_of(resume(&store, id).await.expect_err("completed")), BatchState::Completed);
    }
}
