//! Shared by the tests: creating a batch, and feeding it until every item is done.

use activator_core::Progress;
use activator_core::{ItemState, Step};
use pipeline::Feeder;
use pipeline::demo_handler::now;
use std::time::Duration;
use store::{BatchId, BatchStore, NewBatch};

pub async fn create_batch<S: BatchStore>(store: &S, n: usize) -> BatchId {
    let new = NewBatch {
        idempotency_key: None,
        environment: "test".to_string(),
        steps: vec![Step::Approve],
        options: serde_json::json!({}),
        mailboxes: (0..n).map(|i| format!("user{i}@example.com")).collect(),
    };
    let (batch, created) = store.create_batch(new, now()).await.unwrap();
    assert!(created);
    batch.id
}

/// Feeds `batch` until all `n` items are done, checking the window on every round; returns
/// the final progress.
pub async fn feed_until_done<S: BatchStore>(
    feeder: &Feeder,
    store: &S,
    batch: BatchId,
    n: u64,
    deadline: Duration,
) -> Progress {
    testkit::wait_for(&format!("all {n} items done"), deadline, || async {
        let p = store.progress(batch).await.unwrap();
        let active = p.count(ItemState::Queued) + p.count(ItemState::Running);
        assert!(active <= feeder.config().per_batch_window, "window exceeded: {p:?}");
        if p.count(ItemState::Done) == n {
            return Some(p);
        }
        feeder.reconcile_once(store, batch, now()).await.unwrap();
        feeder.feed_once(store, batch, now()).await.unwrap();
        None
    })
    .await
}

pub fn assert_only_done(p: &Progress, n: u64) {
    assert_eq!(p.total, n);
    assert_eq!(p.count(ItemState::Done), n, "{p:?}");
    for s in ItemState::ALL.into_iter().filter(|s| *s != ItemState::Done) {
        assert_eq!(p.count(s), 0, "{s}: {p:?}");
    }
}
