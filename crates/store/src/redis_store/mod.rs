//! The Redis store: shared by many processes, every change an atomic script.
//!
//! `keys.rs` describes the key layout; `lua/` holds the scripts.

mod claim;
mod codec;
mod create;
mod keys;
mod lease;
mod read;
mod scripts;
mod write;

use crate::batch_store::{BatchStore, StoreResult};
use crate::error::StoreError;
use crate::model::{Batch, BatchId, Deletion, DueSummary, Item, Millis, NewBatch, Progress, Transition};
use activator_core::{BatchState, ItemState, PauseReason, Step};
use claim::ClaimTimes;
use keys::Keys;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis_endpoint::RedisEndpoint;
use std::fmt;
use std::time::Duration;

/// How long one command or pipeline may take before it fails (creating a large batch sends
/// pipelines of a few hundred kilobytes).
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(5);
/// Attempts to (re)connect, with exponential backoff from 100 ms up to [`MAX_RETRY_DELAY`]:
/// a Redis that is down fails `connect` within about three seconds.
const CONNECT_RETRIES: usize = 4;
const MAX_RETRY_DELAY: Duration = Duration::from_secs(1);

/// Batches and items in Redis. Cloning is cheap: clones share one multiplexed connection,
/// which reconnects by itself when Redis goes away and comes back.
#[derive(Clone)]
pub struct RedisStore {
    conn: ConnectionManager,
    keys: Keys,
    claims: ClaimTimes,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore").field("prefix", &self.keys.prefix()).finish_non_exhaustive()
    }
}

impl RedisStore {
    /// Connects to the Redis at `endpoint` (a URL such as
    /// `redis://[user:password@]host:port[/db]`, or `rediss://...` for TLS); every key starts
    /// with `prefix` (non-empty, without braces).
    pub async fn connect(endpoint: impl Into<RedisEndpoint>, prefix: &str) -> Result<Self, StoreError> {
        let endpoint = endpoint.into();
        let keys = Keys::new(prefix).map_err(StoreError::Invalid)?;
        let client = endpoint.client().map_err(|e| StoreError::Invalid(e.to_string()))?;
        // The address only: the URL may hold a password.
        let addr = endpoint.address();
        let config = ConnectionManagerConfig::new()
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_connection_timeout(Some(CONNECTION_TIMEOUT))
            .set_number_of_retries(CONNECT_RETRIES)
            .set_max_delay(MAX_RETRY_DELAY);
        let conn = ConnectionManager::new_with_config(client, config)
            .await
            .map_err(|e| StoreError::Backend(format!("could not connect to Redis at {addr}: {e}")))?;
        Ok(RedisStore { conn, keys, claims: ClaimTimes::default() })
    }

    /// How long a creation may hold an idempotency key without its batch becoming visible
    /// before another creation with that key takes it over, removing what the first wrote
    /// (default 60 s). A live creation renews its claim four times as often, so keep this
    /// well above the time one pipeline of a thousand items takes.
    pub fn with_stale_claim_after(mut self, after: Duration) -> Self {
        self.claims.stale_after = after;
        self
    }

    /// How long a creation waits for the batch of an idempotency key that another request
    /// is creating before it gives up with an error (default 30 s).
    pub fn with_claim_wait(mut self, wait: Duration) -> Self {
        self.claims.wait = wait;
        self
    }

    /// The prefix of every key of this store.
    pub fn prefix(&self) -> &str {
        self.keys.prefix()
    }

    fn conn(&self) -> ConnectionManager {
        self.conn.clone()
    }
}

impl BatchStore for RedisStore {
    async fn create_batch(&self, new: NewBatch, now: Millis) -> StoreResult<(Batch, bool)> {
        create::create_batch(self, new, now).await
    }

    async fn batch(&self, id: BatchId) -> StoreResult<Option<Batch>> {
        read::batch(self, id).await
    }

    async fn list_batches(&self, before: Option<BatchId>, limit: usize) -> StoreResult<Vec<Batch>> {
        read::list_batches(self, before, limit).await
    }

    async fn set_batch_state(
        &self,
        id: BatchId,
        from: BatchState,
        to: BatchState,
        now: Millis,
    ) -> StoreResult<bool> {
        write::set_batch_state(self, id, from, to, None, now).await
    }

    async fn pause_with_reason(&self, id: BatchId, reason: &PauseReason, now: Millis) -> StoreResult<bool> {
        write::set_batch_state(self, id, BatchState::Running, BatchState::Paused, Some(reason), now).await
    }

    async fn set_canary_done(&self, id: BatchId, now: Millis) -> StoreResult<()> {
        write::set_canary_done(self, id, now).await
    }

    async fn progress(&self, id: BatchId) -> StoreResult<Progress> {
        read::progress(self, id).await
    }

    async fn item(&self, id: BatchId, index: u32) -> StoreResult<Option<Item>> {
        read::item(self, id, index).await
    }

    async fn items(
        &self,
        id: BatchId,
        state: Option<ItemState>,
        after: Option<u32>,
        limit: usize,
    ) -> StoreResult<Vec<Item>> {
        read::items(self, id, state, after, limit).await
    }

    async fn due_items(&self, id: BatchId, now: Millis, limit: usize) -> StoreResult<Vec<Item>> {
        read::due_items(self, id, now, limit).await
    }

    async fn fresh_items(&self, id: BatchId, limit: usize) -> StoreResult<Vec<Item>> {
        read::fresh_items(self, id, limit).await
    }

    async fn due_summary(&self, id: BatchId, now: Millis) -> StoreResult<DueSummary> {
        read::due_summary(self, id, now).await
    }

    async fn recent_outcomes(
        &self,
        id: BatchId,
        step: Step,
        limit: usize,
    ) -> StoreResult<Vec<Option<String>>> {
        read::recent_outcomes(self, id, step, limit).await
    }

    async fn transition(&self, id: BatchId, t: Transition, now: Millis) -> StoreResult<bool> {
        write::transition(self, id, t, now).await
    }

    async fn acquire_lease(
        &self,
        id: BatchId,
        holder: &str,
        ttl: Duration,
        now: Millis,
    ) -> StoreResult<bool> {
        lease::acquire(self, id, holder, ttl, now).await
    }

    async fn release_lease(&self, id: BatchId, holder: &str) -> StoreResult<bool> {
        lease::release(self, id, holder).await
    }

    async fn delete_batch(&self, id: BatchId) -> StoreResult<Deletion> {
        write::delete_batch(self, id).await
    }
}
