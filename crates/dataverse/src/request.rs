//! A Web API request as plain data, so it can be sent again (retries, token renewal) or put
//! into a `$batch` with others.

use reqwest::Method;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub struct WebApiRequest {
    pub method: Method,
    /// Path under the Web API root (`mailboxes(…)`), or an absolute URL (a next link).
    pub path: String,
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub body: Option<Value>,
    /// A body that is not JSON: content type and text (a `$batch`).
    pub raw: Option<(String, String)>,
    /// Label for logs and metrics, e.g. `approve mailbox`.
    pub operation: &'static str,
    /// Operations it carries: 1, or the size of a `$batch`.
    pub weight: u32,
}

impl WebApiRequest {
    pub fn get(operation: &'static str, path: impl Into<String>) -> Self {
        Self {
            method: Method::GET,
            path: path.into(),
            query: Vec::new(),
            headers: Vec::new(),
            body: None,
            raw: None,
            operation,
            weight: 1,
        }
    }

    /// A PATCH of an existing row. `If-Match: *` stops Dataverse from creating the row when it
    /// does not exist (PATCH is an upsert otherwise).
    pub fn update(operation: &'static str, path: impl Into<String>, body: Value) -> Self {
        Self {
            method: Method::PATCH,
            path: path.into(),
            query: Vec::new(),
            headers: vec![("If-Match".into(), "*".into())],
            body: Some(body),
            raw: None,
            operation,
            weight: 1,
        }
    }

    pub fn post(operation: &'static str, path: impl Into<String>, body: Value) -> Self {
        Self {
            method: Method::POST,
            path: path.into(),
            query: Vec::new(),
            headers: Vec::new(),
            body: Some(body),
            raw: None,
            operation,
            weight: 1,
        }
    }

    /// A POST with a body that is not JSON.
    pub fn raw(operation: &'static str, path: impl Into<String>, content_type: String, text: String) -> Self {
        Self {
            method: Method::POST,
            path: path.into(),
            query: Vec::new(),
            headers: Vec::new(),
            body: None,
            raw: Some((content_type, text)),
            operation,
            weight: 1,
        }
    }

    pub fn query(mut self, name: &str, value: impl Into<String>) -> Self {
        self.query.push((name.to_string(), value.into()));
        self
    }

    /// Says how many operations the request carries (a `$batch`).
    pub fn weight(mut self, operations: u32) -> Self {
        self.weight = operations.max(1);
        self
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    /// Whether the request changes data (and so may be coalesced into a `$batch`).
    pub fn is_write(&self) -> bool {
        self.method != Method::GET
    }
}
