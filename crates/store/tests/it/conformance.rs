//! One suite of behaviours every `BatchStore` must show, and [`conformance_suite!`], which
//! runs every one of them against a fresh store. The list of behaviours is written once, in the
//! macro: a behaviour left off it is dead code, which the lints refuse.

use activator_core::Progress;
use activator_core::{BatchState, ItemState, PauseReason, PausedBy, Step};
use std::time::Duration;
use store::{
    BatchStore, Deletion, DueSummary, ItemError, NewBatch, OUTCOMES_KEPT, StepOutcome, StoreError, Transition,
};
use uuid::Uuid;

/// One `#[tokio::test]` per behaviour of the suite: each opens a store with `open` (an
/// expression giving the store and a guard kept until the end), runs the behaviour against it,
/// then evaluates `close` with the store bound to the name given.
macro_rules! conformance_suite {
    (open: $open:expr, close: |$store:ident| $close:expr $(,)?) => {
        conformance_suite!(@each [$open] [$store] [$close]
            create_makes_pending_items_at_the_first_step,
            create_is_idempotent_on_its_key,
            an_empty_batch_is_refused,
            a_transition_applies_once,
            a_transition_checks_the_step_as_well,
            a_forbidden_transition_is_refused,
            waiting_needs_a_due_time,
            a_transition_replaces_step_attempts_due_and_error,
            due_items_are_started_pending_ones_and_waiting_ones_past_due,
            items_not_started_come_in_index_order_until_their_first_transition,
            a_batch_pauses_itself_with_a_reason_that_resuming_clears,
            step_outcomes_are_kept_newest_first_for_each_step,
            due_summary_counts_due_items_and_the_longest_due,
            items_page_in_index_order_and_filter_by_state,
            batches_are_listed_newest_first_in_pages,
            batch_state_changes_are_compare_and_set,
            a_lease_has_one_holder_until_it_expires,
            unknown_batches_are_reported,
            counters_match_the_items_after_many_transitions,
            only_a_finished_batch_is_deleted_with_its_items_and_idempotency_key,
            retention_deletes_finished_batches_that_ended_before_the_cutoff,
        );
    };
    (@each [$open:expr] [$store:ident] [$close:expr] $($name:ident,)*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let ($store, _guard) = $open;
                crate::conformance::$name(&$store).await;
                let () = $close;
            }
        )*
    };
}

pub const NOW: i64 = 1_800_000_000_000;

pub fn new_batch(n: usize, key: Option<&str>) -> NewBatch {
    NewBatch {
        idempotency_key: key.map(str::to_string),
        environment: "default".into(),
        steps: vec![Step::Approve, Step::TestAndEnable],
        options: serde_json::json!({"configure_org": false}),
        mailboxes: (0..n).map(|i| format!("user{i}@contoso.example")).collect(),
    }
}

/// A transition from the item's current state and step.
pub fn move_item(index: u32, from: ItemState, step: Option<Step>, to: ItemState) -> Transition {
    Transition {
        index,
        from,
        from_step: step,
        to,
        step,
        attempts: 0,
        due_at: None,
        error: None,
        mailbox_id: None,
        outcome: None,
    }
}

/// Takes a pending item at the first step through queued to running.
pub async fn start_running<S: BatchStore>(store: &S, batch: Uuid, index: u32) {
    for (from, to) in [(ItemState::Pending, ItemState::Queued), (ItemState::Queued, ItemState::Running)] {
        let t = move_item(index, from, Some(Step::Approve), to);
        assert!(store.transition(batch, t, NOW).await.unwrap(), "item {index}: {from} -> {to}");
    }
}

/// Starts a pending item without running it (queued, then handed back at `at`): pending and
/// due since `at`.
pub async fn start_pending<S: BatchStore>(store: &S, batch: Uuid, index: u32, at: i64) {
    for (from, to) in [(ItemState::Pending, ItemState::Queued), (ItemState::Queued, ItemState::Pending)] {
        let t = move_item(index, from, Some(Step::Approve), to);
        assert!(store.transition(batch, t, at).await.unwrap(), "item {index}: {from} -> {to}");
    }
}

