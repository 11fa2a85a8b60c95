//! Every typed operation of the rollout against the simulator, through the pool and limiter,
//! with and without `$batch` coalescing.

use dataverse::{
    Credential, Dataverse, DataverseOptions, DeploymentOutcome, RoleAssignment, Secret, TestOutcome,
};
use serde_json::Value;
use sim::{Costs, Profile, Range, RunningSim, SimConfig};
use std::time::Duration;
use uuid::Uuid;

fn profile() -> Profile {
    Profile {
        costs: Costs::zero(),
        test_delay_ms: Range::new(10, 30),
        deploy_delay_ms: Range::new(10, 30),
        ..Profile::default()
    }
}

async fn simulator(mailboxes: usize, profile: Profile) -> RunningSim {
    let config = SimConfig { mailboxes, seed: 11, clients: Vec::new(), profile };
    sim::start(config, "127.0.0.1:0".parse().unwrap()).await.unwrap()
}

fn credential(running: &RunningSim) -> Credential {
    let c = sim::default_client();
    Credential {
        authority: format!("{}/tenant", running.base_url),
        client_id: c.id,
        client_secret: Secret::new(c.secret),
    }
}

fn client(running: &RunningSim, batching: bool) -> Dataverse {
    let mut options = DataverseOptions::default();
    if !batching {
        options.batching = None;
    }
    Dataverse::new(&running.base_url, vec![credential(running)], options).unwrap()
}

async fn sim_json(running: &RunningSim, path: &str) -> Value {
    reqwest::get(format!("{}/_sim/{path}", running.base_url)).await.unwrap().json().await.unwrap()
}

async fn ids_of(running: &RunningSim, case: &str) -> Vec<Uuid> {
    let v = sim_json(running, &format!("mailboxes?case={case}")).await;
    v[case].as_array().unwrap().iter().map(|x| x.as_str().unwrap().parse().unwrap()).collect()
}

async fn wait_for_test(dv: &Dataverse, id: Uuid) -> TestOutcome {
    testkit::wait_for("Test & Enable to finish", Duration::from_secs(10), || async {
        let m = dv.mailboxes_by_ids(&[id]).await.unwrap().remove(0);
        match m.test_outcome() {
            TestOutcome::Running => None,
            done => Some(done),
        }
    })
    .await
}

#[tokio::test]
async fn a_whole_rollout_for_one_mailbox_through_typed_operations() {
    let running = simulator(60, profile()).await;
    let dv = client(&running, false);
    let who = dv.connect().await.unwrap();
    assert_eq!(
        dv.email_processing(who.organization_id).await.unwrap(),
        dataverse::EmailProcessing::ServerSideSync
    );
    let id = ids_of(&running, "normal").await[0];
    let mailbox = dv.mailboxes_by_ids(&[id]).await.unwrap().remove(0);
    assert!(!mailbox.is_approved());
    let user = mailbox.owner.unwrap();

    dv.approve_mailbox(id).await.unwrap();
    dv.approve_user(user).await.unwrap();
    dv.schedule_test_and_enable(id).await.unwrap();
    assert_eq!(wait_for_test(&dv, id).await, TestOutcome::Succeeded);

    let unit = dv.user_business_unit(user).await.unwrap();
    let role = dv.app_role_for_unit(unit).await.unwrap().unwrap();
    assert!(!dv.user_has_role(user, role).await.unwrap());
    assert_eq!(dv.assign_role(user, role).await.unwrap(), RoleAssignment::Assigned);
    assert_eq!(dv.assign_role(user, role).await.unwrap(), RoleAssignment::AlreadyHeld);
    assert!(dv.user_has_role(user, role).await.unwrap());

    dv.schedule_app_deployment(id).await.unwrap();
    let deployed = testkit::wait_for("the deployment to finish", Duration::from_secs(10), || async {
        let m = dv.mailboxes_by_ids(&[id]).await.unwrap().remove(0);
        match m.deployment_outcome() {
            DeploymentOutcome::Running => None,
            other => Some(other),
        }
    })
    .await;
    assert_eq!(deployed, DeploymentOutcome::Installed);
    let truth = sim_json(&running, &format!("mailboxes/{id}")).await;
    // approve mailbox, approve user, schedule test, assign role, schedule deployment.
    assert_eq!(truth["writes"], 5);
}

