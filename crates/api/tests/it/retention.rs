//! The serving process's retention: finished batches past their time are deleted, running ones
//! never.

use crate::support::app;
use activator_core::BatchState;
use std::sync::Arc;
use std::time::Duration;
use store::BatchStore;

#[tokio::test]
async fn finished_batches_past_the_retention_are_deleted_and_running_ones_kept() {
    let app = app().await;
    let finished = app.create(&["a@contoso.com"]).await.parse().unwrap();
    let running = app.create(&["b@contoso.com"]).await.parse().unwrap();
    let now = store::clock::now();
    assert!(
        app.store.set_batch_state(finished, BatchState::Running, BatchState::Completed, now).await.unwrap()
    );
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let sweep = tokio::spawn(api::delete_expired_batches(
        Arc::clone(&app.store),
        Duration::ZERO,
        Duration::from_millis(20),
        stop_rx,
    ));
    testkit::wait_for("the finished batch to be deleted", Duration::from_secs(10), || async {
        app.store.batch(finished).await.unwrap().is_none().then_some(())
    })
    .await;
    assert!(app.store.batch(running).await.unwrap().is_some(), "a running batch is never deleted");
    stop.send_replace(true);
    tokio::time::timeout(Duration::from_secs(5), sweep)
        .await
        .expect("the sweep stops with the signal")
        .unwrap();
}