/// Counts recomputed from the items themselves.
async fn recount<S: BatchStore>(store: &S, id: Uuid) -> Progress {
    let mut p = Progress::default();
    let mut after = None;
    loop {
        let page = store.items(id, None, after, 500).await.unwrap();
        let Some(last) = page.last() else { break };
        after = Some(last.index);
        for item in &page {
            p.total += 1;
            p.not_started += u64::from(!item.started);
            *p.by_state.entry(item.state).or_default() += 1;
            if let Some(step) = item.step {
                *p.by_step.entry(step).or_default().entry(item.state).or_default() += 1;
            }
        }
    }
    p
}

fn without_zeros(mut p: Progress) -> Progress {
    p.by_state.retain(|_, n| *n > 0);
    for states in p.by_step.values_mut() {
        states.retain(|_, n| *n > 0);
    }
    p.by_step.retain(|_, s| !s.is_empty());
    p
}

pub async fn create_makes_pending_items_at_the_first_step<S: BatchStore>(store: &S) {
    let (batch, created) = store.create_batch(new_batch(25, None), NOW).await.unwrap();
    assert!(created);
    assert_eq!((batch.total, batch.state), (25, BatchState::Running));
    assert_eq!(store.batch(batch.id).await.unwrap().unwrap(), batch);
    let item = store.item(batch.id, 24).await.unwrap().unwrap();
    assert_eq!((item.state, item.step, item.attempts), (ItemState::Pending, Some(Step::Approve), 0));
    assert_eq!(item.mailbox, "user24@contoso.example");
    assert!(store.item(batch.id, 25).await.unwrap().is_none());
    let p = store.progress(batch.id).await.unwrap();
    assert_eq!(p.total, 25);
    assert_eq!(p.count(ItemState::Pending), 25);
    assert_eq!(p.by_step[&Step::Approve][&ItemState::Pending], 25);
    assert_eq!((p.not_started, p.open()), (25, 0), "nothing started yet");
    assert!(!item.started && batch.paused_reason.is_none() && !batch.canary_done);
}

pub async fn create_is_idempotent_on_its_key<S: BatchStore>(store: &S) {
    let (first, created) = store.create_batch(new_batch(3, Some("k-1")), NOW).await.unwrap();
    assert!(created);
    let (again, created) = store.create_batch(new_batch(9, Some("k-1")), NOW + 5).await.unwrap();
    assert!(!created);
    assert_eq!(again.id, first.id);
    assert_eq!(again.total, 3);
    let (other, created) = store.create_batch(new_batch(3, Some("k-2")), NOW).await.unwrap();
    assert!(created);
    assert_ne!(other.id, first.id);
}

pub async fn an_empty_batch_is_refused<S: BatchStore>(store: &S) {
    let err = store.create_batch(new_batch(0, None), NOW).await.unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
}

pub async fn a_transition_applies_once<S: BatchStore>(store: &S) {
    let (b, _) = store.create_batch(new_batch(5, None), NOW).await.unwrap();
    let t = move_item(2, ItemState::Pending, Some(Step::Approve), ItemState::Queued);
    assert!(store.transition(b.id, t.clone(), NOW + 1).await.unwrap());
    assert!(!store.transition(b.id, t, NOW + 2).await.unwrap(), "a second application changes nothing");
    let p = store.progress(b.id).await.unwrap();
    assert_eq!((p.count(ItemState::Pending), p.count(ItemState::Queued)), (4, 1));
    assert_eq!(store.item(b.id, 2).await.unwrap().unwrap().updated_at, NOW + 1);
}

pub async fn a_transition_checks_the_step_as_well<S: BatchStore>(store: &S) {
    let (b, _) = store.create_batch(new_batch(2, None), NOW).await.unwrap();
    let wrong_step = move_item(0, ItemState::Pending, Some(Step::TestAndEnable), ItemState::Queued);
    assert!(!store.transition(b.id, wrong_step, NOW).await.unwrap());
    assert_eq!(store.progress(b.id).await.unwrap().count(ItemState::Queued), 0);
}

