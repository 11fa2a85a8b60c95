//! The feeder: moves due items of a batch from the store into the queue through a bounded
//! window, and the reconciler that gives back items whose job was lost.
//!
//! Only due work is pushed: started mailboxes whose next step is due first (longest-due
//! first), then new ones as admission allows ([`NewWork`]). Each item is first marked Queued
//! in the store, then pushed; a push that fails is undone (Queued → Pending). The window
//! bounds both one batch's jobs in the queue (Queued + Running) and the total this process
//! knows of across batches.

use crate::admission::NewWork;
use crate::error::PipelineError;
use crate::item_change::change;
use crate::job::ItemJob;
use crate::next_step::Ready;
use crate::queue::Queue;
use activator_core::ItemState;
use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;
use store::{BatchId, BatchStore, Item, Millis, Transition};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeederConfig {
    /// At most this many items of one batch Queued or Running.
    pub per_batch_window: u64,
    /// At most this many items Queued or Running over every batch this feeder feeds.
    pub total_window: u64,
    /// Items Queued or Running for longer than this are taken back to Pending by
    /// [`Feeder::reconcile_once`]. Must exceed the longest a handler can run.
    pub stale_after: Duration,
}

impl Default for FeederConfig {
    fn default() -> Self {
        FeederConfig { per_batch_window: 1_000, total_window: 4_000, stale_after: Duration::from_secs(120) }
    }
}

/// What one reconciliation took back.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reconciled {
    pub queued_to_pending: usize,
    pub running_to_pending: usize,
}

#[derive(Debug)]
pub struct Feeder {
    queue: Queue,
    config: FeederConfig,
    /// Queued + Running per batch, as last seen (plus what was pushed since).
    in_flight: Mutex<HashMap<BatchId, u64>>,
}

impl Feeder {
    pub fn new(queue: Queue, config: FeederConfig) -> Feeder {
        Feeder { queue, config, in_flight: Mutex::new(HashMap::new()) }
    }

    pub fn config(&self) -> &FeederConfig {
        &self.config
    }

    /// Pushes as many due items of `batch` as the window has room for, new ones included, as
    /// they are (no planning); returns how many.
    pub async fn feed_once<S: BatchStore>(
        &self,
        store: &S,
        batch: BatchId,
        now: Millis,
    ) -> Result<usize, PipelineError> {
        self.feed_planned(store, batch, now, NewWork::UpTo(u64::MAX), |items| async move {
            Ok(items
                .into_iter()
                .filter_map(|item| {
                    let step = item.step?;
                    let mailbox_id = item.mailbox_id;
                    Some(Ready { item, step, mailbox_id, user: None, role: None })
                })
                .collect())
        })
        .await
    }

    /// Takes as many due items of `batch` as the window has room for (started ones first, then
    /// what `new` allows to start), lets `plan` decide which of them must run (and at which
    /// step), and pushes those; returns how many.
    pub async fn feed_planned<S, P, Fut>(
        &self,
        store: &S,
        batch: BatchId,
        now: Millis,
        new: NewWork,
        plan: P,
    ) -> Result<usize, PipelineError>
    where
        S: BatchStore,
        P: FnOnce(Vec<Item>) -> Fut,
        Fut: Future<Output = Result<Vec<Ready>, PipelineError>>,
    {
        let room = self.room(store, batch).await?;
        if room == 0 {
            return Ok(0);
        }
        let room = usize::try_from(room).unwrap_or(usize::MAX);
        let mut due = store.due_items(batch, now, room).await?;
        let left = room.saturating_sub(due.len());
        match new {
            NewWork::Nothing => {}
            NewWork::UpTo(n) => {
                let n = usize::try_from(n).unwrap_or(usize::MAX).min(left);
                if n > 0 {
                    due.extend(store.fresh_items(batch, n).await?);
                }
            }
            NewWork::Items(indexes) => {
                for index in indexes.into_iter().take(left) {
                    if let Some(item) = store.item(batch, index).await?
                        && !item.started
                        && item.state == ItemState::Pending
                    {
                        due.push(item);
                    }
                }
            }
        }
        if due.is_empty() {
            return Ok(0);
        }
        let ready = plan(due).await?;
        let mut queued = Vec::with_capacity(ready.len());
        let mut jobs = Vec::with_capacity(ready.len());
        for r in ready {
            let Some(item) = self.mark_queued(store, &r, now).await? else {
                continue; // changed under us; the store decides
            };
            jobs.push(ItemJob { batch, index: r.item.index, step: r.step, user: r.user, role: r.role });
            queued.push(item);
        }
        let pushed = jobs.len();
        // One bulk push: a thousand single pushes take about a second on SQLite.
        if let Err(e) = self.queue.push_all(jobs).await {
            // Some jobs may have gone in: their items are handed back to pending, so those jobs
            // find nothing to do, and the items are fed again.
            for item in &queued {
                store.transition(batch, change(item, ItemState::Queued, ItemState::Pending), now).await?;
            }
            return Err(e);
        }
        {
            let mut map = self.in_flight.lock().unwrap_or_else(|p| p.into_inner());
            *map.entry(batch).or_default() += pushed as u64;
        }
        Ok(pushed)
    }

