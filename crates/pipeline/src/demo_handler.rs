//! A stand-in for the real step runner, used by the example worker and the tests: it moves
//! the job's item Queued → Running → Done, each transition applied only if the item is as
//! expected, so a job delivered twice changes nothing the second time.

use crate::item_change::change;
use crate::job::ItemJob;
use activator_core::ItemState;
use std::time::Duration;

use store::BatchStore;
pub use store::clock::now;

/// Runs the job's (empty) step; true when this call moved the item to Done.
pub async fn run_to_done<S: BatchStore>(store: &S, job: ItemJob) -> bool {
    run_to_done_with(store, job, Duration::ZERO).await
}

/// As [`run_to_done`], with the step taking `work` (between Running and Done).
pub async fn run_to_done_with<S: BatchStore>(store: &S, job: ItemJob, work: Duration) -> bool {
    match try_run(store, job, work).await {
        Ok(applied) => applied,
        Err(e) => {
            // The item stays Queued or Running; the reconciler hands it back.
            tracing::warn!(batch = %job.batch, index = job.index, error = %e, "store error in handler");
            false
        }
    }
}

async fn try_run<S: BatchStore>(store: &S, job: ItemJob, work: Duration) -> Result<bool, store::StoreError> {
    let Some(item) = store.item(job.batch, job.index).await? else { return Ok(false) };
    if item.state != ItemState::Queued || item.step != Some(job.step) {
        return Ok(false); // run already, or taken back by the reconciler and queued again
    }
    if !store.transition(job.batch, change(&item, ItemState::Queued, ItemState::Running), now()).await? {
        return Ok(false);
    }
    if !work.is_zero() {
        tokio::time::sleep(work).await;
    }
    let running = store::Item { state: ItemState::Running, ..item };
    store.transition(job.batch, change(&running, ItemState::Running, ItemState::Done), now()).await
}
