//! Shared helpers of the simulator's integration tests: a simulator on port 0 and a real HTTP
//! client holding a token.

use serde_json::{Value, json};
use sim::{Costs, Profile, Range, RunningSim, SimConfig, default_client};
use std::time::Duration;

pub struct TestSim {
    pub running: RunningSim,
    pub http: reqwest::Client,
    pub token: String,
}

/// A profile for fast tests: no execution cost, short processes, default limits.
pub fn fast_profile() -> Profile {
    Profile {
        costs: Costs::zero(),
        test_delay_ms: Range::new(20, 60),
        deploy_delay_ms: Range::new(20, 60),
        ..Profile::default()
    }
}

pub fn config(mailboxes: usize, profile: Profile) -> SimConfig {
    SimConfig { mailboxes, seed: 7, clients: Vec::new(), profile }
}

pub async fn start(config: SimConfig) -> TestSim {
    let running = sim::start(config, "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    let c = default_client();
    let token = fetch_token(&http, &running, &c.id, &c.secret).await;
    TestSim { running, http, token }
}

/// Sends a client credentials request.
pub async fn token_request(
    http: &reqwest::Client,
    running: &RunningSim,
    id: &str,
    secret: &str,
) -> reqwest::Response {
    http.post(running.token_url("contoso.onmicrosoft.com"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret),
            ("scope", "https://contoso.crm.dynamics.com/.default"),
        ])
        .send()
        .await
        .unwrap()
}

pub async fn fetch_token(http: &reqwest::Client, running: &RunningSim, id: &str, secret: &str) -> String {
    let resp = token_request(http, running, id, secret).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_string()
}

impl TestSim {
    pub fn api(&self, path: &str) -> String {
        format!("{}/{}", self.running.api_url(), path)
    }

    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.http.get(self.api(path)).bearer_auth(&self.token)
    }

    pub async fn get_json(&self, path: &str) -> (u16, Value) {
        let resp = self.get(path).send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    pub async fn patch(&self, path: &str, body: Value) -> reqwest::Response {
        self.http.patch(self.api(path)).bearer_auth(&self.token).json(&body).send().await.unwrap()
    }

    /// PATCH a mailbox and expect 204.
    pub async fn patch_mailbox(&self, id: &str, body: Value) {
        let resp = self.patch(&format!("mailboxes({id})"), body).await;
        assert_eq!(resp.status(), 204, "{:?}", resp.text().await);
    }

    pub async fn sim_get(&self, path: &str) -> Value {
        self.http
            .get(format!("{}/_sim/{path}", self.running.base_url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// POSTs JSON to a simulator endpoint; the status and the JSON answer.
    pub async fn sim_post(&self, path: &str, body: Value) -> (u16, Value) {
        let resp = self
            .http
            .post(format!("{}/_sim/{path}", self.running.base_url))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// Reads every page of a collection with `Prefer: odata.maxpagesize`, following
    /// `@odata.nextLink`; the rows and the number of pages.
    pub async fn get_all(&self, path: &str, page_size: usize) -> (Vec<Value>, usize) {
        let mut rows = Vec::new();
        let mut pages = 0;
        let mut url = self.api(path);
        loop {
            let resp = self
                .http
                .get(&url)
                .bearer_auth(&self.token)
                .header("Prefer", format!("odata.maxpagesize={page_size}"))
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 200, "{url}");
            let body: Value = resp.json().await.unwrap();
            let page = body["value"].as_array().unwrap();
            assert!(page.len() <= page_size);
            rows.extend(page.iter().cloned());
            pages += 1;
            match body["@odata.nextLink"].as_str() {
                Some(next) => url = next.to_string(),
                None => return (rows, pages),
            }
        }
    }

    pub async fn truth(&self, id: &str) -> Value {
        self.sim_get(&format!("mailboxes/{id}")).await
    }

    pub async fn stats(&self) -> Value {
        self.sim_get("stats").await
    }

    /// Seeded mailbox ids of one case.
    pub async fn ids(&self, case: &str) -> Vec<String> {
        let v = self.sim_get(&format!("mailboxes?case={case}")).await;
        v[case]
            .as_array()
            .map(|a| a.iter().map(|x| x.as_str().unwrap().to_string()).collect())
            .unwrap_or_default()
    }

    pub async fn reset(&self) {
        let resp = self.http.post(format!("{}/_sim/reset", self.running.base_url)).send().await.unwrap();
        assert_eq!(resp.status(), 204);
    }
}

pub fn approve() -> Value {
    json!({"emailrouteraccessapproval": 1})
}