pub async fn a_forbidden_transition_is_refused<S: BatchStore>(store: &S) {
    let (b, _) = store.create_batch(new_batch(2, None), NOW).await.unwrap();
    let t = move_item(0, ItemState::Pending, Some(Step::Approve), ItemState::Running);
    assert!(matches!(store.transition(b.id, t, NOW).await, Err(StoreError::Invalid(_))));
}

pub async fn waiting_needs_a_due_time<S: BatchStore>(store: &S) {
    let (b, _) = store.create_batch(new_batch(1, None), NOW).await.unwrap();
    start_running(store, b.id, 0).await;
    let no_due = move_item(0, ItemState::Running, Some(Step::Approve), ItemState::Waiting);
    assert!(matches!(store.transition(b.id, no_due, NOW).await, Err(StoreError::Invalid(_))));
}

pub async fn a_transition_replaces_step_attempts_due_and_error<S: BatchStore>(store: &S) {
    let (b, _) = store.create_batch(new_batch(1, None), NOW).await.unwrap();
    let mailbox = Uuid::from_u128(42);
    let mut t = move_item(0, ItemState::Pending, Some(Step::Approve), ItemState::Queued);
    t.mailbox_id = Some(mailbox);
    assert!(store.transition(b.id, t, NOW).await.unwrap());
    assert!(
        store
            .transition(b.id, move_item(0, ItemState::Queued, Some(Step::Approve), ItemState::Running), NOW)
            .await
            .unwrap()
    );
    let waiting = Transition {
        step: Some(Step::TestAndEnable),
        attempts: 2,
        due_at: Some(NOW + 1000),
        error: Some(ItemError {
            code: "0x80040216".into(),
            message: "boom".into(),
            remedy: Some("wait".into()),
        }),
        ..move_item(0, ItemState::Running, Some(Step::Approve), ItemState::Waiting)
    };
    assert!(store.transition(b.id, waiting, NOW).await.unwrap());
    let item = store.item(b.id, 0).await.unwrap().unwrap();
    assert_eq!(item.mailbox_id, Some(mailbox), "kept when the transition gives none");
    assert_eq!((item.step, item.attempts, item.due_at), (Some(Step::TestAndEnable), 2, Some(NOW + 1000)));
    assert_eq!(item.error.unwrap().remedy.as_deref(), Some("wait"));
    let p = store.progress(b.id).await.unwrap();
    assert_eq!(p.by_step[&Step::TestAndEnable][&ItemState::Waiting], 1);
    assert_eq!(p.by_step.get(&Step::Approve).map_or(0, |s| s.values().sum::<u64>()), 0);
}

/// A batch of six at NOW: 0 waits until `first_due`, 1 until NOW + 1000, 2 is done, 3 is
/// running, 4 and 5 are pending.
async fn batch_with_due_work<S: BatchStore>(store: &S, first_due: i64) -> Uuid {
    let (b, _) = store.create_batch(new_batch(6, None), NOW).await.unwrap();
    for i in 0..4 {
        start_running(store, b.id, i).await;
    }
    let wait = |i: u32, due: i64| Transition {
        due_at: Some(due),
        ..move_item(i, ItemState::Running, Some(Step::Approve), ItemState::Waiting)
    };
    assert!(store.transition(b.id, wait(0, first_due), NOW).await.unwrap());
    assert!(store.transition(b.id, wait(1, NOW + 1000), NOW).await.unwrap());
    let done = move_item(2, ItemState::Running, Some(Step::Approve), ItemState::Done);
    assert!(store.transition(b.id, done, NOW).await.unwrap());
    b.id
}

