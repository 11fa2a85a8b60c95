//! A rollout in this process against an in-process simulator (port 0): the store in a
//! temporary SQLite file, a Dataverse client with one application user, a runtime whose
//! conductor and worker the tests drive.

use activator_core::Progress;
use activator_core::{ItemState, Step};
use dataverse::{Credential, Dataverse, DataverseOptions, Secret};
use metrics::Metrics;
use pipeline::{
    ConductorSettings, Feeder, FeederConfig, Queue, QueueTuning, RetryPolicy, Runtime, WorkerOptions,
};
use sim::{CaseShares, Profile, RunningSim, SimConfig};
use std::sync::Arc;
use std::time::Duration;
use store::clock::now;
use store::{BatchId, BatchStore, NewBatch, SqliteStore};

pub struct Setup {
    pub sim: RunningSim,
    pub store: Arc<SqliteStore>,
    pub runtime: Runtime<SqliteStore, Dataverse>,
    pub batch: BatchId,
    pub _dir: std::path::PathBuf,
}

pub async fn setup(mailboxes: usize, profile: Profile, retry: RetryPolicy) -> Setup {
    setup_with(mailboxes, profile, retry, DataverseOptions::default(), serde_json::json!({})).await
}

pub async fn setup_with(
    mailboxes: usize,
    profile: Profile,
    retry: RetryPolicy,
    client: DataverseOptions,
    options: serde_json::Value,
) -> Setup {
    let config = SimConfig { mailboxes, profile, ..SimConfig::default() };
    let sim = sim::start(config, "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let credential = Credential {
        authority: format!("{}/tenant", sim.base_url),
        client_id: "51f81489-12ee-4a9e-aaae-a2591f45987d".into(),
        client_secret: Secret::new("sim-secret"),
    };
    let dataverse = Arc::new(Dataverse::new(&sim.base_url, vec![credential], client).unwrap());
    let ids: Vec<String> = reqwest::get(format!("{}/_sim/mailboxes", sim.base_url))
        .await
        .unwrap()
        .json::<std::collections::BTreeMap<String, Vec<String>>>()
        .await
        .unwrap()
        .into_values()
        .flatten()
        .collect();
    // In id order, which spreads the awkward cases as a real list would.
    let ids = {
        let mut ids = ids;
        ids.sort();
        ids
    };
    let dir = std::env::temp_dir().join(format!("pipeline-control-{}", testkit::unique_prefix()));
    std::fs::create_dir_all(&dir).unwrap();
    let store = Arc::new(SqliteStore::open(&dir.join("state.db")).await.unwrap());
    let new = NewBatch {
        idempotency_key: None,
        environment: "default".into(),
        steps: Step::ALL.to_vec(),
        options,
        mailboxes: ids,
    };
    let (batch, _) = store.create_batch(new, now()).await.unwrap();
    let queue = Queue::sqlite_on(store.pool(), &QueueTuning::default()).await.unwrap();
    let runtime = Runtime {
        store: Arc::clone(&store),
        dataverse,
        feeder: Arc::new(Feeder::new(queue.clone(), FeederConfig::default())),
        queue,
        metrics: Arc::new(Metrics::new()),
        conductor: ConductorSettings { retry, ..ConductorSettings::default() },
        worker: WorkerOptions::new(pipeline::worker_name()),
    };
    Setup { sim, store, runtime, batch: batch.id, _dir: dir }
}

pub fn quick_profile() -> Profile {
    let mut p = Profile { cases: CaseShares::none(), ..Profile::default() };
    p.test_delay_ms = "300..900".parse().unwrap();
    p.deploy_delay_ms = "200..600".parse().unwrap();
    p
}

pub async fn writes(sim: &RunningSim) -> u64 {
    let stats: serde_json::Value =
        reqwest::get(format!("{}/_sim/stats", sim.base_url)).await.unwrap().json().await.unwrap();
    stats["writes"]["total"].as_u64().unwrap()
}

/// Waits up to a minute until the batch's progress passes `until`; returns that progress.
pub async fn wait_for_progress(
    store: &SqliteStore,
    batch: BatchId,
    what: &str,
    until: impl Fn(&Progress) -> bool,
) -> Progress {
    testkit::wait_for(what, Duration::from_secs(60), || async {
        let p = store.progress(batch).await.unwrap();
        until(&p).then_some(p)
    })
    .await
}

pub fn in_queue(p: &Progress) -> u64 {
    p.count(ItemState::Queued) + p.count(ItemState::Running)
}
