//! The HTTP core of the client: standard Web API headers, bearer tokens, one renewal and retry
//! on 401, and classification of every failure.

use crate::credential::Credential;
use crate::error::{DataverseError, Limit};
use crate::request::WebApiRequest;
use crate::token::TokenSource;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{Method, RequestBuilder};
use serde::de::DeserializeOwned;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A successful answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    /// Time from sending to the whole answer: the request's share of execution time.
    pub elapsed: Duration,
    /// Limits that answered 429 before this request got through.
    pub throttled_by: Vec<Limit>,
}

impl Answer {
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, DataverseError> {
        serde_json::from_slice(&self.body).map_err(|e| DataverseError::Invalid {
            status: self.status,
            code: String::new(),
            message: format!("the answer could not be read: {e}"),
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Speaks to one Dataverse environment as one application user.
#[derive(Debug, Clone)]
pub struct Connection {
    http: reqwest::Client,
    api: String,
    tokens: Arc<TokenSource>,
}

/// Path of the Web API under the org URL.
pub const API_PATH: &str = "/api/data/v9.2";

impl Connection {
    /// `org_url` like `https://contoso.crm.dynamics.com`. No cookies are kept, so requests are
    /// not pinned to one server by the affinity cookie (limits are per server).
    pub fn new(org_url: &str, credential: Credential, timeout: Duration) -> Result<Self, DataverseError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .pool_idle_timeout(Duration::from_secs(90))
            .build()
            .map_err(|e| DataverseError::Invalid {
                status: 0,
                code: String::new(),
                message: format!("cannot build the HTTP client: {e}"),
            })?;
        let org_url = org_url.trim_end_matches('/');
        Ok(Self {
            tokens: Arc::new(TokenSource::new(http.clone(), credential, org_url)),
            api: format!("{org_url}{API_PATH}"),
            http,
        })
    }

    pub fn tokens(&self) -> &TokenSource {
        &self.tokens
    }

    /// Absolute URL of a Web API path like `mailboxes(…)`.
    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            path.to_string()
        } else {
            format!("{}/{}", self.api, path.trim_start_matches('/'))
        }
    }

    /// Sends a request built by `build` (called again for the one retry after a 401).
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        build: impl Fn(RequestBuilder) -> RequestBuilder,
    ) -> Result<Answer, DataverseError> {
        let url = self.url(path);
        let mut renewed = false;
        loop {
            let token = self.tokens.token().await?;
            let req = self
                .http
                .request(method.clone(), &url)
                .bearer_auth(&token)
                .header("Accept", "application/json")
                .header("OData-MaxVersion", "4.0")
                .header("OData-Version", "4.0");
            let started = Instant::now();
            let resp = build(req).send().await.map_err(|e| DataverseError::from_transport(&e))?;
            let status = resp.status().as_u16();
            let headers = resp.headers().clone();
            let body = resp.bytes().await.map_err(|e| DataverseError::from_transport(&e))?.to_vec();
            let elapsed = started.elapsed();
            if status < 400 {
                return Ok(Answer { status, headers, body, elapsed, throttled_by: Vec::new() });
            }
            if status == 401 && !renewed {
                renewed = true;
                self.tokens.invalidate(&token).await;
                continue;
            }
            let retry_after = headers.get(RETRY_AFTER).and_then(|v| v.to_str().ok());
            return Err(DataverseError::from_response(status, retry_after, &body));
        }
    }

    pub async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, DataverseError> {
        self.send(Method::GET, path, |r| r).await?.json()
    }

    /// Sends a request described as data.
    pub async fn execute(&self, req: &WebApiRequest) -> Result<Answer, DataverseError> {
        self.send(req.method.clone(), &req.path, |mut r| {
            if !req.query.is_empty() {
                r = r.query(&req.query);
            }
            for (name, value) in &req.headers {
                r = r.header(name.as_str(), value.as_str());
            }
            if let Some(body) = &req.body {
                r = r.json(body);
            }
            if let Some((content_type, text)) = &req.raw {
                r = r.header("Content-Type", content_type.as_str()).body(text.clone());
            }
            r
        })
        .await
    }
}
