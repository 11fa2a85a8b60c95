//! The lease of a batch: one holder at a time drives it.
//!
//! A lease is free again when its key expires (Redis's clock) or when the caller's `now`
//! passes the time it was taken until (the caller's clock), whichever comes first.

use super::{RedisStore, scripts};
use crate::batch_store::StoreResult;
use crate::error::StoreError;
use crate::model::{BatchId, Millis};
use std::time::Duration;

pub(super) async fn acquire(
    store: &RedisStore,
    id: BatchId,
    holder: &str,
    ttl: Duration,
    now: Millis,
) -> StoreResult<bool> {
    if holder.is_empty() {
        return Err(StoreError::Invalid("a lease holder needs a name".into()));
    }
    // PX needs at least 1 ms.
    let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX).max(1);
    let keys = store.keys.of(id);
    let held: i64 = scripts::ACQUIRE_LEASE
        .key(&keys.lease)
        .key(&keys.meta)
        .arg(holder)
        .arg(now.saturating_add(ttl_ms))
        .arg(ttl_ms)
        .arg(now)
        .invoke_async(&mut store.conn())
        .await?;
    match held {
        -1 => Err(StoreError::BatchNotFound(id)),
        n => Ok(n == 1),
    }
}

pub(super) async fn release(store: &RedisStore, id: BatchId, holder: &str) -> StoreResult<bool> {
    let released: i64 = scripts::RELEASE_LEASE
        .key(store.keys.of(id).lease)
        .arg(holder)
        .invoke_async(&mut store.conn())
        .await?;
    Ok(released == 1)
}
