//! The conductor of one batch, under the batch's lease (one conductor per batch across every
//! process): checks the organization prerequisite, then every tick lets the canary run and
//! judges it, watches the circuit breaker, plans and feeds due work into the queue within the
//! window (new mailboxes as admission allows), sweeps the mailboxes under verification,
//! reconciles items whose job vanished, applies pause and cancel, and finishes the batch.

use crate::admission::{AdmissionSettings, NewWork, canary_indexes, room_for_new};
use crate::dataverse_ops::DataverseOps;
use crate::error::PipelineError;
use crate::feeder::Feeder;
use crate::item_change::keep;
use crate::next_step::decide_next_steps;
use crate::remedy;
use crate::retry_policy::RetryPolicy;
use crate::safety::{self, CanaryVerdict};
use crate::sweep::{next_sweep_in, sweep};
use activator_core::{BatchOptions, PauseReason, PausedBy, Progress, Step};
use activator_core::{BatchState, ItemState};
use dataverse::EmailProcessing;
use metrics::Metrics;
use std::sync::Arc;
use std::time::Duration;
use store::clock::{after, now};
use store::{Batch, BatchId, BatchStore, Millis, Transition};
use tokio::sync::watch;
use tokio::task::JoinHandle;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConductorSettings {
    /// How often the conductor feeds, and so how soon pause, resume and cancel take effect.
    pub tick: Duration,
    /// The lease's length; renewed every tick, so another process takes over this long after
    /// this one dies.
    pub lease_ttl: Duration,
    /// How often items whose job vanished are looked for.
    pub reconcile_every: Duration,
    pub retry: RetryPolicy,
    pub admission: AdmissionSettings,
    /// Return as soon as the batch pauses itself (`activator run`, which no one can resume
    /// from outside), instead of waiting for a resume.
    pub stop_when_paused_itself: bool,
}

impl Default for ConductorSettings {
    fn default() -> Self {
        ConductorSettings {
            tick: Duration::from_millis(250),
            lease_ttl: Duration::from_secs(30),
            reconcile_every: Duration::from_secs(10),
            retry: RetryPolicy::default(),
            admission: AdmissionSettings::default(),
            stop_when_paused_itself: false,
        }
    }
}

/// How conducting a batch ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conducted {
    /// The batch reached a final state (completed or cancelled).
    Finished(BatchState),
    /// Another process holds the batch's lease.
    HeldElsewhere,
    /// The batch paused itself (with [`ConductorSettings::stop_when_paused_itself`]).
    PausedItself(PauseReason),
    /// Asked to stop; the batch goes on when a conductor takes it up again.
    Stopped,
}

/// The verification sweep under way, if any; stopped when the conductor stops.
struct Sweeping(Option<JoinHandle<Result<crate::sweep::Swept, PipelineError>>>);

impl Drop for Sweeping {
    fn drop(&mut self) {
        if let Some(task) = self.0.take() {
            // Its transitions are checked, so stopping it part-way loses nothing.
            task.abort();
        }
    }
}

#[derive(Debug)]
pub struct Conductor<S, D> {
    pub store: Arc<S>,
    pub dataverse: Arc<D>,
    pub feeder: Arc<Feeder>,
    pub settings: ConductorSettings,
    pub metrics: Arc<Metrics>,
    /// Who holds the lease (the worker name).
    pub holder: String,
}

impl<S: BatchStore, D: DataverseOps> Conductor<S, D> {
    /// Conducts `id` until it is finished, another process holds it, or `stop` turns true.
    pub async fn conduct(
        &self,
        id: BatchId,
        mut stop: watch::Receiver<bool>,
    ) -> Result<Conducted, PipelineError> {
        let store = &*self.store;
        if !store.acquire_lease(id, &self.holder, self.settings.lease_ttl, now()).await? {
            return Ok(Conducted::HeldElsewhere);
        }
        let result = self.run(id, &mut stop).await;
        self.feeder.forget(id);
        if let Err(e) = store.release_lease(id, &self.holder).await {
            tracing::warn!(batch = %id, error = %e, "could not release the lease; it expires by itself");
        }
        result
    }