#[tokio::test]
async fn the_role_lookup_is_read_once_per_business_unit() {
    let running = simulator(60, profile()).await;
    let dv = client(&running, false);
    let ids = ids_of(&running, "normal").await;
    let mailboxes = dv.mailboxes_by_ids(&ids).await.unwrap();
    let mut units = std::collections::HashSet::new();
    for m in &mailboxes {
        let unit = dv.user_business_unit(m.owner.unwrap()).await.unwrap();
        units.insert(unit);
        dv.app_role_for_unit(unit).await.unwrap();
    }
    let stats = sim_json(&running, "stats").await;
    assert_eq!(stats["requests"]["retrieve_multiple roles"]["200"].as_u64().unwrap(), units.len() as u64);
}

#[tokio::test]
async fn other_org_mailbox_passes_after_marking_this_org_primary() {
    let running = simulator(100, profile()).await;
    let dv = client(&running, false);
    let id = ids_of(&running, "other_org").await[0];
    dv.approve_mailbox(id).await.unwrap();
    dv.schedule_test_and_enable(id).await.unwrap();
    assert_eq!(
        wait_for_test(&dv, id).await,
        TestOutcome::Failed { incoming: false, outgoing: false, act: true }
    );
    dv.mark_primary_for_exchange_sync(id).await.unwrap();
    dv.schedule_test_and_enable(id).await.unwrap();
    assert_eq!(wait_for_test(&dv, id).await, TestOutcome::Succeeded);
}

#[tokio::test]
async fn mailboxes_are_read_in_bulk_by_ids_and_emails_in_chunks() {
    let running = simulator(3000, profile()).await;
    let options = DataverseOptions { batching: None, page_size: 1000, ..DataverseOptions::default() };
    let dv = Dataverse::new(&running.base_url, vec![credential(&running)], options).unwrap();
    let all = dv.mailboxes_where(None).await.unwrap();
    assert_eq!(all.len(), 3000, "three pages of 1,000 followed to the end");
    assert_eq!(sim_json(&running, "stats").await["requests"]["retrieve_multiple mailboxes"]["200"], 3);
    let mut ids: Vec<Uuid> = all.iter().take(1234).map(|m| m.id).collect();
    ids.push(Uuid::from_u128(5));
    let before =
        sim_json(&running, "stats").await["requests"]["retrieve_multiple mailboxes"]["200"].as_u64().unwrap();
    let got = dv.mailboxes_by_ids(&ids).await.unwrap();
    assert_eq!(got.len(), 1234, "every existing id once, the unknown one absent");
    let after =
        sim_json(&running, "stats").await["requests"]["retrieve_multiple mailboxes"]["200"].as_u64().unwrap();
    assert_eq!(after - before, 13, "1,235 ids in chunks of 100");
    let emails: Vec<String> =
        all.iter().skip(10).take(5).map(|m| m.email.clone().unwrap().to_uppercase()).collect();
    let by_email = dv.mailboxes_by_emails(&emails).await.unwrap();
    assert_eq!(by_email.len(), 5);
}

#[tokio::test]
async fn concurrent_writes_are_coalesced_into_batches_each_with_its_own_result() {
    let running = simulator(300, profile()).await;
    let dv = std::sync::Arc::new(client(&running, true));
    let mut ids = ids_of(&running, "normal").await;
    ids.truncate(200);
    let missing = Uuid::from_u128(77);
    ids.push(missing);
    let mut tasks = Vec::new();
    for id in ids.clone() {
        let dv = dv.clone();
        tasks.push(tokio::spawn(async move { (id, dv.approve_mailbox(id).await) }));
    }
    for t in tasks {
        let (id, result) = t.await.unwrap();
        if id == missing {
            assert!(matches!(result, Err(dataverse::DataverseError::NotFound { .. })), "{result:?}");
        } else {
            result.unwrap();
        }
    }
    let stats = sim_json(&running, "stats").await;
    let batches = stats["requests"]["batch"]["200"].as_u64().unwrap();
    assert!((2..100).contains(&batches), "{batches} batches for 201 writes");
    assert_eq!(stats["batch_operations"]["update mailboxes"]["204"], 200);
    assert_eq!(stats["writes"]["total"], 200);
}

