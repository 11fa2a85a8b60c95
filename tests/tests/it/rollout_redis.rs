//! Two `activator worker` processes over Redis share one batch of 3,000 mailboxes; one is
//! killed with SIGKILL mid-way. The batch still completes with exact counters, and Dataverse
//! (the simulator) answered fewer than 1% of requests with 429.

use activator_core::{BatchState, ItemState};
use e2e::{
    QUICK_SIM, create_redis_batch, mailboxes_by_case, metrics_worker, sim_json, start_simulator, wait_for,
};
use std::time::{Duration, Instant};
use store::BatchStore;

#[tokio::test(flavor = "multi_thread")]
async fn two_workers_finish_a_batch_of_3000_with_one_killed_mid_way() {
    let redis = testkit::test_redis_url().await;
    let namespace = testkit::unique_prefix();
    let (_sim, url) = start_simulator(&[&["--mailboxes", "3000"][..], &QUICK_SIM[..]].concat());
    let ids: Vec<String> = e2e::mailbox_list(&url).await;
    let expected_failures: usize = mailboxes_by_case(&url)
        .await
        .iter()
        .filter(|(case, _)| !matches!(case.as_str(), "normal" | "already_approved" | "already_tested"))
        .map(|(_, ids)| ids.len())
        .sum();
    let (store, batch) = create_redis_batch(&redis, &namespace, ids, serde_json::json!({})).await;

    // Each worker serves its metrics on a free port (two cannot share the default one).
    let (mut first, _) = metrics_worker(&url, &redis, &namespace);
    let (_second, _) = metrics_worker(&url, &redis, &namespace);
    // One 600 s deadline for the whole batch.
    let deadline = Instant::now() + Duration::from_secs(600);
    wait_for("1,000 mailboxes finished", deadline.saturating_duration_since(Instant::now()), || async {
        let p = store.progress(batch.id).await.unwrap_or_else(|e| panic!("{e}"));
        (p.finished() >= 1_000).then_some(())
    })
    .await;
    first.0.kill().unwrap_or_else(|e| panic!("cannot kill the first worker: {e}"));
    let _ = first.0.wait();
    let killed_at = Instant::now();

    wait_for(
        "the batch to complete after the kill",
        deadline.saturating_duration_since(Instant::now()),
        || async {
            let b = store
                .batch(batch.id)
                .await
                .unwrap_or_else(|e| panic!("{e}"))
                .unwrap_or_else(|| panic!("batch gone"));
            (b.state == BatchState::Completed).then_some(())
        },
    )
    .await;
    let p = store.progress(batch.id).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(p.total, 3_000);
    assert_eq!(p.finished(), 3_000, "{p:?}");
    assert_eq!(p.count(ItemState::Failed) as usize, expected_failures, "{p:?}");
    assert_eq!(p.count(ItemState::Done) as usize, 3_000 - expected_failures, "{p:?}");
    // The counters agree with the items themselves.
    let mut recount = std::collections::BTreeMap::new();
    let mut after = None;
    loop {
        let page = store.items(batch.id, None, after, 1_000).await.unwrap_or_else(|e| panic!("{e}"));
        let Some(last) = page.last() else { break };
        after = Some(last.index);
        for item in page {
            *recount.entry(item.state).or_insert(0u64) += 1;
        }
    }
    assert_eq!(recount, p.by_state, "counters equal a recount of the items");

    let stats = sim_json(&url, "/_sim/stats").await;
    let e2e::SimRequests { total, throttled, .. } = e2e::sim_requests(&url).await;
    assert!(total > 0, "{stats}");
    eprintln!(
        "3,000 mailboxes: completed {:.1} s after the kill; {throttled} of {total} requests answered 429; writes {}",
        killed_at.elapsed().as_secs_f64(),
        stats["writes"]
    );
    assert!((throttled as f64) < 0.01 * total as f64, "{throttled} of {total} requests answered 429");
    assert!(stats["writes"]["max_per_mailbox"].as_u64() <= Some(4), "{}", stats["writes"]);
    testkit::remove_keys(&namespace).await;
}
