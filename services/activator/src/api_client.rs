//! A small client of activator's HTTP API (`/v1`, api-contract v1): where the API is, the bearer
//! token, and one method per kind of request; every answer other than 2xx becomes an
//! [`ApiError`] carrying the API's own message and problems.

pub mod error;
pub mod model;
pub mod sse;

pub use error::{ApiError, EXIT_API};

use reqwest::{Method, RequestBuilder, Response, Url};
use serde::de::DeserializeOwned;
use std::time::Duration;

/// How long an ordinary request may take (the event stream has no such limit).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the API is and how to authenticate to it.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "API")]
pub struct ApiArgs {
    /// Base URL of `activator api` or `activator serve`.
    #[arg(long = "api", env = "ACTIVATOR_API", default_value = "http://127.0.0.1:8080", value_name = "URL")]
    pub url: String,
    /// Bearer token (a viewer token reads, an operator token may also write).
    #[arg(long, env = "ACTIVATOR_TOKEN", hide_env_values = true, value_name = "TOKEN")]
    pub token: Option<String>,
}

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
    pub fn new(args: &ApiArgs) -> Result<ApiClient, ApiError> {
        let base = Url::parse(&args.url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && !u.cannot_be_a_base())
            .ok_or_else(|| {
                ApiError::Usage(format!(
                    "--api / ACTIVATOR_API: '{}' is not an http(s) URL such as http://127.0.0.1:8080",
                    args.url
                ))
            })?;
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .user_agent(concat!("activator-cli/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ApiError::Usage(format!("cannot set up the HTTP client: {e}")))?;
        let token = args.token.clone().filter(|t| !t.trim().is_empty());
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
    async fn send(&self, rb: RequestBuilder) -> Result<Response, ApiError> {
        let answer = rb.send().await.map_err(|e| self.transport(e))?;
        let status = answer.status();
        if status.is_success() {
            return Ok(answer);
        }
        let body = answer.text().await.unwrap_or_default();
        Err(ApiError::from_answer(status.as_u16(), &body))
    }

    fn transport(&self, e: reqwest::Error) -> ApiError {
        let detail = root_cause(&e);
        let api = self.api().to_string();
        if e.is_connect() {
            ApiError::Unreachable { api, detail }
        } else if e.is_timeout() {
            ApiError::Transport { api, detail: format!("no answer in time ({detail})") }
        } else {
            ApiError::Transport { api, detail }
        }
    }

    /// The body of a successful answer, as text.
    pub async fn text(
        &self,
        method: Method,
        url: Url,
        body: Option<Body>,
        headers: &[(&str, String)],
    ) -> Result<String, ApiError> {
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
    ) -> Result<T, ApiError> {
        let what = format!("{method} {}", url.path());
        let text = self.text(method, url, body, headers).await?;
        decode(&what, &text)
    }

    pub async fn get<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        query: &[(&str, String)],
    ) -> Result<T, ApiError> {
        self.json(Method::GET, self.url(segments, query), None, &[]).await
    }

    /// Opens the event stream at `segments`; the caller reads the body as it comes.
    pub async fn events(&self, segments: &[&str]) -> Result<Response, ApiError> {
        let rb = self.request(Method::GET, self.url(segments, &[])).header("accept", "text/event-stream");
        self.send(rb).await
    }
}

/// The innermost error, which says what happened (refused, reset, closed early).
pub fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    std::iter::successors(Some(e), |e| e.source()).last().map(|e| e.to_string()).unwrap_or_default()
}

pub fn decode<T: DeserializeOwned>(what: &str, text: &str) -> Result<T, ApiError> {
    serde_json::from_str(text).map_err(|e| {
        ApiError::Protocol(format!("the API's answer to {what} is not what this client reads: {e}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(url: &str) -> Result<ApiClient, ApiError> {
        ApiClient::new(&ApiArgs { url: url.into(), token: None })
    }

    #[test]
    fn paths_are_encoded_and_a_base_path_is_kept() -> Result<(), ApiError> {
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
            assert!(matches!(client(bad), Err(ApiError::Usage(_))), "{bad}");
        }
    }
}
