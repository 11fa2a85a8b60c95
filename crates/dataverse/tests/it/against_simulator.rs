//! The client against the simulator: shared token fetches, renewal on 401, and every error
//! class from real answers.

use dataverse::{Connection, Credential, DataverseError, Limit, Secret};
use serde_json::{Value, json};
use sim::{Costs, Profile, RunningSim, SimConfig};
use std::time::Duration;

fn profile() -> Profile {
    Profile { costs: Costs { token: 20, ..Costs::zero() }, ..Profile::default() }
}

async fn simulator(profile: Profile) -> RunningSim {
    let config = SimConfig { mailboxes: 100, seed: 3, clients: Vec::new(), profile };
    sim::start(config, "127.0.0.1:0".parse().unwrap()).await.unwrap()
}

fn connect(running: &RunningSim, secret: &str) -> Connection {
    let credential = Credential {
        authority: format!("{}/contoso.onmicrosoft.com", running.base_url),
        client_id: sim::default_client().id,
        client_secret: Secret::new(secret),
    };
    Connection::new(&running.base_url, credential, Duration::from_secs(10)).unwrap()
}

async fn sim_json(running: &RunningSim, path: &str) -> Value {
    reqwest::get(format!("{}/_sim/{path}", running.base_url)).await.unwrap().json().await.unwrap()
}

async fn first_of(running: &RunningSim, case: &str) -> String {
    sim_json(running, &format!("mailboxes?case={case}")).await[case][0].as_str().unwrap().to_string()
}

#[tokio::test]
async fn two_hundred_concurrent_callers_share_one_token_fetch() {
    // The concurrency cap belongs to the limiter; here only the token is shared.
    let running = simulator(Profile { max_concurrency: 1000, ..profile() }).await;
    let conn = connect(&running, &sim::default_client().secret);
    let mut tasks = Vec::new();
    for _ in 0..200 {
        let conn = conn.clone();
        tasks.push(tokio::spawn(async move { conn.who_am_i().await }));
    }
    for t in tasks {
        let who = t.await.unwrap().unwrap();
        assert_eq!(who.dop_hint, Some(16));
    }
    assert_eq!(conn.tokens().fetches(), 1);
    assert_eq!(sim_json(&running, "stats").await["token_requests"]["200"], 1);
}

#[tokio::test]
async fn a_refused_token_is_renewed_once_and_the_call_retried() {
    let running = simulator(profile()).await;
    let conn = connect(&running, &sim::default_client().secret);
    conn.who_am_i().await.unwrap();
    let resp =
        reqwest::Client::new().post(format!("{}/_sim/tokens/expire", running.base_url)).send().await.unwrap();
    assert_eq!(resp.status(), 204);
    conn.who_am_i().await.unwrap();
    assert_eq!(conn.tokens().fetches(), 2);
    let stats = sim_json(&running, "stats").await;
    assert_eq!(stats["unauthorized"]["expired"], 1);
}

#[tokio::test]
async fn a_bad_secret_is_unauthorized_with_entras_reason_and_not_retryable() {
    let running = simulator(profile()).await;
    let err = connect(&running, "wrong").who_am_i().await.unwrap_err();
    assert!(matches!(&err, DataverseError::Unauthorized { code, .. } if code == "invalid_client"), "{err:?}");
    assert!(err.message().contains("AADSTS7000215"));
    assert!(!err.is_retryable());
    assert!(!format!("{err:?}").contains("wrong"), "the secret must not leak into errors");
}

#[tokio::test]
async fn dataverse_answers_map_to_their_error_classes() {
    let running = simulator(profile()).await;
    let conn = connect(&running, &sim::default_client().secret);
    let missing = uuid::Uuid::from_u128(9);
    let err = conn.get_json::<Value>(&format!("mailboxes({missing})")).await.unwrap_err();
    assert!(matches!(err, DataverseError::NotFound { .. }), "{err:?}");
    assert_eq!(err.code(), "0x80040217");

    let err = conn.get_json::<Value>("mailboxes?$select=nosuch").await.unwrap_err();
    assert!(matches!(err, DataverseError::Invalid { status: 400, .. }), "{err:?}");

    let admin = first_of(&running, "approval_needs_admin").await;
    let err = conn
        .send(reqwest::Method::PATCH, &format!("mailboxes({admin})"), |r| {
            r.json(&json!({"emailrouteraccessapproval": 1}))
        })
        .await
        .unwrap_err();
    assert!(
        matches!(&err, DataverseError::PrivilegeDenied { remedy, .. } if remedy.contains("Exchange")),
        "{err:?}"
    );

    let normal = first_of(&running, "normal").await;
    let err = conn
        .send(reqwest::Method::PATCH, &format!("mailboxes({normal})"), |r| {
            r.header("If-Match", "W/\"1\"").json(&json!({"name": "x"}))
        })
        .await
        .unwrap_err();
    assert!(matches!(err, DataverseError::Conflict { .. }), "{err:?}");

    let truth = sim_json(&running, &format!("mailboxes/{normal}")).await;
    let user = truth["user"]["systemuserid"].as_str().unwrap();
    let roles: Value = conn
        .get_json(&format!("systemusers({user})/systemuserroles_association?$select=roleid"))
        .await
        .unwrap();
    let held = roles["value"][0]["roleid"].as_str().unwrap();
    let body = json!({"@odata.id": conn.url(&format!("roles({held})"))});
    let err = conn
        .send(reqwest::Method::POST, &format!("systemusers({user})/systemuserroles_association/$ref"), |r| {
            r.json(&body)
        })
        .await
        .unwrap_err();
    assert!(matches!(err, DataverseError::AlreadyDone { .. }), "{err:?}");
}

#[tokio::test]
async fn a_429_is_throttled_with_its_limit_and_wait() {
    let running = simulator(Profile { max_requests: 2, window_secs: 60, ..profile() }).await;
    let conn = connect(&running, &sim::default_client().secret);
    conn.who_am_i().await.unwrap();
    conn.who_am_i().await.unwrap();
    let err = conn.who_am_i().await.unwrap_err();
    match err {
        DataverseError::Throttled { limit, retry_after, .. } => {
            assert_eq!(limit, Some(Limit::Requests));
            assert!(retry_after >= Duration::from_secs(1));
        }
        other => panic!("expected Throttled, got {other:?}"),
    }
}

#[tokio::test]
async fn no_server_is_a_transient_error() {
    let credential = Credential {
        authority: "http://127.0.0.1:9/tenant".into(),
        client_id: "x".into(),
        client_secret: Secret::new("y"),
    };
    let conn = Connection::new("http://127.0.0.1:9", credential, Duration::from_secs(2)).unwrap();
    let err = conn.who_am_i().await.unwrap_err();
    assert!(matches!(err, DataverseError::Transient { status: None, .. }), "{err:?}");
    assert!(err.is_retryable());
}

#[tokio::test]
async fn tokens_are_renewed_before_they_expire() {
    let running = simulator(Profile { token_lifetime_secs: sim::Range::new(2, 2), ..profile() }).await;
    let conn = connect(&running, &sim::default_client().secret);
    testkit::wait_for("the token to be renewed (three fetches)", Duration::from_secs(10), || async {
        if conn.tokens().fetches() >= 3 {
            return Some(());
        }
        conn.who_am_i().await.unwrap();
        None
    })
    .await;
    // Renewed early every time: the simulator never had to refuse an expired token.
    assert_eq!(sim_json(&running, "stats").await["unauthorized"], json!({}));
}
