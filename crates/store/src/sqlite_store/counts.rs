//! The exact counters of a batch's items by (step, state), and the progress read from them.

use super::codec;
use crate::batch_store::StoreResult;
use crate::error::StoreError;
use crate::model::{BatchId, Progress};
use activator_core::{ItemState, Step};
use sqlx::{Row, SqliteConnection, SqlitePool};

/// The pseudo-state (at step '') that counts the items not started yet.
pub(super) const NOT_STARTED: &str = "not_started";

/// Adds `n` to the count of the batch's items at (`step`, `state`), for items just inserted:
/// call it in the transaction that inserts them. (Changes of items move their counts by the
/// `items_move_count` and `items_start_count` triggers.)
pub(super) async fn add(
    conn: &mut SqliteConnection,
    batch: &[u8],
    step: Option<Step>,
    state: &str,
    n: i64,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO counts (batch, step, state, n) VALUES (?, ?, ?, ?)
         ON CONFLICT (batch, step, state) DO UPDATE SET n = n + excluded.n",
    )
    .bind(batch)
    .bind(codec::count_step(step))
    .bind(state)
    .bind(n)
    .execute(conn)
    .await?;
    Ok(())
}

/// One indexed read of at most (steps + 1) × states rows.
pub(super) async fn progress(pool: &SqlitePool, id: BatchId) -> StoreResult<Progress> {
    let key = codec::id(id);
    let total: Option<i64> =
        sqlx::query_scalar("SELECT total FROM batches WHERE id = ?").bind(&key).fetch_optional(pool).await?;
    let total = total.ok_or(StoreError::BatchNotFound(id))?;
    let rows = sqlx::query("SELECT step, state, n FROM counts WHERE batch = ? AND n <> 0")
        .bind(&key)
        .fetch_all(pool)
        .await?;
    let mut progress = Progress {
        total: u64::try_from(total).map_err(|_| codec::corrupt("batch total", total))?,
        ..Progress::default()
    };
    for row in &rows {
        let step: String = row.try_get("step")?;
        let state: String = row.try_get("state")?;
        let n: i64 = row.try_get("n")?;
        let n = u64::try_from(n).map_err(|_| codec::corrupt("count", format!("{n} items {state}")))?;
        if state == NOT_STARTED {
            progress.not_started = n;
            continue;
        }
        let state = codec::parse::<ItemState>("item state", &state)?;
        *progress.by_state.entry(state).or_default() += n;
        if let Some(step) = codec::parse_step(Some(&step))? {
            *progress.by_step.entry(step).or_default().entry(state).or_default() += n;
        }
    }
    Ok(progress)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::super::SqliteStore;
    use crate::batch_store::BatchStore;
    use crate::model::NewBatch;
    use activator_core::{ItemState, Step};
    use std::collections::BTreeMap;

    #[tokio::test]
    async fn any_update_of_an_items_state_or_step_moves_its_count() {
        let store = SqliteStore::in_memory().await.unwrap();
        let new = NewBatch {
            idempotency_key: None,
            environment: "test".into(),
            steps: vec![Step::Approve],
            options: serde_json::Value::Null,
            mailboxes: vec!["a".into(), "b".into(), "c".into()],
        };
        let (batch, _) = store.create_batch(new, 0).await.unwrap();
        for sql in [
            "UPDATE items SET state = 'done', step = NULL WHERE idx < 2",
            "UPDATE items SET attempts = 5, updated_at = 9",
            "UPDATE items SET step = 'deploy_app' WHERE idx = 1",
            "UPDATE items SET step = 'deploy_app' WHERE idx = 1",
        ] {
            sqlx::query(sql).execute(&store.pool).await.unwrap();
        }
        let progress = store.progress(batch.id).await.unwrap();
        let states = BTreeMap::from([(ItemState::Pending, 1), (ItemState::Done, 2)]);
        assert_eq!(progress.by_state, states);
        let by_step = BTreeMap::from([
            (Step::Approve, BTreeMap::from([(ItemState::Pending, 1)])),
            (Step::DeployApp, BTreeMap::from([(ItemState::Done, 1)])),
        ]);
        assert_eq!(progress.by_step, by_step);
    }
}
