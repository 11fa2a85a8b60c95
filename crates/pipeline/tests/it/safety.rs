//! The canary and the circuit breaker against the simulator, at Dataverse's own budgets: a
//! systematic failure pauses the batch after a few mailboxes, with its cause and remedy, and
//! the batch goes on once the cause is fixed.

use crate::rollout_setup::{Setup, quick_profile, setup};
use activator_core::{BatchState, ItemState, PausedBy, Step};
use pipeline::{Conducted, RetryPolicy};
use sim::{Case, CaseShares};
use std::time::Duration;
use store::BatchStore;
use store::batch_control;
use tokio::sync::watch;

const APPROVAL_REFUSED: &str = "0x80040220";

/// Mailboxes the simulator has taken at least one write for.
async fn written(s: &Setup) -> u64 {
    let stats: serde_json::Value =
        reqwest::get(format!("{}/_sim/stats", s.sim.base_url)).await.unwrap().json().await.unwrap();
    let by_count = stats["writes"]["mailboxes_by_write_count"].as_object().unwrap();
    by_count.iter().filter(|(n, _)| *n != "0").map(|(_, m)| m.as_u64().unwrap()).sum()
}

async fn sim_post(s: &Setup, path: &str, body: serde_json::Value) {
    let answer = reqwest::Client::new()
        .post(format!("{}/_sim/{path}", s.sim.base_url))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success(), "POST /_sim/{path}: {}", answer.text().await.unwrap());
}

/// Conducts the batch with a worker until it ends or pauses itself.
async fn conduct(s: &Setup) -> Conducted {
    let (stop_tx, stop) = watch::channel(false);
    let worker = s.runtime.spawn_worker(stop.clone());
    let outcome = tokio::time::timeout(Duration::from_secs(120), s.runtime.conduct(s.batch, stop))
        .await
        .expect("the batch ends or pauses within two minutes")
        .unwrap();
    stop_tx.send(true).unwrap();
    worker.await.unwrap().unwrap();
    outcome
}

#[tokio::test(flavor = "multi_thread")]
async fn a_canary_that_cannot_approve_pauses_the_batch_before_the_rest_is_written() {
    let mut profile = quick_profile();
    profile.cases = CaseShares::none();
    profile.cases.0.insert(Case::ApprovalNeedsAdmin, 1.0);
    let mut s = setup(400, profile, RetryPolicy::default()).await;
    s.runtime.conductor.stop_when_paused_itself = true;

    let Conducted::PausedItself(reason) = conduct(&s).await else { panic!("the batch did not pause itself") };
    assert_eq!(
        (reason.by, reason.code.as_str(), reason.step),
        (PausedBy::Canary, APPROVAL_REFUSED, Some(Step::Approve))
    );
    assert_eq!((reason.failed, reason.of), (10, 10), "the canary of 400 is 10 mailboxes");
    assert!(reason.remedy.contains("Exchange") && reason.remedy.contains("resume"), "{}", reason.remedy);
    // A refused approval changes nothing; what matters is that no other mailbox was touched.
    assert!(written(&s).await <= 10, "at most the canary's mailboxes were written");
    let p = s.store.progress(s.batch).await.unwrap();
    assert_eq!((p.count(ItemState::Failed), p.not_started), (10, 390), "{p:?}");
    let batch = s.store.batch(s.batch).await.unwrap().unwrap();
    assert_eq!((batch.state, batch.paused_reason.as_ref()), (BatchState::Paused, Some(&reason)));

    // An admin grants the right; the canary's failed mailboxes go first, then everything.
    sim_post(&s, "cases/approval_needs_admin/clear", serde_json::json!({})).await;
    let retried = batch_control::retry_cause_and_resume(&*s.store, s.batch).await.unwrap();
    assert_eq!(retried.retried, 10);
    // As a rerun would be: another process, with a worker name of its own.
    s.runtime.worker.name = pipeline::worker_name();
    assert_eq!(conduct(&s).await, Conducted::Finished(BatchState::Completed));
    let p = s.store.progress(s.batch).await.unwrap();
    assert_eq!(p.count(ItemState::Done), 400, "{p:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn approvals_that_start_failing_midway_trip_the_breaker_within_its_window() {
    let mut s = setup(1_000, quick_profile(), RetryPolicy::default()).await;
    s.runtime.conductor.stop_when_paused_itself = true;
    let (stop_tx, stop) = watch::channel(false);
    let worker = s.runtime.spawn_worker(stop.clone());
    let runtime = s.runtime.clone();
    let batch = s.batch;
    let conducting = tokio::spawn(async move { runtime.conduct(batch, stop).await });
    testkit::wait_for("200 mailboxes done", Duration::from_secs(120), || async {
        (s.store.progress(s.batch).await.unwrap().count(ItemState::Done) >= 200).then_some(())
    })
    .await;

    // From now on every approval by the application user is refused.
    let before = written(&s).await;
    sim_post(&s, "variants", serde_json::json!({"approval_mode": "admin-only"})).await;
    let outcome = tokio::time::timeout(Duration::from_secs(120), conducting).await.unwrap().unwrap().unwrap();
    stop_tx.send(true).unwrap();
    worker.await.unwrap().unwrap();

    let Conducted::PausedItself(reason) = outcome else { panic!("the breaker did not trip: {outcome:?}") };
    assert_eq!(
        (reason.by, reason.code.as_str(), reason.step),
        (PausedBy::Breaker, APPROVAL_REFUSED, Some(Step::Approve))
    );
    assert!(reason.failed >= 25 && reason.of <= 50, "within its window of 50: {reason:?}");
    let after = written(&s).await - before;
    assert!(after <= 60, "{after} mailboxes were written after approvals started failing");
    // Refused approvals write nothing; the attempts are the failed mailboxes.
    let failed = s.store.progress(s.batch).await.unwrap().count(ItemState::Failed);
    eprintln!("breaker: {reason:?}; {after} mailboxes written after the change, {failed} failed");
    assert!(failed < 60, "{failed} mailboxes failed before the pause");
}
