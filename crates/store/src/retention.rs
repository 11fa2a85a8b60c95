//! How long a finished batch stays: a batch completed or cancelled before the cutoff is
//! deleted with its items, so a deployment that runs rollouts for years keeps only the recent
//! ones. Running and paused batches are never deleted, however old.

use crate::batch_store::{BatchStore, StoreResult};
use crate::model::{BatchId, Deletion, Millis};

/// Deletes every finished batch that last changed before `cutoff`; returns how many.
pub async fn delete_finished_before<S: BatchStore>(store: &S, cutoff: Millis) -> StoreResult<u64> {
    const PAGE: usize = 200;
    let mut expired: Vec<BatchId> = Vec::new();
    let mut before = None;
    loop {
        let page = store.list_batches(before, PAGE).await?;
        let Some(last) = page.last() else { break };
        before = Some(last.id);
        let full = page.len() == PAGE;
        expired.extend(page.iter().filter(|b| b.state.is_final() && b.updated_at < cutoff).map(|b| b.id));
        if !full {
            break;
        }
    }
    let mut deleted = 0;
    for id in expired {
        // Another process may have deleted it, or a retry reopened it, since the listing.
        if store.delete_batch(id).await? == Deletion::Deleted {
            deleted += 1;
        }
    }
    Ok(deleted)
}
