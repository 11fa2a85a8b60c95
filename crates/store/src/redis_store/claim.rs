//! Claims on idempotency keys, and taking over the claim of a creation that died half-way.
//!
//! A creation claims its key in the `idem` hash before writing anything, as
//! `<order member>|<claimed at>` (milliseconds on Redis's clock, so processes whose clocks
//! disagree still agree on a claim's age). While it writes, it renews the time every quarter
//! of [`ClaimTimes::stale_after`], and once more right before the meta hash makes its batch
//! visible; a renewal that finds the claim gone stops the creation.
//!
//! A claim whose batch is still invisible and whose time is older than `stale_after` belongs
//! to a creation that died (or stalled that long). The next creation with that key takes it
//! over: a script swaps the claim only if it is still the one seen and still stale, so of
//! several takers exactly one wins, and the winner removes what the dead creation wrote (its
//! batch keys and its place in the batch list). A creation that stalled for `stale_after`
//! right between its last renewal and writing its meta hash could still make its batch
//! visible after being taken over; keep `stale_after` far above any such pause.

use super::codec::corrupt;
use super::keys::id_of_order_member;
use super::{RedisStore, read, scripts};
use crate::batch_store::StoreResult;
use crate::error::StoreError;
use crate::model::{Batch, BatchId, Millis};
use std::time::{Duration, Instant};

/// How claims on idempotency keys age.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ClaimTimes {
    /// A claim older than this whose batch is not visible is taken over.
    pub stale_after: Duration,
    /// How long a creation waits for the batch of a key another creation holds.
    pub wait: Duration,
}

impl Default for ClaimTimes {
    fn default() -> Self {
        ClaimTimes { stale_after: Duration::from_secs(60), wait: Duration::from_secs(30) }
    }
}

impl ClaimTimes {
    /// How often a creation renews its claim while writing.
    pub fn refresh_every(&self) -> Duration {
        self.stale_after / 4
    }

    fn stale_ms(&self) -> u64 {
        u64::try_from(self.stale_after.as_millis()).unwrap_or(u64::MAX)
    }
}

/// This creation's claim on an idempotency key.
#[derive(Debug, Clone)]
pub(super) struct OwnClaim {
    pub key: String,
    /// `<order member>|`: what every value of this claim starts with.
    prefix: String,
}

impl OwnClaim {
    pub fn new(key: &str, order: &str) -> Self {
        OwnClaim { key: key.to_string(), prefix: format!("{order}|") }
    }
}

/// A claim held by some creation, as read from the `idem` hash.
#[derive(Debug)]
struct Held {
    id: BatchId,
    /// Unknown for a claim written before claims carried their order member and time.
    order: Option<String>,
    claimed_at: Millis,
}

fn parse(key: &str, value: &str) -> StoreResult<Held> {
    let bad = |what: &str| corrupt(format!("idempotency key '{key}': {what} in '{value}'"));
    let Some((order, at)) = value.rsplit_once('|') else {
        // An older claim: the batch id alone, with no time; read as claimed long ago.
        let id = value.parse().map_err(|_| bad("no batch id"))?;
        return Ok(Held { id, order: None, claimed_at: 0 });
    };
    let id = id_of_order_member(order).ok_or_else(|| bad("no batch id"))?;
    let claimed_at = at.parse().map_err(|_| bad("no claim time"))?;
    Ok(Held { id, order: Some(order.to_string()), claimed_at })
}

