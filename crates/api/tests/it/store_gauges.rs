//! The store gauges against a real SQLite store in a temporary file: batches with items put in
//! known states by store transitions, and the exact values `store_gauges::refresh` sets.

use activator_core::{BatchState, ItemState, Step};
use api::store_gauges::{self, QueueJobs};
use metrics::Metrics;
use std::time::Duration;
use store::{BatchId, BatchStore, Millis, SqliteStore, Transition};

const T0: Millis = 1_700_000_000_000;

/// A temporary directory, removed when dropped.
struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn store() -> (SqliteStore, TempDir) {
    let dir = std::env::temp_dir().join(format!("store-gauges-{}", testkit::unique_prefix()));
    std::fs::create_dir_all(&dir).unwrap();
    (SqliteStore::open(&dir.join("state.db")).await.unwrap(), TempDir(dir))
}

async fn create(store: &SqliteStore, n: usize, at: Millis) -> BatchId {
    let new = store::NewBatch {
        idempotency_key: None,
        environment: "test".into(),
        steps: vec![Step::Approve],
        options: serde_json::json!({}),
        mailboxes: (0..n).map(|i| format!("user{i}@example.com")).collect(),
    };
    store.create_batch(new, at).await.unwrap().0.id
}

/// Moves item `index` along `path` (from pending), at `at`; a waiting state is due at `due`.
async fn walk(store: &SqliteStore, batch: BatchId, index: u32, path: &[ItemState], due: Millis, at: Millis) {
    let mut from = ItemState::Pending;
    for to in path {
        let t = Transition {
            index,
            from,
            from_step: Some(Step::Approve),
            to: *to,
            step: Some(Step::Approve),
            attempts: 1,
            due_at: matches!(to, ItemState::Waiting | ItemState::Verifying).then_some(due),
            error: None,
            mailbox_id: None,
            outcome: None,
        };
        assert!(store.transition(batch, t, at).await.unwrap(), "{index}: {from} -> {to}");
        from = *to;
    }
}

fn gauge(metrics: &Metrics, batch: BatchId, state: ItemState) -> Option<i64> {
    let text = metrics.render();
    let exp = metrics::exposition::check(&text).unwrap();
    let family = exp.family("activator_batch_mailboxes")?;
    let id = batch.to_string();
    let labels = [("batch", id.as_str()), ("state", state.name())];
    family.matching(&labels).next().map(|s| s.value as i64)
}

fn jobs(metrics: &Metrics) -> QueueJobs {
    let get = |s: &str| u64::try_from(metrics.queue_jobs.with_label_values(&[s]).get()).unwrap();
    QueueJobs {
        waiting: get("waiting"),
        scheduled: get("scheduled"),
        running: get("running"),
        dead: get("dead"),
    }
}

#[tokio::test]
async fn queue_jobs_and_batch_mailboxes_count_items_by_state_over_active_batches() {
    let (store, _dir) = store().await;
    let metrics = Metrics::new();
    use ItemState::*;
    // Batch a, created at T0 with 10 items, changed at T0 + 10 s:
    // 0,1 pending (since T0); 2 queued; 3,4 running; 5 waiting due in the past (T0 + 5 s);
    // 6 waiting due later; 7 verifying; 8 failed; 9 done.
    let a = create(&store, 10, T0).await;
    let at = T0 + 10_000;
    let now = T0 + 20_000;
    walk(&store, a, 2, &[Queued], 0, at).await;
    walk(&store, a, 3, &[Queued, Running], 0, at).await;
    walk(&store, a, 4, &[Queued, Running], 0, at).await;
    walk(&store, a, 5, &[Queued, Running, Waiting], T0 + 5_000, at).await;
    walk(&store, a, 6, &[Queued, Running, Waiting], now + 60_000, at).await;
    walk(&store, a, 7, &[Queued, Running, Verifying], now + 60_000, at).await;
    walk(&store, a, 8, &[Queued, Running, Failed], 0, at).await;
    walk(&store, a, 9, &[Queued, Running, Done], 0, at).await;
    // Batch b, paused, created later: 3 pending, 1 failed.
    let b = create(&store, 4, T0 + 15_000).await;
    walk(&store, b, 0, &[Queued, Running, Failed], 0, T0 + 15_000).await;
    assert!(store.set_batch_state(b, BatchState::Running, BatchState::Paused, at).await.unwrap());
    // Batch c, completed: counts in nothing.
    let c = create(&store, 2, T0).await;
    walk(&store, c, 0, &[Queued, Running, Failed], 0, at).await;
    walk(&store, c, 1, &[Queued, Running, Done], 0, at).await;
    assert!(store.set_batch_state(c, BatchState::Running, BatchState::Completed, at).await.unwrap());

    let got = store_gauges::refresh(&store, &metrics, now).await.unwrap();
    // waiting: a's 2 pending + 1 queued + 1 waiting and due, b's 3 pending.
    let expected = QueueJobs { waiting: 7, scheduled: 1, running: 2, dead: 2 };
    assert_eq!(got.jobs, expected);
    assert_eq!(jobs(&metrics), expected);
    // The longest due: a's pending items, pending since T0 (the waiting one is due since T0 + 5 s).
    assert_eq!(got.oldest_waiting_age, Duration::from_secs(20));
    assert_eq!(metrics.queue_oldest_waiting_age_seconds.get(), 20.0);
    assert_eq!(got.batches.iter().map(|(id, _)| *id).collect::<Vec<_>>(), vec![b, a]);
    for (state, n) in [
        (Pending, 2),
        (Queued, 1),
        (Running, 2),
        (Waiting, 2),
        (Verifying, 1),
        (Done, 1),
        (Failed, 1),
        (Skipped, 0),
        (Cancelled, 0),
    ] {
        assert_eq!(gauge(&metrics, a, state), Some(n), "a {state}");
    }
    assert_eq!(gauge(&metrics, b, Pending), Some(3));
    assert_eq!(gauge(&metrics, b, Failed), Some(1));
    assert_eq!(gauge(&metrics, c, Done), None, "completed batches have no label sets");
}

