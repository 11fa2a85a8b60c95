//! The store trait: the truth about batches and items. Every change is an atomic, checked
//! transition, so counters never drift even when a job runs twice.

use crate::error::StoreError;
use crate::model::{Batch, BatchId, Deletion, DueSummary, Item, Millis, NewBatch, Progress, Transition};
use activator_core::{BatchState, ItemState, PauseReason, Step};
use std::future::Future;
use std::time::Duration;

pub type StoreResult<T> = Result<T, StoreError>;

pub trait BatchStore: Send + Sync + 'static {
    /// Creates a batch with one pending item per mailbox (step: the first requested one).
    /// With an idempotency key already used, returns that batch and `false`.
    fn create_batch(
        &self,
        new: NewBatch,
        now: Millis,
    ) -> impl Future<Output = StoreResult<(Batch, bool)>> + Send;

    fn batch(&self, id: BatchId) -> impl Future<Output = StoreResult<Option<Batch>>> + Send;

    /// Batches newest first; `before` is the id of the last batch of the previous page.
    fn list_batches(
        &self,
        before: Option<BatchId>,
        limit: usize,
    ) -> impl Future<Output = StoreResult<Vec<Batch>>> + Send;

    /// Changes the batch's control state if it is `from`; false when it was not. Clears the
    /// reason the batch paused itself, if any; a batch that resumes (paused → running) starts
    /// its recent outcomes afresh.
    fn set_batch_state(
        &self,
        id: BatchId,
        from: BatchState,
        to: BatchState,
        now: Millis,
    ) -> impl Future<Output = StoreResult<bool>> + Send;

    /// Running → paused, recording why (the batch paused itself); false when it was not running.
    fn pause_with_reason(
        &self,
        id: BatchId,
        reason: &PauseReason,
        now: Millis,
    ) -> impl Future<Output = StoreResult<bool>> + Send;

    /// Records that the batch's canary is behind it (passed, or accepted by an operator).
    fn set_canary_done(&self, id: BatchId, now: Millis) -> impl Future<Output = StoreResult<()>> + Send;

    /// Exact counts of the batch's items.
    fn progress(&self, id: BatchId) -> impl Future<Output = StoreResult<Progress>> + Send;

    fn item(&self, id: BatchId, index: u32) -> impl Future<Output = StoreResult<Option<Item>>> + Send;

    /// Items in index order after `after` (exclusive), optionally only those in `state`.
    fn items(
        &self,
        id: BatchId,
        state: Option<ItemState>,
        after: Option<u32>,
        limit: usize,
    ) -> impl Future<Output = StoreResult<Vec<Item>>> + Send;

    /// Started items due for work: pending ones, and waiting ones whose due time has passed,
    /// the longest-due first (a waiting item is due since its due time, a pending one since it
    /// became pending; ties in index order), at most `limit`. Items not started yet are not
    /// among them: see [`Self::fresh_items`].
    fn due_items(
        &self,
        id: BatchId,
        now: Millis,
        limit: usize,
    ) -> impl Future<Output = StoreResult<Vec<Item>>> + Send;

    /// Items not started yet (pending since the batch was created), in index order, at most
    /// `limit`.
    fn fresh_items(&self, id: BatchId, limit: usize) -> impl Future<Output = StoreResult<Vec<Item>>> + Send;

    /// How many items are due (those [`Self::due_items`] and [`Self::fresh_items`] would give
    /// without a limit), and since when the first of them has been due, without reading them
    /// (for the queue gauges, on every scrape).
    fn due_summary(&self, id: BatchId, now: Millis) -> impl Future<Output = StoreResult<DueSummary>> + Send;

    /// Applies a transition if the item is in `from` at `from_step`; counters change with it
    /// atomically, the item counts as started from then on, and the transition's step
    /// outcome, if any, joins the batch's recent outcomes. Returns whether it applied.
    fn transition(
        &self,
        id: BatchId,
        t: Transition,
        now: Millis,
    ) -> impl Future<Output = StoreResult<bool>> + Send;

    /// The latest outcomes of `step` in the batch, newest first, at most `limit` (and at most
    /// [`crate::OUTCOMES_KEPT`]): None for a success, the error code of a permanent failure.
    fn recent_outcomes(
        &self,
        id: BatchId,
        step: Step,
        limit: usize,
    ) -> impl Future<Output = StoreResult<Vec<Option<String>>>> + Send;

    /// Takes or renews the lease of a batch for `holder` until `ttl` from now; false when
    /// another holder's lease has not expired.
    fn acquire_lease(
        &self,
        id: BatchId,
        holder: &str,
        ttl: Duration,
        now: Millis,
    ) -> impl Future<Output = StoreResult<bool>> + Send;

    /// Gives the lease back if `holder` has it.
    fn release_lease(&self, id: BatchId, holder: &str) -> impl Future<Output = StoreResult<bool>> + Send;

    /// Deletes a finished batch (completed or cancelled) with its items, outcomes and
    /// idempotency key, in one step; a batch in another state is left as it is.
    fn delete_batch(&self, id: BatchId) -> impl Future<Output = StoreResult<Deletion>> + Send;
}

/// Every item of a batch (only those in `state`, when given), read page by page in index order.
pub async fn all_items<S: BatchStore>(
    store: &S,
    id: BatchId,
    state: Option<ItemState>,
) -> StoreResult<Vec<Item>> {
    let mut items = Vec::new();
    let mut after = None;
    loop {
        let page = store.items(id, state, after, 1_000).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.index);
        items.extend(page);
    }
    Ok(items)
}