/// Claims the key for this creation. When another creation holds it, returns that batch
/// once it is visible (the caller then returns it instead of creating one), or takes the
/// claim over once it is stale.
pub(super) async fn claim(store: &RedisStore, own: &OwnClaim) -> StoreResult<Option<Batch>> {
    let times = store.claims;
    let mut conn = store.conn();
    let deadline = Instant::now() + times.wait;
    let mut pause = Duration::from_millis(2);
    let mut take_over = String::new();
    loop {
        let (won, held, now): (i64, String, Millis) = scripts::CLAIM_IDEMPOTENCY_KEY
            .key(store.keys.idem())
            .arg(&own.key)
            .arg(&own.prefix)
            .arg(times.stale_ms())
            .arg(&take_over)
            .invoke_async(&mut conn)
            .await?;
        if won == 1 {
            if !take_over.is_empty() {
                remove_leftovers(store, &own.key, &take_over).await;
            }
            return Ok(None);
        }
        let holder = parse(&own.key, &held)?;
        if let Some(batch) = read::batch(store, holder.id).await? {
            return Ok(Some(batch));
        }
        if u64::try_from(now.saturating_sub(holder.claimed_at)).unwrap_or(0) >= times.stale_ms() {
            // Its batch is not visible after all this time: the creation died. Try at once.
            take_over = held;
            continue;
        }
        take_over.clear();
        // The holder is still being written, or its creation failed and freed the key.
        if Instant::now() >= deadline {
            return Err(StoreError::Backend(format!(
                "the batch of idempotency key '{}' is still being created by another request after {:?}",
                own.key, times.wait
            )));
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

/// Renews this creation's claim; an error when another creation has taken it over.
pub(super) async fn refresh(store: &RedisStore, own: &OwnClaim) -> StoreResult<()> {
    let renewed: i64 = scripts::REFRESH_IDEMPOTENCY_KEY
        .key(store.keys.idem())
        .arg(&own.key)
        .arg(&own.prefix)
        .invoke_async(&mut store.conn())
        .await?;
    if renewed == 1 {
        return Ok(());
    }
    Err(StoreError::Backend(format!(
        "creating the batch of idempotency key '{}' stalled for more than {:?} and another request \
         took the key over: ask again to get that request's batch",
        own.key, store.claims.stale_after
    )))
}

/// Frees the key if this creation still holds it (best effort: Redis may be why it failed).
pub(super) async fn release(store: &RedisStore, own: &OwnClaim) {
    let freed = scripts::RELEASE_IDEMPOTENCY_KEY
        .key(store.keys.idem())
        .arg(&own.key)
        .arg(&own.prefix)
        .invoke_async::<i64>(&mut store.conn())
        .await;
    if let Err(e) = freed {
        tracing::warn!(key = own.key, error = %e, "could not free the idempotency key of a failed batch");
    }
}

/// Removes what the creation whose claim was taken over wrote. Best effort: its keys are
/// invisible without a meta hash, so a failure here only leaves memory in use.
async fn remove_leftovers(store: &RedisStore, key: &str, dead_claim: &str) {
    let dead = match parse(key, dead_claim) {
        Ok(dead) => dead,
        Err(e) => {
            tracing::warn!(key, error = %e, "took over an unreadable idempotency claim");
            return;
        }
    };
    tracing::warn!(key, batch = %dead.id, "took over the claim of a batch creation that never finished");
    let keys = store.keys.of(dead.id);
    let mut pipe = redis::pipe();
    pipe.cmd("DEL").arg(keys.all()).ignore();
    if let Some(order) = &dead.order {
        pipe.cmd("ZREM").arg(store.keys.batches()).arg(order).ignore();
    }
    if let Err(e) = pipe.query_async::<()>(&mut store.conn()).await {
        tracing::warn!(batch = %dead.id, error = %e, "could not remove what an unfinished creation wrote");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redis_store::keys::order_member;

    #[test]
    fn claims_name_their_batch_order_and_time() {
        let id = BatchId::from_u128(9);
        let order = order_member(42, id);
        let held = parse("k", &format!("{order}|1800000000123")).expect("a claim");
        assert_eq!(
            (held.id, held.order.as_deref(), held.claimed_at),
            (id, Some(order.as_str()), 1_800_000_000_123)
        );
        let older = parse("k", &id.hyphenated().to_string()).expect("an older claim");
        assert_eq!((older.id, older.order, older.claimed_at), (id, None, 0));
        assert!(parse("k", "nonsense").is_err());
        assert!(parse("k", &format!("{order}|soon")).is_err());
    }
}