#[tokio::test]
async fn the_label_sets_of_a_batch_go_when_it_completes_and_the_queue_gauges_drop_to_zero() {
    let (store, _dir) = store().await;
    let metrics = Metrics::new();
    let a = create(&store, 3, T0).await;
    store_gauges::refresh(&store, &metrics, T0 + 1_000).await.unwrap();
    assert_eq!(gauge(&metrics, a, ItemState::Pending), Some(3));
    assert_eq!(jobs(&metrics).waiting, 3);
    assert_eq!(metrics.queue_oldest_waiting_age_seconds.get(), 1.0);

    for i in 0..3 {
        walk(&store, a, i, &[ItemState::Queued, ItemState::Running, ItemState::Done], 0, T0 + 2_000).await;
    }
    assert!(store.set_batch_state(a, BatchState::Running, BatchState::Completed, T0 + 2_000).await.unwrap());
    let got = store_gauges::refresh(&store, &metrics, T0 + 3_000).await.unwrap();
    assert!(got.batches.is_empty());
    assert_eq!(jobs(&metrics), QueueJobs::default());
    assert_eq!(metrics.queue_oldest_waiting_age_seconds.get(), 0.0);
    for state in ItemState::ALL {
        assert_eq!(gauge(&metrics, a, state), None, "{state}");
    }
    assert!(!metrics.render().contains(&a.to_string()), "{}", metrics.render());
}

#[tokio::test]
async fn a_cancelled_batch_counts_while_items_are_open_and_queued_items_age_from_when_they_were_queued() {
    let (store, _dir) = store().await;
    let metrics = Metrics::new();
    let a = create(&store, 2, T0).await;
    walk(&store, a, 0, &[ItemState::Queued], 0, T0 + 4_000).await;
    walk(&store, a, 1, &[ItemState::Cancelled], 0, T0 + 4_000).await;
    assert!(store.set_batch_state(a, BatchState::Running, BatchState::Cancelled, T0 + 4_000).await.unwrap());
    let got = store_gauges::refresh(&store, &metrics, T0 + 10_000).await.unwrap();
    assert_eq!(got.jobs, QueueJobs { waiting: 1, ..QueueJobs::default() });
    assert_eq!(got.oldest_waiting_age, Duration::from_secs(6));
    assert_eq!(gauge(&metrics, a, ItemState::Cancelled), Some(1));

    let t = Transition {
        index: 0,
        from: ItemState::Queued,
        from_step: Some(Step::Approve),
        to: ItemState::Cancelled,
        step: Some(Step::Approve),
        attempts: 1,
        due_at: None,
        error: None,
        mailbox_id: None,
        outcome: None,
    };
    assert!(store.transition(a, t, T0 + 11_000).await.unwrap());
    let got = store_gauges::refresh(&store, &metrics, T0 + 12_000).await.unwrap();
    assert_eq!(got, store_gauges::StoreGauges::default());
    assert_eq!(gauge(&metrics, a, ItemState::Cancelled), None);
}
