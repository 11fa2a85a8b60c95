//! Batches: creation with all their items, reading, listing and control-state changes.

use super::codec::{self, batch_columns};
use super::counts;
use crate::batch_store::StoreResult;
use crate::error::StoreError;
use crate::model::{Batch, BatchId, Deletion, Millis, NewBatch};
use activator_core::{BatchState, ItemState, PauseReason, Step};
use sqlx::{SqliteConnection, SqlitePool};

/// Creates the batch and its items in one transaction, or returns the batch created earlier
/// with the same idempotency key. The write lock is taken first, so two concurrent calls with
/// one key create one batch.
pub(super) async fn create(pool: &SqlitePool, new: NewBatch, now: Millis) -> StoreResult<(Batch, bool)> {
    if new.mailboxes.is_empty() {
        return Err(StoreError::Invalid("a batch needs at least one mailbox".into()));
    }
    let total = u32::try_from(new.mailboxes.len()).map_err(|_| {
        StoreError::Invalid(format!("{} mailboxes are too many for one batch", new.mailboxes.len()))
    })?;
    // All items are inserted by one statement that reads the mailboxes from a JSON array.
    let mailboxes = serde_json::to_string(&new.mailboxes)?;
    let steps = serde_json::to_string(&new.steps)?;
    let options = serde_json::to_string(&new.options)?;
    let first = Step::first_of(&new.steps);

    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    if let Some(key) = &new.idempotency_key
        && let Some(existing) = by_idempotency_key(&mut tx, key).await?
    {
        tx.commit().await?;
        return Ok((existing, false));
    }
    let batch = Batch {
        id: crate::ids::new_batch_id(),
        idempotency_key: new.idempotency_key,
        environment: new.environment,
        steps: new.steps,
        options: new.options,
        state: BatchState::Running,
        total: u64::from(total),
        created_at: now,
        updated_at: now,
        paused_reason: None,
        canary_done: false,
    };
    let id = codec::id(batch.id);
    sqlx::query(concat!(
        "INSERT INTO batches (",
        batch_columns!(),
        ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, 0)"
    ))
    .bind(&id)
    .bind(batch.idempotency_key.as_deref())
    .bind(&batch.environment)
    .bind(steps)
    .bind(options)
    .bind(batch.state.name())
    .bind(i64::from(total))
    .bind(now)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let inserted = sqlx::query(
        "INSERT INTO items (batch, idx, mailbox, mailbox_id, state, step, attempts, due_at, error, updated_at, started)
         SELECT ?1, key, value, NULL, ?2, ?3, 0, NULL, NULL, ?4, 0 FROM json_each(?5)",
    )
    .bind(&id)
    .bind(ItemState::Pending.name())
    .bind(codec::step(first))
    .bind(now)
    .bind(mailboxes)
    .execute(&mut *tx)
    .await?;
    if inserted.rows_affected() != u64::from(total) {
        return Err(StoreError::Backend(format!(
            "inserted {} items instead of {total}; nothing was created",
            inserted.rows_affected()
        )));
    }
    counts::add(&mut tx, &id, first, ItemState::Pending.name(), i64::from(total)).await?;
    counts::add(&mut tx, &id, None, counts::NOT_STARTED, i64::from(total)).await?;
    tx.commit().await?;
    tracing::debug!(batch = %batch.id, total, "batch created");
    Ok((batch, true))
}

async fn by_idempotency_key(conn: &mut SqliteConnection, key: &str) -> StoreResult<Option<Batch>> {
    let row = sqlx::query(concat!("SELECT ", batch_columns!(), " FROM batches WHERE idempotency_key = ?"))
        .bind(key)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(codec::batch_from_row).transpose()
}

pub(super) async fn get(pool: &SqlitePool, id: BatchId) -> StoreResult<Option<Batch>> {
    let row = sqlx::query(concat!("SELECT ", batch_columns!(), " FROM batches WHERE id = ?"))
        .bind(codec::id(id))
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(codec::batch_from_row).transpose()
}

/// Whether the batch exists.
pub(super) async fn exists<'c, E>(conn: E, id: &[u8]) -> StoreResult<bool>
where
    E: sqlx::SqliteExecutor<'c>,
{
    let found: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM batches WHERE id = ?").bind(id).fetch_optional(conn).await?;
    Ok(found.is_some())
}

const NEWEST: &str =
    concat!("SELECT ", batch_columns!(), " FROM batches ORDER BY created_at DESC, id DESC LIMIT ?");
/// The row value comparison is a range search on `batches_newest`.
const NEWEST_BEFORE: &str = concat!(
    "SELECT ",
    batch_columns!(),
    " FROM batches WHERE (created_at, id) < (?, ?) ORDER BY created_at DESC, id DESC LIMIT ?"
);

