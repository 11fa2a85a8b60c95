//! A selection by tenant query finds exactly the mailboxes the simulator's ground truth says,
//! and a batch made from it holds exactly those, in either store.

use activator_core::{MailboxState, Selection, Step};
use dataverse::{Credential, Dataverse, DataverseOptions, Secret};
use pipeline::selection::select;
use serde_json::Value;
use sim::{Profile, SimConfig};
use std::collections::{BTreeMap, BTreeSet};
use store::clock::now;
use store::{BatchStore, NewBatch, RedisStore, SqliteStore};

struct Truth {
    business_unit: String,
    teams: Vec<String>,
    approved: bool,
}

/// Every mailbox still there, as the simulator knows it.
async fn ground_truth(base_url: &str) -> BTreeMap<String, Truth> {
    let cases: BTreeMap<String, Vec<String>> =
        reqwest::get(format!("{base_url}/_sim/mailboxes")).await.unwrap().json().await.unwrap();
    let mut truth = BTreeMap::new();
    for id in cases.into_values().flatten() {
        let t: Value =
            reqwest::get(format!("{base_url}/_sim/mailboxes/{id}")).await.unwrap().json().await.unwrap();
        if t["deleted"] == true {
            continue;
        }
        let teams =
            t["user_teams"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
        truth.insert(
            id,
            Truth {
                business_unit: t["business_unit"].as_str().unwrap().to_string(),
                teams,
                approved: t["mailbox"]["emailrouteraccessapproval"] == 1,
            },
        );
    }
    truth
}

/// The mailbox ids of a batch made of `ids` in `store`, read back.
async fn batch_members<S: BatchStore>(store: &S, ids: &[String]) -> BTreeSet<String> {
    let new = NewBatch {
        idempotency_key: None,
        environment: "default".into(),
        steps: vec![Step::Approve],
        options: serde_json::json!({}),
        mailboxes: ids.to_vec(),
    };
    let (batch, _) = store.create_batch(new, now()).await.unwrap();
    store.items(batch.id, None, None, 100_000).await.unwrap().into_iter().map(|i| i.mailbox).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn business_unit_team_and_mailbox_state_select_the_ground_truth_in_both_stores() {
    let config = SimConfig { mailboxes: 600, profile: Profile::default(), ..SimConfig::default() };
    let sim = sim::start(config, "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let credential = Credential {
        authority: format!("{}/tenant", sim.base_url),
        client_id: "51f81489-12ee-4a9e-aaae-a2591f45987d".into(),
        client_secret: Secret::new("sim-secret"),
    };
    let dataverse = Dataverse::new(&sim.base_url, vec![credential], DataverseOptions::default()).unwrap();
    let truth = ground_truth(&sim.base_url).await;

    let sales_not_approved = Selection {
        business_units: vec!["Sales".into()],
        mailbox_state: MailboxState::NotApproved,
        ..Selection::default()
    };
    let expected: BTreeSet<String> = truth
        .iter()
        .filter(|(_, t)| t.business_unit == "Sales" && !t.approved)
        .map(|(id, _)| id.clone())
        .collect();
    let in_sales = truth.values().filter(|t| t.business_unit == "Sales").count();
    assert!(expected.len() >= 10 && expected.len() < in_sales, "{} of {in_sales}", expected.len());
    let found: Vec<String> = select(&dataverse, &sales_not_approved)
        .await
        .unwrap()
        .mailboxes
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(found.iter().cloned().collect::<BTreeSet<_>>(), expected);

    let dir = std::env::temp_dir().join(format!("pipeline-selection-{}", testkit::unique_prefix()));
    std::fs::create_dir_all(&dir).unwrap();
    let sqlite = SqliteStore::open(&dir.join("state.db")).await.unwrap();
    assert_eq!(batch_members(&sqlite, &found).await, expected, "SQLite");
    let url = testkit::test_redis_url().await;
    let prefix = testkit::unique_prefix();
    let redis = RedisStore::connect(&url, &format!("{prefix}:store")).await.unwrap();
    assert_eq!(batch_members(&redis, &found).await, expected, "Redis");
    testkit::remove_keys(&prefix).await;

    let pilots = Selection { teams: vec!["Pilot Users".into()], ..Selection::default() };
    let expected: BTreeSet<String> = truth
        .iter()
        .filter(|(_, t)| t.teams.iter().any(|n| n == "Pilot Users"))
        .map(|(id, _)| id.clone())
        .collect();
    let found = select(&dataverse, &pilots).await.unwrap();
    assert!(!expected.is_empty());
    assert_eq!(found.mailboxes.iter().map(ToString::to_string).collect::<BTreeSet<_>>(), expected);
    let _ = std::fs::remove_dir_all(dir);
}
