//! Items: reading one, paging through them, finding the due ones, and checked transitions.

use super::codec::{self, item_columns};
use super::{batches, outcomes};
use crate::batch_store::StoreResult;
use crate::error::StoreError;
use crate::model::{BatchId, DueSummary, Item, Millis, Transition};
use activator_core::ItemState;
use sqlx::SqlitePool;
use sqlx::sqlite::SqliteRow;

const ONE: &str = concat!("SELECT ", item_columns!(), " FROM items WHERE batch = ? AND idx = ?");
const PAGE: &str =
    concat!("SELECT ", item_columns!(), " FROM items WHERE batch = ? AND idx > ? ORDER BY idx LIMIT ?");
// The reads by state name their index: without statistics SQLite would rather walk the
// primary key from `idx` on and filter on the state, reading every item to find a rare state.
const PAGE_IN_STATE: &str = concat!(
    "SELECT ",
    item_columns!(),
    " FROM items INDEXED BY items_by_state",
    " WHERE batch = ? AND state = ? AND idx > ? ORDER BY idx LIMIT ?"
);
/// `items_by_due` holds (batch, state, due_at) and then the key's idx: no sort needed.
const WAITING_DUE: &str = concat!(
    "SELECT ",
    item_columns!(),
    " FROM items INDEXED BY items_by_due",
    " WHERE batch = ? AND state = ? AND due_at <= ? ORDER BY due_at, idx LIMIT ?"
);
/// `items_started_by_update` holds (batch, state, started, updated_at) and then idx: started
/// pending items in the order they became pending (a pending item changes only when it
/// leaves pending).
const PENDING_LONGEST: &str = concat!(
    "SELECT ",
    item_columns!(),
    " FROM items INDEXED BY items_started_by_update",
    " WHERE batch = ? AND state = ? AND started = 1 ORDER BY updated_at, idx LIMIT ?"
);
/// `items_not_started` holds only the items not started, by (batch, idx).
const FRESH: &str = concat!(
    "SELECT ",
    item_columns!(),
    " FROM items INDEXED BY items_not_started",
    " WHERE batch = ? AND started = 0 ORDER BY idx LIMIT ?"
);

/// Counts and the first due time of the same ranges as [`WAITING_DUE`] and
/// [`PENDING_LONGEST`], from the indexes alone.
const WAITING_DUE_SUMMARY: &str = "SELECT COUNT(*), MIN(due_at) FROM items INDEXED BY items_by_due \
     WHERE batch = ? AND state = ? AND due_at <= ?";
const PENDING_SUMMARY: &str = "SELECT COUNT(*), MIN(updated_at) FROM items INDEXED BY items_started_by_update \
     WHERE batch = ? AND state = ?";

pub(super) async fn get(pool: &SqlitePool, id: BatchId, index: u32) -> StoreResult<Option<Item>> {
    let row = sqlx::query(ONE).bind(codec::id(id)).bind(i64::from(index)).fetch_optional(pool).await?;
    row.as_ref().map(codec::item_from_row).transpose()
}

/// In index order after `after`, by the primary key or, with a state, by `items_by_state`.
pub(super) async fn list(
    pool: &SqlitePool,
    id: BatchId,
    state: Option<ItemState>,
    after: Option<u32>,
    limit: usize,
) -> StoreResult<Vec<Item>> {
    let key = codec::id(id);
    let after = after.map_or(-1, i64::from);
    let rows = match state {
        None => sqlx::query(PAGE).bind(&key).bind(after).bind(codec::limit(limit)).fetch_all(pool).await?,
        Some(state) => {
            sqlx::query(PAGE_IN_STATE)
                .bind(&key)
                .bind(state.name())
                .bind(after)
                .bind(codec::limit(limit))
                .fetch_all(pool)
                .await?
        }
    };
    if rows.is_empty() && !batches::exists(pool, &key).await? {
        return Err(StoreError::BatchNotFound(id));
    }
    to_items(&rows)
}

/// Waiting items due by `now` and pending ones, longest-due first: a waiting item is due since
/// its due time, a pending one since it became pending; ties in index order. Read in one
/// snapshot so no item appears twice.
///
/// First come, first fed: an item at a later step never overtakes one that has waited longer
/// (by index order, the last mailboxes of a large batch would wait for every other mailbox's
/// later steps, and finish long after the rest).
pub(super) async fn due(pool: &SqlitePool, id: BatchId, now: Millis, limit: usize) -> StoreResult<Vec<Item>> {
    let key = codec::id(id);
    let mut tx = pool.begin().await?;
    let waiting = sqlx::query(WAITING_DUE)
        .bind(&key)
        .bind(ItemState::Waiting.name())
        .bind(now)
        .bind(codec::limit(limit))
        .fetch_all(&mut *tx)
        .await?;
    let pending = sqlx::query(PENDING_LONGEST)
        .bind(&key)
        .bind(ItemState::Pending.name())
        .bind(codec::limit(limit))
        .fetch_all(&mut *tx)
        .await?;
    let found = !waiting.is_empty() || !pending.is_empty() || batches::exists(&mut *tx, &key).await?;
    tx.commit().await?;
    if !found {
        return Err(StoreError::BatchNotFound(id));
    }
    let mut items = to_items(&waiting)?;
    items.extend(to_items(&pending)?);
    items.sort_by_key(|i| (due_since(i), i.index));
    items.truncate(limit);
    Ok(items)
}

