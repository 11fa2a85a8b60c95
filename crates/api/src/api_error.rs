//! Every error the API answers, and its one JSON shape:
//! `{"error": {"code": "...", "message": "...", "problems": [...]}}` (problems only when there
//! are some). Rejections of axum's extractors, unknown routes, methods not allowed, bodies too
//! large and requests that take too long are turned into the same shape here.

use axum::Json;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use store::StoreError;
use store::batch_control::ControlError;
use utoipa::ToSchema;

/// One thing wrong with a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Problem {
    /// What the problem is in: `mailboxes`, `steps`, `environment`, `options`, ...
    pub field: String,
    /// 0-based position in a JSON array.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<usize>,
    /// 1-based line of a CSV body (the header is line 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row: Option<u64>,
    /// The value as given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    pub reason: String,
}

impl Problem {
    pub fn new(field: &str, reason: impl Into<String>) -> Problem {
        Problem { field: field.into(), index: None, row: None, value: None, reason: reason.into() }
    }

    pub fn value(mut self, value: impl Into<String>) -> Problem {
        self.value = Some(value.into());
        self
    }

    pub fn index(mut self, index: usize) -> Problem {
        self.index = Some(index);
        self
    }

    pub fn row(mut self, row: u64) -> Problem {
        self.row = Some(row);
        self
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("{0}")]
    Timeout(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{message}")]
    Validation { message: String, problems: Vec<Problem> },
    #[error("{0}")]
    Internal(String),
    #[error("{0}")]
    Unavailable(String),
}

/// The body of every error answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// `bad_request`, `unauthorized`, `forbidden`, `not_found`, `method_not_allowed`,
    /// `conflict`, `timeout`, `payload_too_large`, `unsupported_media_type`,
    /// `validation_failed`, `internal` or `unavailable`.
    pub code: &'static str,
    /// What went wrong and what to do next.
    pub message: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<Problem>,
}

impl ApiError {
    /// A 422 listing `problems`; nothing was created.
    pub fn validation(problems: Vec<Problem>) -> ApiError {
        let message = match problems.len() {
            1 => "1 problem in the request; nothing was created".to_string(),
            n => format!("{n} problems in the request; nothing was created"),
        };
        ApiError::Validation { message, problems }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Timeout(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Validation { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "bad_request",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::MethodNotAllowed(_) => "method_not_allowed",
            ApiError::Timeout(_) => "timeout",
            ApiError::Conflict(_) => "conflict",
            ApiError::PayloadTooLarge(_) => "payload_too_large",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::Validation { .. } => "validation_failed",
            ApiError::Internal(_) => "internal",
            ApiError::Unavailable(_) => "unavailable",
        }
    }

    /// The answer when a request body is larger than `max_bytes`.
    pub fn body_too_large(max_bytes: usize) -> ApiError {
        ApiError::PayloadTooLarge(format!(
            "the request body is over {} MiB: split the list into several batches",
            max_bytes.div_ceil(1024 * 1024)
        ))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let code = self.code();
        if status.is_server_error() {
            tracing::warn!(%status, error = %self, "request failed");
        }
        let (message, problems) = match self {
            ApiError::Validation { message, problems } => (message, problems),
            other => (other.to_string(), Vec::new()),
        };
        let body = Json(ErrorBody { error: ErrorDetail { code, message, problems } });
        if status == StatusCode::UNAUTHORIZED {
            return (status, [(header::WWW_AUTHENTICATE, "Bearer")], body).into_response();
        }
        (status, body).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::BatchNotFound(id) => {
                ApiError::NotFound(format!("batch {id} does not exist: list the batches to find its id"))
            }
            StoreError::Invalid(message) => ApiError::BadRequest(message),
            backend @ StoreError::Backend(_) => ApiError::Unavailable(backend.to_string()),
        }
    }
}

impl From<ControlError> for ApiError {
    fn from(e: ControlError) -> Self {
        match e {
            ControlError::NotFound(_) => ApiError::NotFound(e.to_string()),
            ControlError::NotAllowed { .. }
            | ControlError::NotFinished { .. }
            | ControlError::Contended(_) => ApiError::Conflict(e.to_string()),
            ControlError::Store(store) => store.into(),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(e: QueryRejection) -> Self {
        ApiError::BadRequest(format!("{}: check the query parameters against /openapi.json", e.body_text()))
    }
}

/// A body that could not be read: over the byte limit (413) or broken off (400).
pub fn body_rejection(e: &BytesRejection, max_bytes: usize) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::body_too_large(max_bytes)
    } else {
        ApiError::BadRequest(format!("the request body could not be read: {}", e.body_text()))
    }
}

/// The answer for a path no route serves.
pub async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::NotFound(format!("no such endpoint: {}. The endpoints are listed at /openapi.json", uri.path()))
}

/// The answer for a method a route does not take.
pub async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> ApiError {
    ApiError::MethodNotAllowed(format!(
        "{method} is not allowed on {}: see /openapi.json for the methods each endpoint takes",
        uri.path()
    ))
}