    /// How many more jobs `batch` may have in the queue now: its own window, and its fair
    /// share of the total window among the batches this feeder feeds.
    async fn room<S: BatchStore>(&self, store: &S, batch: BatchId) -> Result<u64, PipelineError> {
        let progress = store.progress(batch).await?;
        let active = progress.count(ItemState::Queued) + progress.count(ItemState::Running);
        let (others, batches) = {
            let mut map = self.in_flight.lock().unwrap_or_else(|p| p.into_inner());
            map.insert(batch, active);
            let others = map.iter().filter(|(b, _)| **b != batch).map(|(_, n)| *n).sum::<u64>();
            (others, map.len() as u64)
        };
        let fair_share = (self.config.total_window / batches.max(1)).max(1);
        Ok(self
            .config
            .per_batch_window
            .min(fair_share)
            .saturating_sub(active)
            .min(self.config.total_window.saturating_sub(others + active)))
    }

    /// Forgets a batch (finished, cancelled): its items no longer count in the total window.
    pub fn forget(&self, batch: BatchId) {
        self.in_flight.lock().unwrap_or_else(|p| p.into_inner()).remove(&batch);
    }

    /// Pending (or Waiting, via Pending) → Queued at the planned step; the item as queued, or
    /// None when it was no longer as read.
    async fn mark_queued<S: BatchStore>(
        &self,
        store: &S,
        ready: &Ready,
        now: Millis,
    ) -> Result<Option<Item>, PipelineError> {
        let item = &ready.item;
        let mut from = item.state;
        if from == ItemState::Waiting {
            // The state machine has no Waiting → Queued.
            if !store
                .transition(item.batch, change(item, ItemState::Waiting, ItemState::Pending), now)
                .await?
            {
                return Ok(None);
            }
            from = ItemState::Pending;
        }
        if from != ItemState::Pending {
            return Ok(None);
        }
        let same_step = item.step == Some(ready.step);
        let t = Transition {
            step: Some(ready.step),
            attempts: if same_step { item.attempts } else { 0 },
            error: if same_step { item.error.clone() } else { None },
            mailbox_id: ready.mailbox_id,
            ..change(item, ItemState::Pending, ItemState::Queued)
        };
        if !store.transition(item.batch, t, now).await? {
            return Ok(None);
        }
        let queued = Item {
            state: ItemState::Queued,
            step: Some(ready.step),
            attempts: if same_step { item.attempts } else { 0 },
            error: if same_step { item.error.clone() } else { None },
            mailbox_id: ready.mailbox_id.or(item.mailbox_id),
            ..item.clone()
        };
        Ok(Some(queued))
    }

    /// Takes items Queued or Running for longer than `stale_after` back to Pending, so the next
    /// [`feed_once`](Self::feed_once) pushes them again (their job was lost, or their worker died).
    pub async fn reconcile_once<S: BatchStore>(
        &self,
        store: &S,
        batch: BatchId,
        now: Millis,
    ) -> Result<Reconciled, PipelineError> {
        self.prune_finished_jobs().await;
        let stale_ms = i64::try_from(self.config.stale_after.as_millis()).unwrap_or(i64::MAX);
        self.take_back(store, batch, now, stale_ms).await
    }

    /// Removes the queue's finished jobs (their outcome is in the store).
    pub async fn prune_finished_jobs(&self) {
        if let Err(e) = self.queue.prune_finished().await {
            tracing::warn!(error = %e, "could not prune finished jobs; trying again at the next reconciliation");
        }
    }

    /// Takes every Queued or Running item back to Pending, however recent: for a process that
    /// owns its store alone and starts again after a stop or a crash (nothing else can be
    /// running those items).
    pub async fn recover_all<S: BatchStore>(
        &self,
        store: &S,
        batch: BatchId,
        now: Millis,
    ) -> Result<Reconciled, PipelineError> {
        self.take_back(store, batch, now, -1).await
    }

    async fn take_back<S: BatchStore>(
        &self,
        store: &S,
        batch: BatchId,
        now: Millis,
        stale_ms: i64,
    ) -> Result<Reconciled, PipelineError> {
        let mut out = Reconciled::default();
        for state in [ItemState::Queued, ItemState::Running] {
            let mut after = None;
            loop {
                let page = store.items(batch, Some(state), after, 1_000).await?;
                let Some(last) = page.last() else { break };
                after = Some(last.index);
                for item in page.iter().filter(|i| now.saturating_sub(i.updated_at) > stale_ms) {
                    if store.transition(batch, change(item, state, ItemState::Pending), now).await? {
                        match state {
                            ItemState::Queued => out.queued_to_pending += 1,
                            _ => out.running_to_pending += 1,
                        }
                    }
                }
            }
        }
        if out != Reconciled::default() {
            tracing::info!(%batch, ?out, "reconciled stale items back to pending");
        }
        Ok(out)
    }
}
