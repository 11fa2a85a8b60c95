//! The serving process deletes finished batches once they are older than the retention time,
//! so a deployment that runs rollouts for years does not fill its store (Redis above all).
//! Several API processes may do this side by side: deleting a batch twice finds it gone.

use std::sync::Arc;
use std::time::Duration;
use store::BatchStore;
use tokio::sync::watch;

/// How often the store is looked through.
pub const RETENTION_SWEEP_EVERY: Duration = Duration::from_secs(3600);

/// Until `stop` turns true: now, then every `every`, deletes the batches that finished more
/// than `keep` ago.
pub async fn delete_expired_batches<S: BatchStore>(
    store: Arc<S>,
    keep: Duration,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let keep_ms = i64::try_from(keep.as_millis()).unwrap_or(i64::MAX);
    loop {
        let cutoff = store::clock::now().saturating_sub(keep_ms);
        match store::retention::delete_finished_before(&*store, cutoff).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                deleted = n,
                keep_days = keep.as_secs() / 86_400,
                "deleted finished batches past their retention"
            ),
            Err(e) => {
                tracing::warn!(error = %e, "could not delete finished batches past their retention; trying again later")
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}