    async fn run(&self, id: BatchId, stop: &mut watch::Receiver<bool>) -> Result<Conducted, PipelineError> {
        let store = &*self.store;
        let mut prerequisite_checked = false;
        let mut next_sweep: Millis = 0;
        let mut sweeping = Sweeping(None);
        let mut next_reconcile: Millis = after(now(), self.settings.reconcile_every);
        loop {
            if *stop.borrow() {
                return Ok(Conducted::Stopped);
            }
            if !store.acquire_lease(id, &self.holder, self.settings.lease_ttl, now()).await? {
                return Ok(Conducted::HeldElsewhere);
            }
            let Some(batch) = store.batch(id).await? else {
                return Err(PipelineError::Options(format!("batch {id} does not exist")));
            };
            match batch.state {
                BatchState::Completed => return Ok(Conducted::Finished(BatchState::Completed)),
                BatchState::Cancelled => {
                    if self.cancel_remaining(&batch).await? {
                        return Ok(Conducted::Finished(BatchState::Cancelled));
                    }
                }
                BatchState::Paused => {
                    if let Some(reason) = &batch.paused_reason {
                        if reason.by == PausedBy::Prerequisite {
                            // Checked again when the batch is resumed.
                            prerequisite_checked = false;
                        }
                        if self.settings.stop_when_paused_itself {
                            return Ok(Conducted::PausedItself(reason.clone()));
                        }
                    }
                }
                BatchState::Running => {
                    if !prerequisite_checked {
                        match self.check_prerequisite(&batch).await {
                            Ok(None) => prerequisite_checked = true,
                            Ok(Some(reason)) => {
                                safety::pause(store, &batch, &reason, &self.metrics).await?;
                                continue;
                            }
                            Err(e) => {
                                tracing::warn!(batch = %id, error = %e, "could not check the organization; trying again")
                            }
                        }
                    }
                    if prerequisite_checked {
                        if let Err(e) =
                            self.work(&batch, &mut sweeping, &mut next_sweep, &mut next_reconcile).await
                        {
                            tracing::warn!(batch = %id, error = %e, "conductor round failed; trying again");
                        }
                        if self.finish_if_done(&batch).await? {
                            return Ok(Conducted::Finished(BatchState::Completed));
                        }
                    }
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(self.settings.tick) => {}
                _ = stop.changed() => {}
            }
        }
    }

    /// One round of a running batch: start a sweep when due (it runs beside feeding, so slow
    /// reads never hold the queue empty), reconcile when due, feed.
    async fn work(
        &self,
        batch: &Batch,
        sweeping: &mut Sweeping,
        next_sweep: &mut Millis,
        next_reconcile: &mut Millis,
    ) -> Result<(), PipelineError> {
        let store = &*self.store;
        let dataverse = &*self.dataverse;
        if let Some(task) = sweeping.0.take_if(|t| t.is_finished()) {
            let verifying_left = match task.await {
                Ok(Ok(swept)) => swept.verifying - swept.settled,
                Ok(Err(e)) => {
                    tracing::warn!(batch = %batch.id, error = %e, "verification sweep failed; trying again");
                    0
                }
                Err(e) => {
                    tracing::warn!(batch = %batch.id, error = %e, "verification sweep stopped; trying again");
                    0
                }
            };
            *next_sweep = after(now(), next_sweep_in(verifying_left));
        }
        let at = now();
        if sweeping.0.is_none() && at >= *next_sweep {
            let (store, dataverse, metrics) =
                (Arc::clone(&self.store), Arc::clone(&self.dataverse), Arc::clone(&self.metrics));
            let (retry, batch) = (self.settings.retry.clone(), batch.clone());
            sweeping.0 =
                Some(tokio::spawn(
                    async move { sweep(&*store, &*dataverse, &batch, &retry, &metrics).await },
                ));
        }
        if at >= *next_reconcile {
            self.feeder.reconcile_once(store, batch.id, at).await?;
            *next_reconcile = after(at, self.settings.reconcile_every);
        }
        let options = BatchOptions::from_json(&batch.options).map_err(PipelineError::Options)?;
        let progress = store.progress(batch.id).await?;
        let Some(new) = self.new_work(batch, &options, &progress).await? else {
            return Ok(()); // paused
        };
        for step in &batch.steps {
            if let Some(reason) = safety::check_breaker(store, batch, &options, *step).await? {
                safety::pause(store, batch, &reason, &self.metrics).await?;
                return Ok(());
            }
        }
        let at = now();
        let metrics = &*self.metrics;
        self.feeder
            .feed_planned(store, batch.id, at, new, |items| {
                decide_next_steps(store, dataverse, batch, items, at, metrics)
            })
            .await?;
        Ok(())
    }

    /// What may start besides the started work that is due: the canary's mailboxes while it
    /// runs, then new ones as admission leaves room. None when the canary failed and the
    /// batch paused.
    async fn new_work(
        &self,
        batch: &Batch,
        options: &BatchOptions,
        progress: &Progress,
    ) -> Result<Option<NewWork>, PipelineError> {
        let store = &*self.store;
        let canary_size = options.canary.size(batch.total);
        if !batch.canary_done && canary_size > 0 {
            let indexes = canary_indexes(batch.total, canary_size);
            let mut items = Vec::with_capacity(indexes.len());
            for index in &indexes {
                if let Some(item) = store.item(batch.id, *index).await? {
                    items.push(item);
                }
            }
            match safety::judge_canary(store, batch, options, &items).await? {
                CanaryVerdict::Running => {
                    let waiting = items.iter().filter(|i| !i.started).map(|i| i.index).collect();
                    return Ok(Some(NewWork::Items(waiting)));
                }
                CanaryVerdict::Failed(reason) => {
                    safety::pause(store, batch, &reason, &self.metrics).await?;
                    return Ok(None);
                }
                CanaryVerdict::Passed => {
                    store.set_canary_done(batch.id, now()).await?;
                    tracing::info!(batch = %batch.id, mailboxes = items.len(), "the canary passed");
                }
            }
        }
        let capacity = self.dataverse.capacity();
        let first = Step::first_of(&batch.steps);
        Ok(Some(NewWork::UpTo(room_for_new(progress, first, capacity, &self.settings.admission))))
    }

    /// Completes the batch when every item is final; true when it did.
    async fn finish_if_done(&self, batch: &Batch) -> Result<bool, PipelineError> {
        let progress = self.store.progress(batch.id).await?;
        if progress.finished() < progress.total {
            return Ok(false);
        }
        self.store.set_batch_state(batch.id, BatchState::Running, BatchState::Completed, now()).await?;
        tracing::info!(batch = %batch.id, "batch completed");
        // The queue keeps the batch's last jobs until the next reconciliation, which may be
        // another batch's, days later.
        self.feeder.prune_finished_jobs().await;
        Ok(true)
    }

    /// None when the organization processes email by server-side sync (setting it first with
    /// `configure_org`); otherwise why the batch must pause before anything is written.
    async fn check_prerequisite(&self, batch: &Batch) -> Result<Option<PauseReason>, PipelineError> {
        let options = BatchOptions::from_json(&batch.options).map_err(PipelineError::Options)?;
        let org = self.dataverse.organization().await?;
        let found = match self.dataverse.email_processing(org).await? {
            EmailProcessing::ServerSideSync => return Ok(None),
            EmailProcessing::EmailRouter => "the Email Router".to_string(),
            EmailProcessing::Other(v) => format!("an unknown setting ({v})"),
        };
        if options.configure_org {
            self.dataverse.use_server_side_sync(org).await?;
            tracing::info!(%org, "organization switched to server-side synchronization");
            return Ok(None);
        }
        let error = remedy::org_not_server_side_sync(&found);
        Ok(Some(PauseReason {
            by: PausedBy::Prerequisite,
            code: error.code,
            step: None,
            message: error.message,
            remedy: format!(
                "{}; then resume the batch (`activator resume BATCH`, or run the same `activator run` command \
                 again with --configure-org)",
                error.remedy.unwrap_or_default()
            ),
            failed: 0,
            of: batch.total,
        }))
    }

    /// Cancels what has not started; true once every item is final.
    async fn cancel_remaining(&self, batch: &Batch) -> Result<bool, PipelineError> {
        self.for_open_items(batch, |item| keep(item, ItemState::Cancelled)).await?;
        let progress = self.store.progress(batch.id).await?;
        if progress.finished() < progress.total {
            // Running items end by their handler (or the reconciler); cancelled next round.
            self.feeder.reconcile_once(&*self.store, batch.id, now()).await?;
            return Ok(false);
        }
        Ok(true)
    }

    /// Applies `to` to every pending, waiting, verifying and queued item (queued ones via
    /// pending when `to` is not allowed from queued).
    async fn for_open_items(
        &self,
        batch: &Batch,
        to: impl Fn(&store::Item) -> Transition,
    ) -> Result<(), PipelineError> {
        let store = &*self.store;
        for state in [ItemState::Queued, ItemState::Pending, ItemState::Waiting, ItemState::Verifying] {
            let mut after_index = None;
            loop {
                let page = store.items(batch.id, Some(state), after_index, 1_000).await?;
                let Some(last) = page.last() else { break };
                after_index = Some(last.index);
                for item in &page {
                    let mut t = to(item);
                    if !item.state.can_become(t.to) {
                        if !store.transition(batch.id, keep(item, ItemState::Pending), now()).await? {
                            continue;
                        }
                        t.from = ItemState::Pending;
                    }
                    store.transition(batch.id, t, now()).await?;
                }
            }
        }
        Ok(())
    }
}