pub async fn due_items_are_started_pending_ones_and_waiting_ones_past_due<S: BatchStore>(store: &S) {
    let b = batch_with_due_work(store, NOW + 10).await;
    let indexes = |items: Vec<store::Item>| items.iter().map(|i| i.index).collect::<Vec<_>>();
    // 0 waits and is due, 1 is not yet; 2 is done, 3 is running; 4 and 5 have not started.
    assert_eq!(indexes(store.due_items(b, NOW + 20, 100).await.unwrap()), vec![0]);
    assert_eq!(indexes(store.due_items(b, NOW + 2000, 100).await.unwrap()), vec![0, 1]);
    assert_eq!(store.due_items(b, NOW + 2000, 1).await.unwrap().len(), 1);
    // 5 is queued and handed back: started, so due from then on.
    let queued = move_item(5, ItemState::Pending, Some(Step::Approve), ItemState::Queued);
    assert!(store.transition(b, queued, NOW + 30).await.unwrap());
    let back = move_item(5, ItemState::Queued, Some(Step::Approve), ItemState::Pending);
    assert!(store.transition(b, back, NOW + 40).await.unwrap());
    assert_eq!(indexes(store.due_items(b, NOW + 50, 100).await.unwrap()), vec![0, 5]);
    assert_eq!(indexes(store.fresh_items(b, 100).await.unwrap()), vec![4]);
}

pub async fn items_not_started_come_in_index_order_until_their_first_transition<S: BatchStore>(store: &S) {
    let (b, _) = store.create_batch(new_batch(8, None), NOW).await.unwrap();
    let fresh = |items: Vec<store::Item>| items.iter().map(|i| (i.index, i.started)).collect::<Vec<_>>();
    assert_eq!(fresh(store.fresh_items(b.id, 3).await.unwrap()), vec![(0, false), (1, false), (2, false)]);
    for i in [1, 6] {
        let t = move_item(i, ItemState::Pending, Some(Step::Approve), ItemState::Queued);
        assert!(store.transition(b.id, t, NOW + 1).await.unwrap());
    }
    // A fresh item that ends without a job (found already done when planned) starts too.
    let skipped = move_item(3, ItemState::Pending, Some(Step::Approve), ItemState::Skipped);
    assert!(store.transition(b.id, skipped, NOW + 1).await.unwrap());
    let left: Vec<u32> = store.fresh_items(b.id, 100).await.unwrap().iter().map(|i| i.index).collect();
    assert_eq!(left, vec![0, 2, 4, 5, 7]);
    assert!(store.item(b.id, 1).await.unwrap().unwrap().started);
    let p = store.progress(b.id).await.unwrap();
    assert_eq!((p.not_started, p.open(), p.finished()), (5, 2, 1));
    // A transition that does not apply starts nothing.
    let stale = move_item(0, ItemState::Queued, Some(Step::Approve), ItemState::Running);
    assert!(!store.transition(b.id, stale, NOW + 2).await.unwrap());
    assert_eq!(store.progress(b.id).await.unwrap().not_started, 5);
    let unknown = store.fresh_items(Uuid::from_u128(77), 10).await;
    assert!(matches!(unknown, Err(StoreError::BatchNotFound(_))), "{unknown:?}");
}

