//! The latest step outcomes of each batch and step, for the circuit breaker: appended by the
//! transitions that record one, trimmed to the newest [`OUTCOMES_KEPT`].

use super::codec;
use crate::batch_store::StoreResult;
use crate::model::{BatchId, OUTCOMES_KEPT, StepOutcome};
use activator_core::Step;
use sqlx::{SqliteConnection, SqlitePool};

/// Appends `outcome`, in the caller's transaction.
pub(super) async fn record(
    conn: &mut SqliteConnection,
    batch: &[u8],
    outcome: &StepOutcome,
) -> StoreResult<()> {
    let step = outcome.step.name();
    let last: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM outcomes WHERE batch = ? AND step = ?")
        .bind(batch)
        .bind(step)
        .fetch_one(&mut *conn)
        .await?;
    let seq = last.unwrap_or(0) + 1;
    sqlx::query("INSERT INTO outcomes (batch, step, seq, failure) VALUES (?, ?, ?, ?)")
        .bind(batch)
        .bind(step)
        .bind(seq)
        .bind(outcome.failure.as_deref())
        .execute(&mut *conn)
        .await?;
    let keep = i64::try_from(OUTCOMES_KEPT).unwrap_or(i64::MAX);
    sqlx::query("DELETE FROM outcomes WHERE batch = ? AND step = ? AND seq <= ?")
        .bind(batch)
        .bind(step)
        .bind(seq - keep)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The newest outcomes of `step`, newest first.
pub(super) async fn recent(
    pool: &SqlitePool,
    id: BatchId,
    step: Step,
    limit: usize,
) -> StoreResult<Vec<Option<String>>> {
    let rows: Vec<(Option<String>,)> =
        sqlx::query_as("SELECT failure FROM outcomes WHERE batch = ? AND step = ? ORDER BY seq DESC LIMIT ?")
            .bind(codec::id(id))
            .bind(step.name())
            .bind(codec::limit(limit.min(OUTCOMES_KEPT)))
            .fetch_all(pool)
            .await?;
    Ok(rows.into_iter().map(|(failure,)| failure).collect())
}
