//! Changing items and batches: checked, atomic compare-and-set scripts.

use super::codec::{Patch, check_time};
use super::keys::member;
use super::{RedisStore, scripts};
use crate::batch_store::StoreResult;
use crate::error::StoreError;
use crate::model::{BatchId, Deletion, Millis, OUTCOMES_KEPT, Transition};
use activator_core::{BatchState, ItemState, PauseReason, Step};

pub(super) async fn transition(
    store: &RedisStore,
    id: BatchId,
    t: Transition,
    now: Millis,
) -> StoreResult<bool> {
    t.validate().map_err(|e| StoreError::Invalid(format!("batch {id}: {e}")))?;
    check_time("the transition time", now)?;
    if let Some(due) = t.due_at {
        check_time("the due time", due)?;
    }
    let patch = Patch {
        state: t.to,
        step: t.step,
        attempts: t.attempts,
        due_at: t.due_at,
        error: t.error.as_ref(),
        updated_at: now,
        mailbox_id: t.mailbox_id,
    };
    // The time an item is due since: a pending item now (or its earlier due time), a waiting
    // one at its due time. Other states leave the due set.
    let due_score = match t.to {
        ItemState::Pending => Some(t.due_at.map_or(now, |due| due.min(now))),
        ItemState::Waiting => Some(t.due_at.unwrap_or(now)),
        _ => None,
    };
    let keys = store.keys.of(id);
    // The list of the outcome's step; any key of the batch when there is no outcome.
    let outcome_step = t.outcome.as_ref().map(|o| o.step).or(t.from_step).unwrap_or(Step::Approve);
    let applied: i64 = scripts::TRANSITION
        .key(&keys.items)
        .key(&keys.counts)
        .key(&keys.due)
        .key(&keys.meta)
        .key(&keys.fresh)
        .key(keys.outcomes_of(outcome_step))
        .arg(member(t.index))
        .arg(t.from.name())
        .arg(t.from_step.map_or("", |s| s.name()))
        .arg(t.to.name())
        .arg(serde_json::to_string(&patch)?)
        .arg(t.step.map_or("", |s| s.name()))
        .arg(due_score.map_or(String::new(), |s| s.to_string()))
        .arg(if t.outcome.is_some() { "1" } else { "0" })
        .arg(t.outcome.as_ref().and_then(|o| o.failure.as_deref()).unwrap_or(""))
        .arg(OUTCOMES_KEPT)
        .invoke_async(&mut store.conn())
        .await?;
    match applied {
        1 => Ok(true),
        0 => Ok(false),
        -1 => Err(StoreError::BatchNotFound(id)),
        _ => Err(StoreError::Invalid(format!("batch {id} has no item {}", t.index))),
    }
}

pub(super) async fn set_batch_state(
    store: &RedisStore,
    id: BatchId,
    from: BatchState,
    to: BatchState,
    reason: Option<&PauseReason>,
    now: Millis,
) -> StoreResult<bool> {
    crate::model::check_batch_change(from, to).map_err(StoreError::Invalid)?;
    let reason = reason.map(serde_json::to_string).transpose()?.unwrap_or_default();
    let keys = store.keys.of(id);
    let mut script = scripts::SET_BATCH_STATE.key(&keys.meta);
    for list in &keys.outcomes {
        script.key(list);
    }
    let changed: i64 =
        script.arg(from.name()).arg(to.name()).arg(now).arg(reason).invoke_async(&mut store.conn()).await?;
    match changed {
        -1 => Err(StoreError::BatchNotFound(id)),
        n => Ok(n == 1),
    }
}

/// Records that the batch's canary is behind it.
pub(super) async fn set_canary_done(store: &RedisStore, id: BatchId, now: Millis) -> StoreResult<()> {
    let found: i64 =
        scripts::SET_CANARY_DONE.key(store.keys.of(id).meta).arg(now).invoke_async(&mut store.conn()).await?;
    if found == 0 {
        return Err(StoreError::BatchNotFound(id));
    }
    Ok(())
}

pub(super) async fn delete_batch(store: &RedisStore, id: BatchId) -> StoreResult<Deletion> {
    let keys = store.keys.of(id);
    let mut script = scripts::DELETE_BATCH.key(&keys.meta);
    script.key(store.keys.batches()).key(store.keys.idem());
    for key in keys.all().into_iter().filter(|k| *k != keys.meta) {
        script.key(key);
    }
    let (done, state): (i64, String) = script.invoke_async(&mut store.conn()).await?;
    match done {
        1 => Ok(Deletion::Deleted),
        -1 => Ok(Deletion::NotFound),
        _ => state
            .parse::<BatchState>()
            .map(Deletion::NotFinished)
            .map_err(|e| StoreError::Backend(format!("batch {id} has an unknown state: {e}"))),
    }
}
