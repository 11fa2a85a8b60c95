//! `activator worker --metrics-listen 127.0.0.1:0` over Redis rolls out a batch of 40
//! mailboxes while its `/metrics` is scraped: the text follows the exposition format and
//! promtool's rules, the step counters add up to the batch's counts, the batch's
//! `batch_mailboxes` label sets go when it completes, and the queue gauges end at 0.

use activator_core::Progress;
use activator_core::{BatchState, ItemState};
use e2e::scrape::{counted_ends, get, promtool_check, scrape, sum};
use e2e::{QUICK_SIM, create_redis_batch, metrics_worker, start_simulator, wait_for};
use std::process::Command;
use std::time::{Duration, Instant};
use store::{BatchStore, RedisStore};

#[tokio::test(flavor = "multi_thread")]
async fn a_worker_serves_metrics_that_add_up_and_pass_promtool() {
    let redis = testkit::test_redis_url().await;
    let namespace = testkit::unique_prefix();
    let (_sim, sim) = start_simulator(&[&["--mailboxes", "40"][..], &QUICK_SIM[..]].concat());
    let ids: Vec<String> = e2e::mailbox_list(&sim).await;
    assert_eq!(ids.len(), 40);
    let (store, batch) = create_redis_batch(
        &redis,
        &namespace,
        ids,
        // 40 mailboxes with one of every awkward case fail at 23%: a canary would rightly pause
        // them, and this test is about the metrics.
        serde_json::json!({"canary": "off"}),
    )
    .await;
    let id = batch.id.to_string();

    let (mut worker, base) = metrics_worker(&sim, &redis, &namespace);
    let health = get(&format!("{base}/healthz")).await;
    assert_eq!(health.status(), 200);

    // While the batch runs, its mailboxes show by state and add up to the batch.
    let (_, first) = scrape(&base).await;
    let running = store.batch(batch.id).await.unwrap_or_else(|e| panic!("{e}")).map(|b| b.state);
    if running == Some(BatchState::Running) {
        let mailboxes = sum(&first, "activator_batch_mailboxes", &[("batch", &id)]);
        assert_eq!(mailboxes, 40.0, "batch_mailboxes of the running batch");
    } else {
        eprintln!("the batch completed before the first scrape; its label sets were not seen");
    }

    let deadline = Instant::now() + Duration::from_secs(300);
    let progress = wait_until_completed(&store, batch.id, deadline).await;
    let failed = progress.count(ItemState::Failed) as f64;
    let ended_well = (progress.count(ItemState::Done) + progress.count(ItemState::Skipped)) as f64;
    assert_eq!(progress.finished(), 40, "{progress:?}");

    // Counters are counted before each outcome is stored, so they are in already; the wait
    // only covers a scrape racing the last transition.
    let (text, exp) = wait_for(
        "the step counters to add up to the batch",
        deadline.saturating_duration_since(Instant::now()),
        || async {
            let (text, exp) = scrape(&base).await;
            (counted_ends(&exp) == (failed, ended_well)).then_some((text, exp))
        },
    )
    .await;
    assert_eq!(
        counted_ends(&exp),
        (failed, ended_well),
        "(failed, past the last step) vs {progress:?}\n{text}"
    );
    eprintln!("40 mailboxes: {failed} failed, {ended_well} done or skipped; the step counters say the same");
    assert!(!text.contains(&id), "the completed batch still has label sets:\n{text}");
    for state in ["waiting", "scheduled", "running", "dead"] {
        assert_eq!(sum(&exp, "activator_queue_jobs", &[("state", state)]), 0.0, "{state}\n{text}");
    }
    let queue_states = exp.family("activator_queue_jobs").map_or(0, |f| f.samples.len());
    assert_eq!(queue_states, 4, "{text}");
    assert_eq!(sum(&exp, "activator_queue_oldest_waiting_age_seconds", &[]), 0.0);
    let credential = [("credential", "51f81489-12ee-4a9e-aaae-a2591f45987d")];
    let budgets = exp.family("activator_ratelimit_budget_remaining").map(|f| f.matching(&credential).count());
    assert_eq!(budgets, Some(3), "{text}");
    assert_eq!(sum(&exp, "activator_workers_active", &[]), 1.0);
    promtool_check(&text);

    // SIGTERM stops the worker, and its metrics server with it.
    let pid = worker.0.id().to_string();
    let status = Command::new("kill").args(["-TERM", &pid]).status().unwrap_or_else(|e| panic!("kill: {e}"));
    assert!(status.success());
    wait_for("the worker to stop on SIGTERM", Duration::from_secs(60), || {
        std::future::ready(worker.0.try_wait().unwrap_or_else(|e| panic!("{e}")))
    })
    .await;
    assert!(
        reqwest::get(format!("{base}/healthz")).await.is_err(),
        "/healthz answers after the worker stopped"
    );
    testkit::remove_keys(&namespace).await;
}

async fn wait_until_completed(store: &RedisStore, batch: store::BatchId, deadline: Instant) -> Progress {
    wait_for("the batch to complete", deadline.saturating_duration_since(Instant::now()), || async {
        let state = store.batch(batch).await.unwrap_or_else(|e| panic!("{e}")).map(|b| b.state);
        let progress = store.progress(batch).await.unwrap_or_else(|e| panic!("{e}"));
        (state == Some(BatchState::Completed)).then_some(progress)
    })
    .await
}
