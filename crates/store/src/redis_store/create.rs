//! Creating a batch: idempotent on its key, its items written in pipelined chunks.
//!
//! The items, the due set and the place in the batch list are written first; the counters
//! and the meta hash last, together (one MULTI: same hash tag). A batch exists for readers
//! once its meta hash does, so nobody sees half a batch.

use super::codec::{FixedBatch, NewItem, check_time, corrupt, count_field};
use super::keys::{member, order_member};
use super::{RedisStore, read, scripts};
use crate::batch_store::StoreResult;
use crate::error::StoreError;
use crate::ids;
use crate::model::{Batch, BatchId, Millis, NewBatch};
use activator_core::{BatchState, ItemState, Step};
use redis::AsyncCommands;
use std::time::{Duration, Instant};

/// Items per pipeline.
const CHUNK: usize = 1_000;
/// How long a request waits for the batch of an idempotency key that another request is
/// still creating.
const CLAIM_WAIT: Duration = Duration::from_secs(30);

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
    if let Some(key) = new.idempotency_key.as_deref()
        && let Some(existing) = claim(store, key, id).await?
    {
        return Ok((existing, false));
    }
    // From here on a failure must free the idempotency key again.
    let (order, written) = match store.conn().incr::<_, _, u64>(store.keys.batch_seq(), 1).await {
        Ok(seq) => {
            let order = order_member(seq, id);
            let written = write(store, id, &order, &new, now).await;
            (Some(order), written)
        }
        Err(e) => (None, Err(e.into())),
    };
    match written {
        Ok(batch) => Ok((batch, true)),
        Err(e) => {
            undo(store, id, order.as_deref(), new.idempotency_key.as_deref()).await;
            Err(e)
        }
    }
}

/// Claims the idempotency `key` for `id`. When another batch holds it, returns that batch
/// once it is written (the caller then returns it instead of creating one).
async fn claim(store: &RedisStore, key: &str, id: BatchId) -> StoreResult<Option<Batch>> {
    let idem = store.keys.idem();
    let mut conn = store.conn();
    let deadline = Instant::now() + CLAIM_WAIT;
    let mut pause = Duration::from_millis(2);
    loop {
        let won: bool = conn.hset_nx(&idem, key, id.hyphenated().to_string()).await?;
        if won {
            return Ok(None);
        }
        let holder: Option<String> = conn.hget(&idem, key).await?;
        if let Some(holder) = holder {
            let holder: BatchId =
                holder.parse().map_err(|e| corrupt(format!("idempotency key '{key}': {e}")))?;
            if let Some(batch) = read::batch(store, holder).await? {
                return Ok(Some(batch));
            }
        }
        // The holder is still being written, or its creation failed and freed the key.
        if Instant::now() >= deadline {
            return Err(StoreError::Backend(format!(
                "the batch of idempotency key '{key}' is still being created by another request \
                 after {CLAIM_WAIT:?}"
            )));
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

async fn write(
    store: &RedisStore,
    id: BatchId,
    order: &str,
    new: &NewBatch,
    now: Millis,
) -> StoreResult<Batch> {
    let keys = store.keys.of(id);
    let step = Step::first_of(&new.steps);
    let total = new.mailboxes.len() as u64;
    let mut conn = store.conn();
    let mut index: u32 = 0;
    for chunk in new.mailboxes.chunks(CHUNK) {
        let mut items = redis::cmd("HSET");
        items.arg(&keys.items);
        let mut due = redis::cmd("ZADD");
        due.arg(&keys.due);
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
            };
            let m = member(index);
            items.arg(&m).arg(serde_json::to_string(&item)?);
            due.arg(now).arg(m);
            index = index.wrapping_add(1);
        }
        redis::pipe()
            .add_command(items)
            .ignore()
            .add_command(due)
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
    counts.arg(&keys.counts).arg("total").arg(total).arg(count_field(None, ItemState::Pending)).arg(total);
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
    })
}

/// Removes what a failed creation wrote, and frees its idempotency key (best effort: Redis
/// may be the reason it failed).
async fn undo(store: &RedisStore, id: BatchId, order: Option<&str>, key: Option<&str>) {
    let keys = store.keys.of(id);
    let mut conn = store.conn();
    let mut pipe = redis::pipe();
    pipe.cmd("DEL").arg(&keys.all()[..]).ignore();
    if let Some(order) = order {
        pipe.cmd("ZREM").arg(store.keys.batches()).arg(order).ignore();
    }
    if let Err(e) = pipe.query_async::<()>(&mut conn).await {
        tracing::warn!(batch = %id, error = %e, "could not remove a batch whose creation failed");
    }
    if let Some(key) = key {
        let freed = scripts::RELEASE_IDEMPOTENCY_KEY
            .key(store.keys.idem())
            .arg(key)
            .arg(id.hyphenated().to_string())
            .invoke_async::<i64>(&mut conn)
            .await;
        if let Err(e) = freed {
            tracing::warn!(batch = %id, error = %e, "could not free the idempotency key of a failed batch");
        }
    }
}
