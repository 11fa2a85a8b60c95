//! Leases: which process drives a batch, until when.

use super::codec;
use crate::batch_store::StoreResult;
use crate::model::{BatchId, Millis};
use sqlx::SqlitePool;
use std::time::Duration;

/// One statement: takes a free lease, renews the holder's own, or takes over an expired one
/// (expiry at or before `now`); another holder's live lease makes it change nothing.
pub(super) async fn acquire(
    pool: &SqlitePool,
    id: BatchId,
    holder: &str,
    ttl: Duration,
    now: Millis,
) -> StoreResult<bool> {
    let ttl = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
    let done = sqlx::query(
        "INSERT INTO leases (batch, holder, expires_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (batch) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
         WHERE leases.holder = excluded.holder OR leases.expires_at <= ?4",
    )
    .bind(codec::id(id))
    .bind(holder)
    .bind(now.saturating_add(ttl))
    .bind(now)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() > 0)
}

pub(super) async fn release(pool: &SqlitePool, id: BatchId, holder: &str) -> StoreResult<bool> {
    let done = sqlx::query("DELETE FROM leases WHERE batch = ? AND holder = ?")
        .bind(codec::id(id))
        .bind(holder)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() > 0)
}
