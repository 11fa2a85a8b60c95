//! Creating a batch: idempotent on its key, its items written in pipelined chunks.
//!
//! The items, the due set and the place in the batch list are written first; the counters
//! and the meta hash last, together (one MULTI: same hash tag). A batch exists for readers
//! once its meta hash does, so nobody sees half a batch. `claim.rs` says how the idempotency
//! key is held meanwhile, and taken over when its creation dies half-way.

use super::RedisStore;
use super::claim::{self, OwnClaim};
use super::codec::{FixedBatch, NewItem, check_time, count_field};
use super::keys::{member, order_member};
use crate::batch_store::StoreResult;
use crate::error::StoreError;
use crate::ids;
use crate::model::{Batch, BatchId, Millis, NewBatch};
use activator_core::{BatchState, ItemState, Step};
use redis::AsyncCommands;
use std::time::Instant;

/// Items per pipeline.
const CHUNK: usize = 1_000;

pub(super) async fn create_batch(
    store: &RedisStore,
    new: NewBatch,
    now: Millis,
) -> StoreResult<(Batch, bool)> {
    if new.mailboxes.is_empty() {
        return Err(StoreError::Invalid("a batch needs at least one mailbox".into()));
    }
    if u32::try_from(new.mailboxes.len()).is_err() {
        return Err(StoreError::Invalid(format!(
            "a batch holds at most {} mailboxes, not {}: split it",
            u32::MAX,
            new.mailboxes.len()
        )));
    }
    check_time("the creation time", now)?;
    let id = ids::new_batch_id();
    // The order member comes first because the claim names it: whoever takes a dead
    // creation's claim over can then remove its place in the batch list.
    let seq = store.conn().incr::<_, _, u64>(store.keys.batch_seq(), 1).await?;
    let order = order_member(seq, id);
    let own = new.idempotency_key.as_deref().map(|key| OwnClaim::new(key, &order));
    // From here on a failure must remove what was written and free the idempotency key.
    let written = match &own {
        Some(own) => match claim::claim(store, own).await {
            Ok(Some(existing)) => return Ok((existing, false)),
            Ok(None) => write(store, id, &order, &new, now, Some(own)).await,
            Err(e) => Err(e),
        },
        None => write(store, id, &order, &new, now, None).await,
    };
    match written {
        Ok(batch) => Ok((batch, true)),
        Err(e) => {
            undo(store, id, &order, own.as_ref()).await;
            Err(e)
        }
    }
}

async fn write(
    store: &RedisStore,
    id: BatchId,
    order: &str,
    new: &NewBatch,
    now: Millis,
    own: Option<&OwnClaim>,
) -> StoreResult<Batch> {
    let keys = store.keys.of(id);
    let step = Step::first_of(&new.steps);
    let total = new.mailboxes.len() as u64;
    let mut conn = store.conn();
    let mut index: u32 = 0;
    let mut renewed = Instant::now();
    for chunk in new.mailboxes.chunks(CHUNK) {
        if let Some(own) = own
            && renewed.elapsed() >= store.claims.refresh_every()
        {
            claim::refresh(store, own).await?;
            renewed = Instant::now();
        }
        let mut items = redis::cmd("HSET");
        items.arg(&keys.items);
        // Not started: in the fresh set, all at one score so that they come in index order.
        let mut fresh = redis::cmd("ZADD");
        fresh.arg(&keys.fresh);
        for mailbox in chunk {
            let item = NewItem {
                mailbox,
                mailbox_id: None,
                state: ItemState::Pending,
                step,
                attempts: 0,
                due_at: None,
                error: None,
                updated_at: now,
                started: false,
            };
            let m = member(index);
            items.arg(&m).arg(serde_json::to_string(&item)?);
            fresh.arg(now).arg(m);
            index = index.wrapping_add(1);
        }
        redis::pipe()
            .add_command(items)
            .ignore()
            .add_command(fresh)
            .ignore()
            .query_async::<()>(&mut conn)
            .await?;
    }
    let _: () = conn.zadd(store.keys.batches(), order, now).await?;

    let fixed = FixedBatch {
        id,
        idempotency_key: new.idempotency_key.clone(),
        environment: new.environment.clone(),
        steps: new.steps.clone(),
        options: new.options.clone(),
        total,
        created_at: now,
    };
    let mut counts = redis::cmd("HSET");
    counts
        .arg(&keys.counts)
        .arg("total")
        .arg(total)
        .arg("not_started")
        .arg(total)
        .arg(count_field(None, ItemState::Pending))
        .arg(total);
    if let Some(step) = step {
        counts.arg(count_field(Some(step), ItemState::Pending)).arg(total);
    }
    let mut meta = redis::cmd("HSET");
    meta.arg(&keys.meta)
        .arg("batch")
        .arg(serde_json::to_string(&fixed)?)
        .arg("state")
        .arg(BatchState::Running.name())
        .arg("updated_at")
        .arg(now)
        .arg("total")
        .arg(total)
        .arg("order")
        .arg(order);
    // The last moment to find out that the claim was taken over: after this the batch is
    // visible.
    if let Some(own) = own {
        claim::refresh(store, own).await?;
    }
    redis::pipe()
        .atomic()
        .add_command(counts)
        .ignore()
        .add_command(meta)
        .ignore()
        .query_async::<()>(&mut conn)
        .await?;

    Ok(Batch {
        id,
        idempotency_key: fixed.idempotency_key,
        environment: fixed.environment,
        steps: fixed.steps,
        options: fixed.options,
        state: BatchState::Running,
        total,
        created_at: now,
        updated_at: now,
        paused_reason: None,
        canary_done: false,
    })
}

/// Removes what a failed creation wrote, and frees its idempotency key (best effort: Redis
/// may be the reason it failed).
async fn undo(store: &RedisStore, id: BatchId, order: &str, own: Option<&OwnClaim>) {
    let keys = store.keys.of(id);
    let mut pipe = redis::pipe();
    pipe.cmd("DEL").arg(keys.all()).ignore();
    pipe.cmd("ZREM").arg(store.keys.batches()).arg(order).ignore();
    if let Err(e) = pipe.query_async::<()>(&mut store.conn()).await {
        tracing::warn!(batch = %id, error = %e, "could not remove a batch whose creation failed");
    }
    if let Some(own) = own {
        claim::release(store, own).await;
    }
}