pub async fn a_batch_pauses_itself_with_a_reason_that_resuming_clears<S: BatchStore>(store: &S) {
    let (b, _) = store.create_batch(new_batch(2, None), NOW).await.unwrap();
    let reason = PauseReason {
        by: PausedBy::Canary,
        code: "0x80040220".into(),
        step: Some(Step::Approve),
        message: "every approval of the canary was refused".into(),
        remedy: "have an Exchange admin approve".into(),
        failed: 10,
        of: 10,
    };
    let failed = Transition {
        outcome: Some(StepOutcome::failed(Step::Approve, "0x80040220")),
        ..move_item(0, ItemState::Pending, Some(Step::Approve), ItemState::Failed)
    };
    assert!(store.transition(b.id, failed, NOW).await.unwrap());
    assert!(store.pause_with_reason(b.id, &reason, NOW + 1).await.unwrap());
    let paused = store.batch(b.id).await.unwrap().unwrap();
    assert_eq!((paused.state, paused.paused_reason.as_ref()), (BatchState::Paused, Some(&reason)));
    assert!(!store.pause_with_reason(b.id, &reason, NOW + 2).await.unwrap(), "only a running batch pauses");
    assert_eq!(store.recent_outcomes(b.id, Step::Approve, 10).await.unwrap().len(), 1);
    assert!(store.set_batch_state(b.id, BatchState::Paused, BatchState::Running, NOW + 3).await.unwrap());
    assert_eq!(store.batch(b.id).await.unwrap().unwrap().paused_reason, None);
    assert!(
        store.recent_outcomes(b.id, Step::Approve, 10).await.unwrap().is_empty(),
        "a resumed batch starts its outcome windows afresh"
    );
    assert!(!store.batch(b.id).await.unwrap().unwrap().canary_done);
    store.set_canary_done(b.id, NOW + 4).await.unwrap();
    assert!(store.batch(b.id).await.unwrap().unwrap().canary_done);
    let unknown = store.set_canary_done(Uuid::from_u128(78), NOW).await;
    assert!(matches!(unknown, Err(StoreError::BatchNotFound(_))), "{unknown:?}");
}

pub async fn step_outcomes_are_kept_newest_first_for_each_step<S: BatchStore>(store: &S) {
    let n = u32::try_from(OUTCOMES_KEPT).unwrap() + 5;
    let (b, _) = store.create_batch(new_batch(n as usize, None), NOW).await.unwrap();
    for i in 0..n {
        let failure = (i % 3 == 0).then(|| format!("code-{i}"));
        let t = Transition {
            outcome: Some(StepOutcome { step: Step::Approve, failure }),
            ..move_item(i, ItemState::Pending, Some(Step::Approve), ItemState::Failed)
        };
        assert!(store.transition(b.id, t.clone(), NOW).await.unwrap());
        assert!(!store.transition(b.id, t, NOW).await.unwrap(), "a transition that does not apply adds none");
    }
    let recent = store.recent_outcomes(b.id, Step::Approve, 4).await.unwrap();
    let last = n - 1;
    let expected: Vec<Option<String>> =
        (0..4).map(|k| last - k).map(|i| (i % 3 == 0).then(|| format!("code-{i}"))).collect();
    assert_eq!(recent, expected);
    assert_eq!(store.recent_outcomes(b.id, Step::Approve, 1_000).await.unwrap().len(), OUTCOMES_KEPT);
    assert!(store.recent_outcomes(b.id, Step::DeployApp, 10).await.unwrap().is_empty());
}

pub async fn due_summary_counts_due_items_and_the_longest_due<S: BatchStore>(store: &S) {
    let b = batch_with_due_work(store, NOW - 50).await;
    // Waiting 0 (due since NOW - 50) and pending 4 and 5 (since NOW); 1 is not due yet.
    let summary = store.due_summary(b, NOW + 20).await.unwrap();
    assert_eq!(summary, DueSummary { due: 3, oldest_due_since: Some(NOW - 50) });
    assert_eq!(store.due_summary(b, NOW + 2000).await.unwrap().due, 4);
    // Back to pending later: due since then, behind 4 and 5.
    let back = move_item(0, ItemState::Waiting, Some(Step::Approve), ItemState::Pending);
    assert!(store.transition(b, back, NOW + 30).await.unwrap());
    let summary = store.due_summary(b, NOW + 40).await.unwrap();
    assert_eq!(summary, DueSummary { due: 3, oldest_due_since: Some(NOW) });
    for i in [0, 4, 5] {
        start_running(store, b, i).await;
    }
    assert_eq!(store.due_summary(b, NOW + 40).await.unwrap(), DueSummary::default());
    let unknown = store.due_summary(Uuid::from_u128(4242), NOW).await;
    assert!(matches!(unknown, Err(StoreError::BatchNotFound(_))), "{unknown:?}");
}

