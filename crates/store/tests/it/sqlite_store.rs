//! The SQLite store: the shared conformance suite (in memory and on a file), reopening a file,
//! concurrent writers, and a batch of 20,000 items.

use crate::conformance::{NOW, move_item, new_batch};
use activator_core::{BatchState, ItemState, Step};
use std::sync::Arc;
use std::time::Duration;
use store::{Batch, BatchStore, ItemError, SqliteStore, StoreError, Transition};
use testkit::TempDb;
use uuid::Uuid;

mod in_memory {
    conformance_suite!(open: (store::SqliteStore::in_memory().await.unwrap(), ()), close: |_store| ());
}

mod file {
    conformance_suite!(
        open: {
            let db = testkit::TempDb::new("conformance");
            (store::SqliteStore::open(&db.0).await.unwrap(), db)
        },
        close: |store| store.close().await,
    );
}

fn queue(index: u32) -> Transition {
    move_item(index, ItemState::Pending, Some(Step::Approve), ItemState::Queued)
}

#[tokio::test]
async fn a_reopened_file_has_everything_it_had() {
    let db = TempDb::new("reopen");
    let store = SqliteStore::open(&db.0).await.unwrap();
    let (batch, _) = store.create_batch(new_batch(10, Some("reopen-key")), NOW).await.unwrap();
    let failed = Transition {
        attempts: 3,
        error: Some(ItemError { code: "E1".into(), message: "no mailbox".into(), remedy: None }),
        mailbox_id: Some(Uuid::from_u128(7)),
        ..move_item(4, ItemState::Pending, Some(Step::Approve), ItemState::Failed)
    };
    assert!(store.transition(batch.id, failed, NOW + 1).await.unwrap());
    assert!(store.set_batch_state(batch.id, BatchState::Running, BatchState::Paused, NOW + 2).await.unwrap());
    assert!(store.acquire_lease(batch.id, "holder", Duration::from_secs(60), NOW).await.unwrap());
    let item = store.item(batch.id, 4).await.unwrap().unwrap();
    let progress = store.progress(batch.id).await.unwrap();
    store.close().await;
    drop(store);

    let store = SqliteStore::open(&db.0).await.unwrap();
    let reopened = store.batch(batch.id).await.unwrap().unwrap();
    assert_eq!(reopened, Batch { state: BatchState::Paused, updated_at: NOW + 2, ..batch.clone() });
    assert_eq!(store.item(batch.id, 4).await.unwrap().unwrap(), item);
    assert_eq!(store.progress(batch.id).await.unwrap(), progress);
    assert_eq!(progress.count(ItemState::Failed), 1);
    assert_eq!(store.items(batch.id, None, None, 100).await.unwrap().len(), 10);
    let (again, created) = store.create_batch(new_batch(1, Some("reopen-key")), NOW + 3).await.unwrap();
    assert_eq!((again.id, created), (batch.id, false));
    assert!(!store.acquire_lease(batch.id, "other", Duration::from_secs(60), NOW + 1).await.unwrap());
    store.close().await;
}

