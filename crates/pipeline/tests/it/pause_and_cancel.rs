//! The conductor and workers in one process against the simulator (in process, on port 0):
//! pause stops feeding and resume finishes the batch; cancel cancels what has not started;
//! transient faults are retried with backoff until every mailbox is done.

use crate::rollout_setup::{in_queue, quick_profile, setup, setup_with, wait_for_progress, writes};
use activator_core::{BatchState, ItemState, Step};
use dataverse::DataverseOptions;
use pipeline::{Conducted, RetryPolicy};
use std::time::Duration;
use store::BatchStore;
use store::clock::now;
use tokio::sync::watch;

#[tokio::test(flavor = "multi_thread")]
async fn pause_stops_feeding_and_resume_finishes_the_batch() {
    let s = setup(300, quick_profile(), RetryPolicy::default()).await;
    let (stop_tx, stop) = watch::channel(false);
    let worker = s.runtime.spawn_worker(stop.clone());
    let runtime = s.runtime.clone();
    let conductor = tokio::spawn(async move { runtime.conduct(s.batch, stop).await });
    wait_for_progress(&s.store, s.batch, "the first mailboxes to finish", |p| p.count(ItemState::Done) >= 10)
        .await;

    assert!(s.store.set_batch_state(s.batch, BatchState::Running, BatchState::Paused, now()).await.unwrap());
    let paused = wait_for_progress(&s.store, s.batch, "the queue to drain", |p| in_queue(p) == 0).await;
    assert!(paused.finished() < 300, "paused before the end: {paused:?}");
    let written = writes(&s.sim).await;
    // A bounded look at a negative: eight feed intervals with nothing queued or written.
    for _ in 0..8 {
        tokio::time::sleep(s.runtime.conductor.tick).await;
        assert_eq!(in_queue(&s.store.progress(s.batch).await.unwrap()), 0, "nothing is fed while paused");
    }
    assert_eq!(writes(&s.sim).await, written, "nothing is written while paused");

    assert!(s.store.set_batch_state(s.batch, BatchState::Paused, BatchState::Running, now()).await.unwrap());
    let outcome = tokio::time::timeout(Duration::from_secs(120), conductor).await.unwrap().unwrap().unwrap();
    assert_eq!(outcome, Conducted::Finished(BatchState::Completed));
    let p = s.store.progress(s.batch).await.unwrap();
    assert_eq!(p.count(ItemState::Done), 300, "{p:?}");
    stop_tx.send(true).unwrap();
    worker.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn cancel_cancels_what_has_not_started_and_ends_the_batch() {
    let s = setup(300, quick_profile(), RetryPolicy::default()).await;
    let (stop_tx, stop) = watch::channel(false);
    let worker = s.runtime.spawn_worker(stop.clone());
    let runtime = s.runtime.clone();
    let conductor = tokio::spawn(async move { runtime.conduct(s.batch, stop).await });
    wait_for_progress(&s.store, s.batch, "the first mailboxes to finish", |p| p.count(ItemState::Done) >= 5)
        .await;

    assert!(
        s.store.set_batch_state(s.batch, BatchState::Running, BatchState::Cancelled, now()).await.unwrap()
    );
    let outcome = tokio::time::timeout(Duration::from_secs(60), conductor).await.unwrap().unwrap().unwrap();
    assert_eq!(outcome, Conducted::Finished(BatchState::Cancelled));
    let p = s.store.progress(s.batch).await.unwrap();
    assert_eq!(p.finished(), 300, "every mailbox final: {p:?}");
    assert!(p.count(ItemState::Cancelled) > 0, "{p:?}");
    assert!(p.count(ItemState::Done) < 300, "{p:?}");
    stop_tx.send(true).unwrap();
    worker.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn transient_faults_are_retried_until_every_mailbox_is_done() {
    let mut profile = quick_profile();
    profile.fault_rate = 0.1;
    profile.slow_ms = "10..50".parse().unwrap();
    let retry =
        RetryPolicy { base: Duration::from_millis(50), cap: Duration::from_millis(400), max_attempts: 10 };
    let s = setup(120, profile, retry).await;
    let (stop_tx, stop) = watch::channel(false);
    let worker = s.runtime.spawn_worker(stop.clone());
    let outcome = tokio::time::timeout(Duration::from_secs(120), s.runtime.conduct(s.batch, stop))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(outcome, Conducted::Finished(BatchState::Completed));
    let p = s.store.progress(s.batch).await.unwrap();
    assert_eq!(p.count(ItemState::Done), 120, "{p:?}");
    let retried: u64 = Step::ALL
        .iter()
        .map(|step| s.runtime.metrics.job_retries_total.with_label_values(&[step.name(), "transient"]).get())
        .sum();
    assert!(retried > 0, "faults at 10% must have caused retries");
    // Each mailbox's deployment is seen done once: by the sweep, or (after a dropped
    // connection whose write landed) by planning before a retry.
    let steps = &s.runtime.metrics.mailbox_steps_total;
    let seen = steps.with_label_values(&["deploy_app", "verified"]).get()
        + steps.with_label_values(&["deploy_app", "already_done"]).get();
    assert_eq!(seen, 120, "{}", s.runtime.metrics.render());
    stop_tx.send(true).unwrap();
    worker.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_429_waits_its_retry_after_without_using_an_attempt() {
    // The simulator allows 6 requests per 2 s; the client believes in far more and gives a
    // 429 straight back to the job. With one attempt per step, any 429 that used an attempt
    // would fail its mailbox.
    let mut profile = quick_profile();
    profile.window_secs = 2;
    profile.max_requests = 6;
    profile.throttle_penalty_ms = 0;
    let mut client = DataverseOptions { max_throttle_waits: 0, ..DataverseOptions::default() };
    client.budgets.window = Duration::from_secs(1);
    client.budgets.max_requests = 1_000;
    let retry = RetryPolicy { max_attempts: 1, ..RetryPolicy::default() };
    let s = setup_with(30, profile, retry, client, serde_json::json!({})).await;
    let (stop_tx, stop) = watch::channel(false);
    let worker = s.runtime.spawn_worker(stop.clone());
    let outcome = tokio::time::timeout(Duration::from_secs(180), s.runtime.conduct(s.batch, stop))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(outcome, Conducted::Finished(BatchState::Completed));
    let p = s.store.progress(s.batch).await.unwrap();
    assert_eq!(p.count(ItemState::Done), 30, "{p:?}");
    let throttled: u64 = Step::ALL
        .iter()
        .map(|step| s.runtime.metrics.job_retries_total.with_label_values(&[step.name(), "throttled"]).get())
        .sum();
    assert!(
        throttled > 0,
        "the simulator's limit must have thrown jobs back: {}",
        s.runtime.metrics.render()
    );
    stop_tx.send(true).unwrap();
    worker.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_test_that_outlasts_its_timeout_fails_the_mailbox_as_timed_out() {
    let mut profile = quick_profile();
    profile.test_delay_ms = "60000..60000".parse().unwrap();
    // Every mailbox times out: no canary, which would pause the batch at the first ten.
    let options = serde_json::json!({"test_timeout_secs": 1, "canary": "off"});
    let s = setup_with(20, profile, RetryPolicy::default(), DataverseOptions::default(), options).await;
    let (stop_tx, stop) = watch::channel(false);
    let worker = s.runtime.spawn_worker(stop.clone());
    let outcome = tokio::time::timeout(Duration::from_secs(60), s.runtime.conduct(s.batch, stop))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(outcome, Conducted::Finished(BatchState::Completed));
    let failed = s.store.items(s.batch, Some(ItemState::Failed), None, 100).await.unwrap();
    assert_eq!(failed.len(), 20);
    for item in failed {
        let error = item.error.unwrap();
        assert_eq!((item.step, error.code.as_str()), (Some(Step::TestAndEnable), "timed_out"), "{error:?}");
    }
    stop_tx.send(true).unwrap();
    worker.await.unwrap().unwrap();
}