pub async fn items_page_in_index_order_and_filter_by_state<S: BatchStore>(store: &S) {
    let (b, _) = store.create_batch(new_batch(30, None), NOW).await.unwrap();
    for i in [3, 7, 20] {
        assert!(
            store
                .transition(
                    b.id,
                    move_item(i, ItemState::Pending, Some(Step::Approve), ItemState::Skipped),
                    NOW
                )
                .await
                .unwrap()
        );
    }
    let page1 = store.items(b.id, None, None, 10).await.unwrap();
    assert_eq!(page1.iter().map(|i| i.index).collect::<Vec<_>>(), (0..10).collect::<Vec<_>>());
    let page2 = store.items(b.id, None, Some(9), 10).await.unwrap();
    assert_eq!(page2[0].index, 10);
    let skipped: Vec<u32> = store
        .items(b.id, Some(ItemState::Skipped), None, 10)
        .await
        .unwrap()
        .iter()
        .map(|i| i.index)
        .collect();
    assert_eq!(skipped, vec![3, 7, 20]);
    let after: Vec<u32> = store
        .items(b.id, Some(ItemState::Skipped), Some(3), 1)
        .await
        .unwrap()
        .iter()
        .map(|i| i.index)
        .collect();
    assert_eq!(after, vec![7]);
}

pub async fn batches_are_listed_newest_first_in_pages<S: BatchStore>(store: &S) {
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(store.create_batch(new_batch(1, None), NOW + i).await.unwrap().0.id);
    }
    let first = store.list_batches(None, 2).await.unwrap();
    assert_eq!(first.iter().map(|b| b.id).collect::<Vec<_>>(), vec![ids[4], ids[3]]);
    let second = store.list_batches(Some(ids[3]), 2).await.unwrap();
    assert_eq!(second.iter().map(|b| b.id).collect::<Vec<_>>(), vec![ids[2], ids[1]]);
    let last = store.list_batches(Some(ids[1]), 10).await.unwrap();
    assert_eq!(last.iter().map(|b| b.id).collect::<Vec<_>>(), vec![ids[0]]);
}

pub async fn batch_state_changes_are_compare_and_set<S: BatchStore>(store: &S) {
    let (b, _) = store.create_batch(new_batch(1, None), NOW).await.unwrap();
    assert!(store.set_batch_state(b.id, BatchState::Running, BatchState::Paused, NOW + 1).await.unwrap());
    assert!(!store.set_batch_state(b.id, BatchState::Running, BatchState::Paused, NOW + 2).await.unwrap());
    let paused = store.batch(b.id).await.unwrap().unwrap();
    assert_eq!((paused.state, paused.updated_at), (BatchState::Paused, NOW + 1));
    assert!(matches!(
        store.set_batch_state(b.id, BatchState::Paused, BatchState::Completed, NOW).await,
        Err(StoreError::Invalid(_))
    ));
    assert!(store.set_batch_state(b.id, BatchState::Paused, BatchState::Cancelled, NOW).await.unwrap());
}

pub async fn a_lease_has_one_holder_until_it_expires<S: BatchStore>(store: &S) {
    let (b, _) = store.create_batch(new_batch(1, None), NOW).await.unwrap();
    let ttl = Duration::from_millis(300);
    assert!(store.acquire_lease(b.id, "worker-a", ttl, NOW).await.unwrap());
    assert!(!store.acquire_lease(b.id, "worker-b", ttl, NOW).await.unwrap());
    assert!(store.acquire_lease(b.id, "worker-a", ttl, NOW).await.unwrap(), "the holder renews");
    assert!(!store.release_lease(b.id, "worker-b").await.unwrap());
    assert!(store.release_lease(b.id, "worker-a").await.unwrap());
    assert!(store.acquire_lease(b.id, "worker-b", ttl, NOW).await.unwrap());
    // An expired lease passes to whoever asks (stores may use their own clock for expiry).
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(store.acquire_lease(b.id, "worker-c", ttl, NOW + 400).await.unwrap());
}

