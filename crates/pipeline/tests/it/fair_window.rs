//! The total window is shared fairly: a batch that arrives while another fills the window
//! gets its share as the first one's jobs finish, and neither ever exceeds its share after.

use crate::common::create_batch;
use activator_core::ItemState;
use pipeline::demo_handler::run_to_done;
use pipeline::{Feeder, FeederConfig, ItemJob, Queue, QueueConfig, QueueTuning};
use store::clock::now;
use store::{BatchId, BatchStore, SqliteStore};

async fn queued<S: BatchStore>(store: &S, batch: BatchId) -> Vec<store::Item> {
    store.items(batch, Some(ItemState::Queued), None, 10_000).await.unwrap()
}

#[tokio::test]
async fn two_batches_converge_to_equal_shares_of_the_total_window() {
    let dir = std::env::temp_dir().join(format!("pipeline-fair-{}", testkit::unique_prefix()));
    std::fs::create_dir_all(&dir).unwrap();
    let store = SqliteStore::open(&dir.join("state.db")).await.unwrap();
    let queue = Queue::open(&QueueConfig::Sqlite { path: dir.join("jobs.db") }, &QueueTuning::default())
        .await
        .unwrap();
    let feeder = Feeder::new(
        queue,
        FeederConfig { per_batch_window: 100, total_window: 100, ..FeederConfig::default() },
    );
    let a = create_batch(&store, 500).await;
    let b = create_batch(&store, 500).await;

    assert_eq!(feeder.feed_once(&store, a, now()).await.unwrap(), 100, "alone, a batch may fill the window");
    assert_eq!(feeder.feed_once(&store, b, now()).await.unwrap(), 0, "the window is full");
    // Sixty of the first batch's jobs finish (as a worker would run them).
    for item in queued(&store, a).await.into_iter().take(60) {
        let job = ItemJob { batch: a, index: item.index, step: item.step.unwrap(), user: None, role: None };
        assert!(run_to_done(&store, job).await);
    }
    assert_eq!(feeder.feed_once(&store, a, now()).await.unwrap(), 10, "a tops up to its half only");
    assert_eq!(feeder.feed_once(&store, b, now()).await.unwrap(), 50, "b gets its half");
    assert_eq!(feeder.feed_once(&store, a, now()).await.unwrap(), 0);
    assert_eq!(feeder.feed_once(&store, b, now()).await.unwrap(), 0);
    assert_eq!((queued(&store, a).await.len(), queued(&store, b).await.len()), (50, 50));
}