/// Applies one transition from 50 tasks at once; returns how many said it applied.
async fn race_one_transition<S: BatchStore + Clone>(store: &S, id: Uuid) -> usize {
    let barrier = Arc::new(tokio::sync::Barrier::new(50));
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let (store, barrier) = (store.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                store.transition(id, queue(7), NOW + 1).await.unwrap()
            })
        })
        .collect();
    let mut applied = 0;
    for task in tasks {
        applied += usize::from(task.await.unwrap());
    }
    applied
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_fifty_concurrent_copies_of_a_transition_one_applies() {
    let db = TempDb::new("race");
    let file = SqliteStore::open(&db.0).await.unwrap();
    let memory = SqliteStore::in_memory().await.unwrap();
    for store in [&file, &memory] {
        let (b, _) = store.create_batch(new_batch(20, None), NOW).await.unwrap();
        assert_eq!(race_one_transition(store, b.id).await, 1);
        let p = store.progress(b.id).await.unwrap();
        assert_eq!((p.count(ItemState::Pending), p.count(ItemState::Queued)), (19, 1));
        assert_eq!(p.by_step[&Step::Approve][&ItemState::Queued], 1);
    }
    file.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_stores_on_one_file_share_the_data_and_its_write_lock() {
    let db = TempDb::new("two-pools");
    let a = SqliteStore::open(&db.0).await.unwrap();
    let b = SqliteStore::open(&db.0).await.unwrap();
    let (batch, _) = a.create_batch(new_batch(100, None), NOW).await.unwrap();
    let tasks: Vec<_> = (0..40u32)
        .map(|i| {
            let store = if i % 2 == 0 { a.clone() } else { b.clone() };
            // Every item is moved by two tasks, one through each store.
            tokio::spawn(async move { store.transition(batch.id, queue(i / 2), NOW + 1).await.unwrap() })
        })
        .collect();
    let mut applied = 0;
    for task in tasks {
        applied += u32::from(task.await.unwrap());
    }
    assert_eq!(applied, 20);
    let p = b.progress(batch.id).await.unwrap();
    assert_eq!((p.count(ItemState::Pending), p.count(ItemState::Queued)), (80, 20));
    a.close().await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creates_with_one_key_make_one_batch() {
    let db = TempDb::new("create-race");
    let store = SqliteStore::open(&db.0).await.unwrap();
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.create_batch(new_batch(500, Some("same")), NOW).await.unwrap() })
        })
        .collect();
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    assert_eq!(results.iter().filter(|(_, created)| *created).count(), 1);
    assert!(results.iter().all(|(b, _)| b.id == results[0].0.id));
    assert_eq!(store.list_batches(None, 100).await.unwrap().len(), 1);
    assert_eq!(store.progress(results[0].0.id).await.unwrap().count(ItemState::Pending), 500);
    store.close().await;
}

#[tokio::test]
async fn due_items_come_longest_due_first_pending_ones_since_they_became_pending() {
    let store = SqliteStore::in_memory().await.unwrap();
    let (b, _) = store.create_batch(new_batch(8, None), NOW).await.unwrap();
    // Items 1, 3 and 5 wait, due at different times; 6 is running; 2 ran and became pending
    // again at NOW + 15 (as after a step); 0, 4 and 7 started and are pending since NOW.
    for index in [0, 4, 7] {
        crate::conformance::start_pending(&store, b.id, index, NOW).await;
    }
    for (index, due) in [(1, NOW - 30), (3, NOW + 10), (5, NOW + 20), (6, 0), (2, 0)] {
        crate::conformance::start_running(&store, b.id, index).await;
        if due != 0 {
            let wait = Transition {
                due_at: Some(due),
                ..move_item(index, ItemState::Running, Some(Step::Approve), ItemState::Waiting)
            };
            assert!(store.transition(b.id, wait, NOW).await.unwrap());
        }
    }
    let again = move_item(2, ItemState::Running, Some(Step::Approve), ItemState::Pending);
    assert!(store.transition(b.id, again, NOW + 15).await.unwrap());
    let indexes = |items: Vec<store::Item>| items.iter().map(|i| i.index).collect::<Vec<_>>();
    assert_eq!(
        indexes(store.due_items(b.id, NOW + 25, 100).await.unwrap()),
        vec![1, 0, 4, 7, 3, 2, 5],
        "due since NOW - 30, NOW (three), NOW + 10, NOW + 15, NOW + 20"
    );
    assert_eq!(indexes(store.due_items(b.id, NOW + 25, 3).await.unwrap()), vec![1, 0, 4]);
    assert_eq!(indexes(store.due_items(b.id, NOW, 100).await.unwrap()), vec![1, 0, 4, 7, 2]);
    assert!(store.due_items(b.id, NOW, 0).await.unwrap().is_empty());
}

