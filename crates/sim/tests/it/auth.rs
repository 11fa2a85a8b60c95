//! Token endpoint and bearer checks.

use crate::common::{config, fast_profile, fetch_token, start, token_request};
use serde_json::Value;
use sim::{ClientCredential, Range, SimConfig};
use std::time::Duration;

#[tokio::test]
async fn token_has_a_lifetime_within_the_profile() {
    let t = start(config(10, fast_profile())).await;
    let c = sim::default_client();
    let resp = token_request(&t.http, &t.running, &c.id, &c.secret).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    let expires = body["expires_in"].as_u64().unwrap();
    assert!((3600..=5400).contains(&expires), "{expires}");
}

#[tokio::test]
async fn bad_secret_is_refused_with_an_entra_error() {
    let t = start(config(10, fast_profile())).await;
    let c = sim::default_client();
    let resp = token_request(&t.http, &t.running, &c.id, "wrong").await;
    assert_eq!(resp.status(), 401);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
    assert!(body["error_description"].as_str().unwrap().starts_with("AADSTS7000215"));
}

#[tokio::test]
async fn web_api_without_token_or_with_a_bogus_one_is_401() {
    let t = start(config(10, fast_profile())).await;
    let resp = t.http.get(t.api("WhoAmI")).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    assert!(resp.headers().get("www-authenticate").is_some());
    let resp = t.http.get(t.api("WhoAmI")).bearer_auth("forged").send().await.unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(t.get("WhoAmI").send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn expired_token_is_401_and_a_new_one_works() {
    let profile = sim::Profile { token_lifetime_secs: Range::new(1, 1), ..fast_profile() };
    let t = start(config(10, profile)).await;
    assert_eq!(t.get("WhoAmI").send().await.unwrap().status(), 200);
    testkit::wait_for("the token to expire", Duration::from_secs(5), || async {
        (t.get("WhoAmI").send().await.unwrap().status() == 401).then_some(())
    })
    .await;
    let c = sim::default_client();
    let fresh = fetch_token(&t.http, &t.running, &c.id, &c.secret).await;
    let resp = t.http.get(t.api("WhoAmI")).bearer_auth(fresh).send().await.unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn each_configured_client_is_its_own_application_user() {
    let clients: Vec<ClientCredential> =
        vec!["app-a:secret-a".parse().unwrap(), "app-b:secret-b".parse().unwrap()];
    let running =
        sim::start(SimConfig { clients, ..config(10, fast_profile()) }, "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
    let http = reqwest::Client::new();
    let mut users = Vec::new();
    for (id, secret) in [("app-a", "secret-a"), ("app-b", "secret-b")] {
        let token = fetch_token(&http, &running, id, secret).await;
        let who: Value = http
            .get(format!("{}/WhoAmI", running.api_url()))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        users.push(who["UserId"].as_str().unwrap().to_string());
    }
    assert_ne!(users[0], users[1]);
    // The default client does not exist when clients are configured.
    let d = sim::default_client();
    let resp = token_request(&http, &running, &d.id, &d.secret).await;
    assert_eq!(resp.status(), 400);
}