#[tokio::test]
async fn a_429_storm_pauses_the_client_which_then_finishes_without_error() {
    let limited = Profile { window_secs: 2, max_requests: 10, ..profile() };
    let running = simulator(100, limited).await;
    let mut options = DataverseOptions { batching: None, ..DataverseOptions::default() };
    // A client that believes in far larger budgets, so the server's limit is what stops it.
    options.budgets.max_requests = 100_000;
    let dv =
        std::sync::Arc::new(Dataverse::new(&running.base_url, vec![credential(&running)], options).unwrap());
    let ids = ids_of(&running, "normal").await;
    let mut tasks = Vec::new();
    for id in ids.into_iter().take(30) {
        let dv = dv.clone();
        tasks.push(tokio::spawn(async move { dv.approve_mailbox(id).await }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let stats = sim_json(&running, "stats").await;
    assert!(stats["throttled"]["requests"].as_u64().unwrap() >= 1, "the storm happened");
    assert_eq!(stats["writes"]["total"], 30);
}

#[tokio::test]
async fn the_org_can_be_switched_to_server_side_sync() {
    let running = simulator(10, Profile { email_connection_channel: 1, ..profile() }).await;
    let dv = client(&running, true);
    let org = dv.connect().await.unwrap().organization_id;
    assert_eq!(dv.email_processing(org).await.unwrap(), dataverse::EmailProcessing::EmailRouter);
    dv.use_server_side_sync(org).await.unwrap();
    assert_eq!(dv.email_processing(org).await.unwrap(), dataverse::EmailProcessing::ServerSideSync);
}

#[tokio::test]
async fn requests_are_spread_over_every_application_user_of_the_pool() {
    let clients = vec!["app-1:s1".parse().unwrap(), "app-2:s2".parse().unwrap()];
    let config = SimConfig { mailboxes: 50, seed: 2, clients, profile: profile() };
    let running = sim::start(config, "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let credentials = ["app-1:s1", "app-2:s2"]
        .iter()
        .map(|c| {
            let (id, secret) = c.split_once(':').unwrap();
            Credential {
                authority: format!("{}/t", running.base_url),
                client_id: id.into(),
                client_secret: Secret::new(secret),
            }
        })
        .collect();
    let dv = Dataverse::new(&running.base_url, credentials, DataverseOptions::default()).unwrap();
    for _ in 0..20 {
        dv.mailboxes_where(Some("statecode eq 0")).await.unwrap();
    }
    let usage = &sim_json(&running, "stats").await["window_usage"];
    assert_eq!(usage["app-1"]["requests_in_window"], 10);
    assert_eq!(usage["app-2"]["requests_in_window"], 10);
}

#[tokio::test]
async fn a_client_can_use_limiters_shared_through_redis() {
    let running = simulator(20, profile()).await;
    let url = testkit::test_redis_url().await;
    let prefix = testkit::unique_prefix();
    let limiter = ratelimit::RedisLimiter::connect(
        &url,
        &prefix,
        &sim::default_client().id,
        ratelimit::Budgets::default(),
    )
    .await
    .unwrap();
    let users =
        vec![(credential(&running), std::sync::Arc::new(limiter) as std::sync::Arc<dyn ratelimit::Limiter>)];
    let dv = Dataverse::with_limiters(&running.base_url, users, DataverseOptions::default()).unwrap();
    let id = ids_of(&running, "normal").await[0];
    dv.approve_mailbox(id).await.unwrap();
    assert!(dv.mailboxes_by_ids(&[id]).await.unwrap()[0].is_approved());
    testkit::remove_keys(&prefix).await;
}

#[tokio::test]
async fn role_checks_made_at_once_travel_together_in_batches_and_answer_each_caller() {
    let running = simulator(120, profile()).await;
    let dv = std::sync::Arc::new(client(&running, true));
    let mut users = Vec::new();
    for case in ["normal", "already_tested"] {
        for id in ids_of(&running, case).await {
            let truth = sim_json(&running, &format!("mailboxes/{id}")).await;
            let user: Uuid = truth["user"]["systemuserid"].as_str().unwrap().parse().unwrap();
            users.push((user, truth["has_app_role"].as_bool().unwrap()));
        }
    }
    let units = dv.users_business_units(&users.iter().map(|(u, _)| *u).collect::<Vec<_>>()).await.unwrap();
    // Every role is looked up first, so that the checks themselves start together.
    let mut roles = Vec::new();
    for (user, held) in &users {
        roles.push((*user, dv.app_role_for_unit(units[user]).await.unwrap().unwrap(), *held));
    }
    let mut checks = Vec::new();
    for (user, role, held) in roles {
        let dv = dv.clone();
        checks.push(tokio::spawn(async move { (dv.user_has_role(user, role).await.unwrap(), held) }));
    }
    for check in checks {
        let (answer, truth) = check.await.unwrap();
        assert_eq!(answer, truth, "each caller gets its own user's answer");
    }
    let stats = sim_json(&running, "stats").await;
    let checked = stats["batch_operations"]["retrieve_multiple systemuserroles_association"]["200"].as_u64();
    assert_eq!(checked, Some(users.len() as u64), "every check went inside a $batch: {stats}");
    let batches = stats["requests"]["batch"]["200"].as_u64().unwrap();
    assert!(batches * 4 <= users.len() as u64, "{} checks in {batches} batches", users.len());
}