#[tokio::test]
async fn unknown_batches_and_cursors_are_errors() {
    let store = SqliteStore::in_memory().await.unwrap();
    let unknown = Uuid::from_u128(12345);
    let not_found =
        |r: Result<_, StoreError>| matches!(r, Err(StoreError::BatchNotFound(id)) if id == unknown);
    assert!(not_found(store.progress(unknown).await.map(|_| ())));
    assert!(not_found(store.items(unknown, None, None, 10).await.map(|_| ())));
    assert!(not_found(store.items(unknown, Some(ItemState::Done), None, 10).await.map(|_| ())));
    assert!(not_found(store.due_items(unknown, NOW, 10).await.map(|_| ())));
    assert!(not_found(store.transition(unknown, queue(0), NOW).await.map(|_| ())));
    assert!(not_found(
        store.set_batch_state(unknown, BatchState::Running, BatchState::Paused, NOW).await.map(|_| ())
    ));
    assert!(store.item(unknown, 0).await.unwrap().is_none());
    assert!(matches!(store.list_batches(Some(unknown), 10).await, Err(StoreError::Invalid(_))));
    assert!(matches!(
        store.set_batch_state(unknown, BatchState::Cancelled, BatchState::Running, NOW).await,
        Err(StoreError::Invalid(_))
    ));

    // A known batch: an index it does not have, and empty pages, are no errors.
    let (b, _) = store.create_batch(new_batch(3, None), NOW).await.unwrap();
    assert!(!store.transition(b.id, queue(3), NOW).await.unwrap());
    assert!(store.items(b.id, Some(ItemState::Failed), None, 10).await.unwrap().is_empty());
    assert!(store.items(b.id, None, Some(2), 10).await.unwrap().is_empty());
    assert!(store.due_items(b.id, NOW, 0).await.unwrap().is_empty());
    assert!(store.list_batches(Some(b.id), 10).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_batch_without_steps_has_items_without_a_step() {
    let store = SqliteStore::in_memory().await.unwrap();
    let new = store::NewBatch { steps: vec![], ..new_batch(4, None) };
    let (b, created) = store.create_batch(new, NOW).await.unwrap();
    assert!(created && b.steps.is_empty());
    assert_eq!(store.item(b.id, 0).await.unwrap().unwrap().step, None);
    let done = move_item(0, ItemState::Pending, None, ItemState::Done);
    assert!(store.transition(b.id, done, NOW).await.unwrap());
    let p = store.progress(b.id).await.unwrap();
    assert!(p.by_step.is_empty());
    assert_eq!((p.total, p.count(ItemState::Pending), p.count(ItemState::Done)), (4, 3, 1));
}

#[tokio::test]
async fn progress_lists_no_zero_counts_and_steps_are_ordered_by_rollout() {
    let store = SqliteStore::in_memory().await.unwrap();
    let new = store::NewBatch { steps: vec![Step::DeployApp, Step::AssignRole], ..new_batch(2, None) };
    let (b, _) = store.create_batch(new, NOW).await.unwrap();
    assert_eq!(store.item(b.id, 1).await.unwrap().unwrap().step, Some(Step::AssignRole));
    let t = move_item(0, ItemState::Pending, Some(Step::AssignRole), ItemState::Queued);
    assert!(store.transition(b.id, t, NOW).await.unwrap());
    let back = move_item(0, ItemState::Queued, Some(Step::AssignRole), ItemState::Pending);
    assert!(store.transition(b.id, Transition { step: Some(Step::DeployApp), ..back }, NOW).await.unwrap());
    let p = store.progress(b.id).await.unwrap();
    assert_eq!(p.by_state.len(), 1, "{p:?}");
    assert_eq!(p.by_step[&Step::AssignRole].len(), 1, "{p:?}");
    assert_eq!(p.by_step[&Step::DeployApp][&ItemState::Pending], 1);
}

#[tokio::test]
async fn a_lease_expires_by_the_clock_it_is_given() {
    let store = SqliteStore::in_memory().await.unwrap();
    let (b, _) = store.create_batch(new_batch(1, None), NOW).await.unwrap();
    let ttl = Duration::from_secs(30);
    assert!(store.acquire_lease(b.id, "a", ttl, NOW).await.unwrap());
    assert!(!store.acquire_lease(b.id, "b", ttl, NOW + 29_999).await.unwrap());
    assert!(store.acquire_lease(b.id, "b", ttl, NOW + 30_000).await.unwrap(), "expired at its expiry time");
    assert!(
        !store.acquire_lease(b.id, "a", ttl, NOW + 30_001).await.unwrap(),
        "b's lease runs from its own start"
    );
    assert!(!store.release_lease(b.id, "a").await.unwrap());
    assert!(store.release_lease(b.id, "b").await.unwrap());
    assert!(!store.release_lease(b.id, "b").await.unwrap(), "released once");
    // Leases of different batches are independent.
    let (other, _) = store.create_batch(new_batch(1, None), NOW).await.unwrap();
    assert!(store.acquire_lease(b.id, "a", ttl, NOW).await.unwrap());
    assert!(store.acquire_lease(other.id, "b", ttl, NOW).await.unwrap());
}

/// 20,000 items: exact counters, and `due_items` pages in the documented order, each page
/// following on where the one handed over before it ended. (Timing-free; about 3,000
/// transitions, so it stays quick in a debug build.)
#[tokio::test]
async fn a_batch_of_20000_items_counts_exactly_and_pages_its_due_items() {
    const N: u32 = 20_000;
    const PAGE: usize = 1_000;
    let store = SqliteStore::in_memory().await.unwrap();
    let (b, _) = store.create_batch(new_batch(N as usize, None), NOW).await.unwrap();
    let p = store.progress(b.id).await.unwrap();
    assert_eq!((p.total, p.count(ItemState::Pending)), (u64::from(N), u64::from(N)));
    let last = store.item(b.id, N - 1).await.unwrap().unwrap();
    assert_eq!(last.mailbox, format!("user{}@contoso.example", N - 1));

    // Every 400th item waits: the even ones of them were due in the past (latest index
    // longest-due), the odd ones are due in the future.
    let waiting: Vec<u32> = (0..N).step_by(400).collect();
    for (n, &index) in waiting.iter().enumerate() {
        crate::conformance::start_running(&store, b.id, index).await;
        let due = if n % 2 == 0 { NOW - 1_000 - i64::from(index) } else { NOW + 1_000_000 };
        let wait = Transition {
            due_at: Some(due),
            ..move_item(index, ItemState::Running, Some(Step::Approve), ItemState::Waiting)
        };
        assert!(store.transition(b.id, wait, NOW).await.unwrap());
    }
    let past_due: Vec<u32> = waiting.iter().copied().step_by(2).rev().collect();
    let pending: Vec<u32> = (0..N).filter(|i| i % 400 != 0).collect();
    let p = store.progress(b.id).await.unwrap();
    assert_eq!(p.count(ItemState::Waiting), waiting.len() as u64);
    assert_eq!(p.count(ItemState::Pending), pending.len() as u64);

    // Work as a feeder takes it: the started due items first (the past-due waiting ones,
    // longest-due first), then items not started, by index; a smaller limit gives a prefix.
    let indexes = |items: &[store::Item]| items.iter().map(|i| i.index).collect::<Vec<_>>();
    let work = |at: i64, limit: usize| {
        let store = &store;
        async move {
            let mut page = store.due_items(b.id, at, limit).await.unwrap();
            page.extend(store.fresh_items(b.id, limit - page.len()).await.unwrap());
            page
        }
    };
    let all_due = work(NOW, N as usize).await;
    let expected: Vec<u32> = past_due.iter().chain(&pending).copied().collect();
    assert_eq!(indexes(&all_due), expected);
    let first = work(NOW, PAGE).await;
    assert_eq!(first[..], all_due[..PAGE]);

    // Hand three pages over as a dispatcher would (pending -> queued, past-due waiting ->
    // failed): each next page starts with the first item not handed over yet.
    let mut handed = 0;
    for _ in 0..3 {
        let page = work(NOW, PAGE).await;
        assert_eq!(indexes(&page), expected[handed..handed + PAGE]);
        for item in &page {
            let to = if item.state == ItemState::Waiting { ItemState::Failed } else { ItemState::Queued };
            assert!(
                store.transition(b.id, move_item(item.index, item.state, item.step, to), NOW).await.unwrap()
            );
        }
        handed += PAGE;
    }
    let rest = work(NOW, N as usize).await;
    assert_eq!(indexes(&rest), expected[handed..]);
    let later = work(NOW + 1_000_000, 100).await;
    assert_eq!(later.len(), 25 + 75, "the future-due waiting items once due, then pending ones");

    // The counters equal a recount of all 20,000 items, read page by page.
    let p = store.progress(b.id).await.unwrap();
    let mut recount = std::collections::BTreeMap::<ItemState, u64>::new();
    let mut after = None;
    loop {
        let page = store.items(b.id, None, after, 4_000).await.unwrap();
        let Some(last) = page.last() else { break };
        after = Some(last.index);
        for item in &page {
            *recount.entry(item.state).or_default() += 1;
        }
    }
    assert_eq!(p.by_state, recount);
    assert_eq!(p.count(ItemState::Failed), 25);
    assert_eq!(p.count(ItemState::Queued), (3 * PAGE - 25) as u64);
    assert_eq!(p.count(ItemState::Waiting), 25);
    assert_eq!(p.by_step[&Step::Approve].values().sum::<u64>(), u64::from(N));
    let queued = store.items(b.id, Some(ItemState::Queued), Some(1_000), 10_000).await.unwrap();
    assert_eq!(queued.first().map(|i| i.index), Some(1_001));
    assert!(queued.iter().all(|i| i.state == ItemState::Queued && i.index > 1_000));
}