/// What [`due`] would read without a limit: how many, and since when the first is due.
pub(super) async fn due_summary(pool: &SqlitePool, id: BatchId, now: Millis) -> StoreResult<DueSummary> {
    let key = codec::id(id);
    let mut tx = pool.begin().await?;
    let (waiting, waiting_since): (i64, Option<Millis>) = sqlx::query_as(WAITING_DUE_SUMMARY)
        .bind(&key)
        .bind(ItemState::Waiting.name())
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
    let (pending, pending_since): (i64, Option<Millis>) = sqlx::query_as(PENDING_SUMMARY)
        .bind(&key)
        .bind(ItemState::Pending.name())
        .fetch_one(&mut *tx)
        .await?;
    let found = waiting + pending > 0 || batches::exists(&mut *tx, &key).await?;
    tx.commit().await?;
    if !found {
        return Err(StoreError::BatchNotFound(id));
    }
    let oldest_due_since = waiting_since.into_iter().chain(pending_since).min();
    Ok(DueSummary { due: u64::try_from(waiting + pending).unwrap_or(0), oldest_due_since })
}

/// Items not started, in index order.
pub(super) async fn fresh(pool: &SqlitePool, id: BatchId, limit: usize) -> StoreResult<Vec<Item>> {
    let key = codec::id(id);
    let rows = sqlx::query(FRESH).bind(&key).bind(codec::limit(limit)).fetch_all(pool).await?;
    if rows.is_empty() && !batches::exists(pool, &key).await? {
        return Err(StoreError::BatchNotFound(id));
    }
    to_items(&rows)
}

/// Since when an item read by [`due`] has been due.
fn due_since(item: &Item) -> Millis {
    match item.state {
        ItemState::Waiting => item.due_at.unwrap_or(item.updated_at),
        _ => item.updated_at,
    }
}

/// Changes the item only if it is still in `t.from` at `t.from_step`, marking it started; the
/// triggers move its counts in the same statement, and its step outcome, if any, is recorded
/// in the same transaction.
pub(super) async fn transition(
    pool: &SqlitePool,
    id: BatchId,
    t: Transition,
    now: Millis,
) -> StoreResult<bool> {
    t.validate().map_err(|e| StoreError::Invalid(format!("batch {id}: {e}")))?;
    let key = codec::id(id);
    let mut tx = pool.begin().await?;
    let changed = sqlx::query(
        "UPDATE items SET state = ?, step = ?, attempts = ?, due_at = ?, error = ?,
             mailbox_id = COALESCE(?, mailbox_id), updated_at = ?, started = 1
         WHERE batch = ? AND idx = ? AND state = ? AND step IS ?",
    )
    .bind(t.to.name())
    .bind(codec::step(t.step))
    .bind(i64::from(t.attempts))
    .bind(t.due_at)
    .bind(codec::error(t.error.as_ref())?)
    .bind(t.mailbox_id.map(codec::id))
    .bind(now)
    .bind(&key)
    .bind(i64::from(t.index))
    .bind(t.from.name())
    .bind(codec::step(t.from_step))
    .execute(&mut *tx)
    .await?;
    if changed.rows_affected() > 0 {
        if let Some(outcome) = &t.outcome {
            outcomes::record(&mut tx, &key, outcome).await?;
        }
        tx.commit().await?;
        return Ok(true);
    }
    let exists = batches::exists(&mut *tx, &key).await?;
    tx.commit().await?;
    if exists { Ok(false) } else { Err(StoreError::BatchNotFound(id)) }
}

fn to_items(rows: &[SqliteRow]) -> StoreResult<Vec<Item>> {
    rows.iter().map(codec::item_from_row).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::super::SqliteStore;
    use super::*;
    use sqlx::{AssertSqlSafe, Row};

    async fn plan(store: &SqliteStore, sql: &str) -> String {
        let rows = sqlx::query(AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")))
            .fetch_all(&store.pool)
            .await
            .unwrap();
        rows.iter().map(|r| r.get::<String, _>("detail")).collect::<Vec<_>>().join("; ")
    }

    #[tokio::test]
    async fn item_reads_search_an_index_and_never_sort() {
        let store = SqliteStore::in_memory().await.unwrap();
        for (sql, index) in [
            (ONE, "PRIMARY KEY"),
            (PAGE, "PRIMARY KEY"),
            (PAGE_IN_STATE, "items_by_state"),
            (WAITING_DUE, "items_by_due"),
            (PENDING_LONGEST, "items_started_by_update"),
            (FRESH, "items_not_started"),
            (WAITING_DUE_SUMMARY, "items_by_due"),
            (PENDING_SUMMARY, "items_started_by_update"),
        ] {
            let plan = plan(&store, sql).await;
            assert!(plan.contains("SEARCH") && plan.contains(index), "{sql}: {plan}");
            assert!(!plan.contains("TEMP B-TREE"), "{sql}: {plan}");
        }
    }
}