/// Newest first (by creation time, then id); `before` must be a batch that exists.
pub(super) async fn list(
    pool: &SqlitePool,
    before: Option<BatchId>,
    limit: usize,
) -> StoreResult<Vec<Batch>> {
    let rows = match before {
        None => sqlx::query(NEWEST).bind(codec::limit(limit)).fetch_all(pool).await?,
        Some(before) => {
            let cursor = codec::id(before);
            let created_at: Option<i64> = sqlx::query_scalar("SELECT created_at FROM batches WHERE id = ?")
                .bind(&cursor)
                .fetch_optional(pool)
                .await?;
            let created_at = created_at.ok_or_else(|| {
                StoreError::Invalid(format!(
                    "no batch {before} to list batches before: pass the id of a listed batch"
                ))
            })?;
            sqlx::query(NEWEST_BEFORE)
                .bind(created_at)
                .bind(cursor)
                .bind(codec::limit(limit))
                .fetch_all(pool)
                .await?
        }
    };
    rows.iter().map(codec::batch_from_row).collect()
}

/// Compare-and-set of the batch's control state, with the reason it paused itself (or none).
pub(super) async fn set_state(
    pool: &SqlitePool,
    id: BatchId,
    from: BatchState,
    to: BatchState,
    reason: Option<&PauseReason>,
    now: Millis,
) -> StoreResult<bool> {
    crate::model::check_batch_change(from, to).map_err(StoreError::Invalid)?;
    let key = codec::id(id);
    let reason = reason.map(serde_json::to_string).transpose()?;
    let mut tx = pool.begin().await?;
    let done = sqlx::query(
        "UPDATE batches SET state = ?, paused_reason = ?, updated_at = ? WHERE id = ? AND state = ?",
    )
    .bind(to.name())
    .bind(reason)
    .bind(now)
    .bind(&key)
    .bind(from.name())
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() > 0 {
        if from == BatchState::Paused && to == BatchState::Running {
            // A batch that resumes starts its outcome windows afresh.
            sqlx::query("DELETE FROM outcomes WHERE batch = ?").bind(&key).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        return Ok(true);
    }
    let found = exists(&mut *tx, &key).await?;
    tx.commit().await?;
    if found { Ok(false) } else { Err(StoreError::BatchNotFound(id)) }
}

/// Records that the batch's canary is behind it.
pub(super) async fn set_canary_done(pool: &SqlitePool, id: BatchId, now: Millis) -> StoreResult<()> {
    let key = codec::id(id);
    let done = sqlx::query("UPDATE batches SET canary_done = 1, updated_at = ? WHERE id = ?")
        .bind(now)
        .bind(&key)
        .execute(pool)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::BatchNotFound(id));
    }
    Ok(())
}

pub(super) async fn delete(pool: &SqlitePool, id: BatchId) -> StoreResult<Deletion> {
    let key = codec::id(id);
    let mut tx = pool.begin().await?;
    let state: Option<String> = sqlx::query_scalar("SELECT state FROM batches WHERE id = ?")
        .bind(&key)
        .fetch_optional(&mut *tx)
        .await?;
    let Some(state) = state else { return Ok(Deletion::NotFound) };
    let state = state
        .parse::<BatchState>()
        .map_err(|e| StoreError::Backend(format!("batch {id} has an unknown state: {e}")))?;
    if !state.is_final() {
        return Ok(Deletion::NotFinished(state));
    }
    for statement in [
        "DELETE FROM items WHERE batch = ?",
        "DELETE FROM counts WHERE batch = ?",
        "DELETE FROM outcomes WHERE batch = ?",
        "DELETE FROM leases WHERE batch = ?",
    ] {
        sqlx::query(statement).bind(&key).execute(&mut *tx).await?;
    }
    sqlx::query("DELETE FROM batches WHERE id = ?").bind(&key).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(Deletion::Deleted)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn a_page_of_batches_is_a_range_of_the_index() {
        use sqlx::{AssertSqlSafe, Row};
        let store = super::super::SqliteStore::in_memory().await.unwrap();
        for (sql, search) in [(NEWEST, false), (NEWEST_BEFORE, true)] {
            let rows = sqlx::query(AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")))
                .fetch_all(&store.pool)
                .await
                .unwrap();
            let plan: Vec<String> = rows.iter().map(|r| r.get("detail")).collect();
            let plan = plan.join("; ");
            assert!(plan.contains("batches_newest") && !plan.contains("TEMP B-TREE"), "{plan}");
            assert_eq!(plan.contains("SEARCH"), search, "{plan}");
        }
    }
}
