//! The Rust client of activator's HTTP API (`/v1`): where the API is, the bearer token, and
//! one method per kind of request; every answer other than 2xx becomes an [`ApiClientError`]
//! carrying the API's own message and problems. The answers' JSON ([`model`]) and the event
//! stream ([`sse`]) are read here too. The CLI's `submit`, `status`, `watch`, `failures` and
//! control commands use it, and so can tests.

pub mod error;
pub mod event_stream;
pub mod model;
pub mod sse;

pub use error::ApiClientError;
pub use event_stream::EventStream;

use activator_core::BatchAction;
use model::Controlled;
use reqwest::{Method, RequestBuilder, Response, Url};
use serde::de::DeserializeOwned;
use std::time::Duration;

/// How long an ordinary request may take (the event stream has no such limit).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A request body.
#[derive(Debug)]
pub enum Body {
    Json(serde_json::Value),
    Csv(Vec<u8>),
}

#[derive(Debug, Clone)]
pub struct ApiClient {
    http: reqwest::Client,
    base: Url,
    token: Option<String>,
}

impl ApiClient {
    /// A client of the API at `url` (e.g. `http://127.0.0.1:8080`), sending `token` as a
    /// bearer token when there is one.
    pub fn new(url: &str, token: Option<&str>) -> Result<ApiClient, ApiClientError> {
        let base = Url::parse(url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && !u.cannot_be_a_base())
            .ok_or_else(|| {
                ApiClientError::Usage(format!(
                    "--api / ACTIVATOR_API: '{}' is not an http(s) URL such as http://127.0.0.1:8080",
                    url
                ))
            })?;
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .user_agent(concat!("activator-cli/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ApiClientError::Usage(format!("cannot set up the HTTP client: {e}")))?;
        let token = token.filter(|t| !t.trim().is_empty()).map(str::to_string);
        Ok(ApiClient { http, base, token })
    }

    /// The base URL, as the user gave it, for messages.
    pub fn api(&self) -> &str {
        self.base.as_str().trim_end_matches('/')
    }

    /// `base` + path segments (each percent-encoded) + query.
    pub fn url(&self, segments: &[&str], query: &[(&str, String)]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        url
    }

    fn request(&self, method: Method, url: Url) -> RequestBuilder {
        let rb = self.http.request(method, url);
        match &self.token {
            Some(t) => rb.bearer_auth(t),
            None => rb,
        }
    }

    /// Sends and returns the answer when it is a success; an error answer becomes an error.
    async fn send(&self, rb: RequestBuilder) -> Result<Response, ApiClientError> {
        let answer = rb.send().await.map_err(|e| self.transport(e))?;
        let status = answer.status();
        if status.is_success() {
            return Ok(answer);
        }
        let body = answer.text().await.unwrap_or_default();
        Err(ApiClientError::from_answer(status.as_u16(), &body))
    }

    fn transport(&self, e: reqwest::Error) -> ApiClientError {
        let detail = root_cause(&e);
        let api = self.api().to_string();
        if e.is_connect() {
            ApiClientError::Unreachable { api, detail }
        } else if e.is_timeout() {
            ApiClientError::Transport { api, detail: format!("no answer in time ({detail})") }
        } else {
            ApiClientError::Transport { api, detail }
        }
    }

    /// The body of a successful answer, as text.
    pub async fn text(
        &self,
        method: Method,
        url: Url,
        body: Option<Body>,
        headers: &[(&str, String)],
    ) -> Result<String, ApiClientError> {
        let mut rb = self.request(method, url).timeout(REQUEST_TIMEOUT).header("accept", "application/json");
        for (name, value) in headers {
            rb = rb.header(*name, value.as_str());
        }
        rb = match body {
            Some(Body::Json(v)) => rb.json(&v),
            Some(Body::Csv(text)) => rb.header("content-type", "text/csv").body(text),
            None => rb,
        };
        let answer = self.send(rb).await?;
        answer.text().await.map_err(|e| self.transport(e))
    }

    /// The body of a successful answer, read as `T`.
    pub async fn json<T: DeserializeOwned>(
        &self,
        method: Method,
        url: Url,
        body: Option<Body>,
        headers: &[(&str, String)],
    ) -> Result<T, ApiClientError> {
        let what = format!("{method} {}", url.path());
        let text = self.text(method, url, body, headers).await?;
        decode(&what, &text)
    }

    pub async fn get<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        query: &[(&str, String)],
    ) -> Result<T, ApiClientError> {
        self.json(Method::GET, self.url(segments, query), None, &[]).await
    }

    /// The body of a successful GET, as text (for printing the API's JSON as it is).
    pub async fn get_text(
        &self,
        segments: &[&str],
        query: &[(&str, String)],
    ) -> Result<String, ApiClientError> {
        self.text(Method::GET, self.url(segments, query), None, &[]).await
    }

    /// POSTs `body` (if any) to `segments` with `query` and `headers`; reads the answer as `T`.
    pub async fn post<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        query: &[(&str, String)],
        body: Option<Body>,
        headers: &[(&str, String)],
    ) -> Result<T, ApiClientError> {
        self.json(Method::POST, self.url(segments, query), body, headers).await
    }

    /// `POST /v1/batches/{batch}/{action}`.
    pub async fn control(&self, batch: &str, action: BatchAction) -> Result<Controlled, ApiClientError> {
        self.post(&["v1", "batches", batch, action.name()], &[], None, &[]).await
    }

    /// `DELETE /v1/batches/{batch}`: a finished batch is removed with its mailboxes and results.
    pub async fn delete_batch(&self, batch: &str) -> Result<(), ApiClientError> {
        self.text(Method::DELETE, self.url(&["v1", "batches", batch], &[]), None, &[]).await.map(|_| ())
    }

    /// Opens the event stream of `batch` (`GET /v1/batches/{batch}/events`).
    pub async fn events(&self, batch: &str) -> Result<EventStream, ApiClientError> {
        let rb = self
            .request(Method::GET, self.url(&["v1", "batches", batch, "events"], &[]))
            .header("accept", "text/event-stream");
        EventStream::open(self.send(rb).await?)
    }
}

/// The innermost error, which says what happened (refused, reset, closed early).
pub fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    std::iter::successors(Some(e), |e| e.source()).last().map(|e| e.to_string()).unwrap_or_default()
}

pub fn decode<T: DeserializeOwned>(what: &str, text: &str) -> Result<T, ApiClientError> {
    serde_json::from_str(text).map_err(|e| {
        ApiClientError::Protocol(format!("the API's answer to {what} is not what this client reads: {e}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(url: &str) -> Result<ApiClient, ApiClientError> {
        ApiClient::new(url, None)
    }

    #[test]
    fn paths_are_encoded_and_a_base_path_is_kept() -> Result<(), ApiClientError> {
        let c = client("http://h:1/prefix/")?;
        let url = c.url(&["v1", "batches", "a b/c"], &[("state", "failed".into()), ("cursor", "7".into())]);
        assert_eq!(url.as_str(), "http://h:1/prefix/v1/batches/a%20b%2Fc?state=failed&cursor=7");
        assert_eq!(client("http://h:1")?.url(&["v1"], &[]).as_str(), "http://h:1/v1");
        assert_eq!(client("http://h:1")?.api(), "http://h:1");
        Ok(())
    }

    #[test]
    fn a_url_that_is_not_http_is_a_usage_error() {
        for bad in ["127.0.0.1:8080", "ftp://h/", "nonsense"] {
            assert!(matches!(client(bad), Err(ApiClientError::Usage(_))), "{bad}");
        }
    }
}