pub async fn only_a_finished_batch_is_deleted_with_its_items_and_idempotency_key<S: BatchStore>(store: &S) {
    let (kept, _) = store.create_batch(new_batch(2, None), NOW).await.unwrap();
    let (b, _) = store.create_batch(new_batch(3, Some("delete-me")), NOW).await.unwrap();
    assert_eq!(store.delete_batch(b.id).await.unwrap(), Deletion::NotFinished(BatchState::Running));
    assert!(store.batch(b.id).await.unwrap().is_some(), "a running batch is kept");
    assert!(store.set_batch_state(b.id, BatchState::Running, BatchState::Cancelled, NOW + 1).await.unwrap());
    assert_eq!(store.delete_batch(b.id).await.unwrap(), Deletion::Deleted);
    assert!(store.batch(b.id).await.unwrap().is_none());
    assert!(matches!(store.progress(b.id).await, Err(StoreError::BatchNotFound(_))));
    assert!(store.item(b.id, 0).await.unwrap().is_none(), "its items are gone");
    let listed: Vec<_> = store.list_batches(None, 10).await.unwrap().into_iter().map(|x| x.id).collect();
    assert_eq!(listed, vec![kept.id], "only the other batch is listed");
    assert_eq!(store.delete_batch(b.id).await.unwrap(), Deletion::NotFound);
    // The idempotency key is free again: the same key makes a new batch.
    let (again, created) = store.create_batch(new_batch(1, Some("delete-me")), NOW + 2).await.unwrap();
    assert!(created && again.id != b.id);
    assert_eq!(store.progress(kept.id).await.unwrap().total, 2, "the other batch is untouched");
}

pub async fn retention_deletes_finished_batches_that_ended_before_the_cutoff<S: BatchStore>(store: &S) {
    let (old, _) = store.create_batch(new_batch(1, None), NOW).await.unwrap();
    let (recent, _) = store.create_batch(new_batch(1, None), NOW).await.unwrap();
    let (running, _) = store.create_batch(new_batch(1, None), NOW).await.unwrap();
    assert!(
        store.set_batch_state(old.id, BatchState::Running, BatchState::Cancelled, NOW + 1).await.unwrap()
    );
    assert!(
        store.set_batch_state(recent.id, BatchState::Running, BatchState::Cancelled, NOW + 10).await.unwrap()
    );
    assert_eq!(store::retention::delete_finished_before(store, NOW + 5).await.unwrap(), 1);
    assert!(store.batch(old.id).await.unwrap().is_none());
    assert!(store.batch(recent.id).await.unwrap().is_some());
    assert!(store.batch(running.id).await.unwrap().is_some(), "a running batch is never deleted");
}

pub async fn unknown_batches_are_reported<S: BatchStore>(store: &S) {
    let unknown = Uuid::from_u128(99);
    assert!(store.batch(unknown).await.unwrap().is_none());
    assert!(matches!(store.progress(unknown).await, Err(StoreError::BatchNotFound(_))));
}

pub async fn counters_match_the_items_after_many_transitions<S: BatchStore>(store: &S) {
    let (b, _) = store.create_batch(new_batch(200, None), NOW).await.unwrap();
    // A fixed walk through the state machine: every item a different way.
    let mut seed: u64 = 7;
    for round in 0..6 {
        for index in 0..200u32 {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let item = store.item(b.id, index).await.unwrap().unwrap();
            let options: Vec<ItemState> =
                ItemState::ALL.into_iter().filter(|s| item.state.can_become(*s)).collect();
            if options.is_empty() {
                continue;
            }
            let to = options[(seed >> 33) as usize % options.len()];
            let step = if round % 2 == 0 { item.step } else { Some(Step::TestAndEnable) };
            let due_at = matches!(to, ItemState::Waiting | ItemState::Verifying).then_some(NOW + round);
            let t = Transition { step, due_at, ..move_item(index, item.state, item.step, to) };
            assert!(store.transition(b.id, t, NOW + round).await.unwrap());
        }
    }
    let stored = without_zeros(store.progress(b.id).await.unwrap());
    let counted = without_zeros(recount(store, b.id).await);
    assert_eq!(stored, counted);
    let total: u64 = stored.by_state.values().sum();
    assert_eq!(total, 200);
}
