//! `POST /v1/batches`: creates a batch from a JSON or CSV request once all of it checks out;
//! with an `Idempotency-Key` seen before, answers the batch that key created.

use crate::api_error::Problem;
use crate::api_error::{ApiError, ErrorBody, body_rejection};
use crate::batch_request::{Checked, CreateBatchRequest, CsvQuery, Duplicate, check_csv, check_json};
use crate::state::AppState;
use crate::tenant::TenantError;
use crate::views::{BatchView, batch_view};
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use store::{BatchStore, NewBatch};
use utoipa::ToSchema;

/// The header that makes a create safe to repeat.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// Prefix of the store's idempotency keys that came through the API (`activator run` keeps
/// its own, so the two never meet).
const KEY_PREFIX: &str = "api:";

/// The answer of `POST /v1/batches`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CreatedBatch {
    pub batch: BatchView,
    /// False when an earlier request with the same Idempotency-Key created the batch.
    pub created: bool,
    /// Mailboxes listed more than once; each is in the batch once.
    pub duplicates: Vec<Duplicate>,
    /// What the selection found, when the batch was made from one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub selection: Option<activator_core::SelectionFound>,
}

enum BodyKind {
    Json,
    Csv,
}

fn body_kind(headers: &HeaderMap) -> Result<BodyKind, ApiError> {
    let given = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let essence = given.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    match essence.as_str() {
        "application/json" => Ok(BodyKind::Json),
        "text/csv" => Ok(BodyKind::Csv),
        _ => Err(ApiError::UnsupportedMediaType(format!(
            "cannot read a body of type '{given}': send application/json, or text/csv with the steps in the query"
        ))),
    }
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get(IDEMPOTENCY_KEY) else { return Ok(None) };
    let bad = || {
        ApiError::BadRequest(
            "the Idempotency-Key header must be 1 to 200 visible ASCII characters (no spaces)".into(),
        )
    };
    let key = value.to_str().map_err(|_| bad())?;
    if key.is_empty() || key.len() > 200 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(bad());
    }
    Ok(Some(format!("{KEY_PREFIX}{key}")))
}

/// The request checked whole, with a selection resolved into its mailboxes (shared by
/// `POST /v1/batches` and `POST /v1/plans`).
pub(crate) async fn checked_request<S: BatchStore>(
    state: &AppState<S>,
    headers: &HeaderMap,
    uri: &Uri,
    body: Result<Bytes, BytesRejection>,
) -> Result<Checked, ApiError> {
    let kind = body_kind(headers)?;
    let body = body.map_err(|e| body_rejection(&e, state.config.max_body_bytes))?;
    let config = &state.config;
    let mut checked = match kind {
        BodyKind::Json => check_json(&body, &config.environments, config.max_mailboxes)?,
        BodyKind::Csv => {
            let Query(query) = Query::<CsvQuery>::try_from_uri(uri)?;
            check_csv(&body, &query, &config.environments, config.max_mailboxes)?
        }
    };
    if let Some(selection) = &checked.selection {
        let (found, summary) =
            state.tenant.select(&checked.environment, selection).await.map_err(tenant_error)?;
        if found.len() > config.max_mailboxes {
            return Err(ApiError::PayloadTooLarge(format!(
                "the selection found {} mailboxes, and a batch holds at most {}: narrow it down",
                found.len(),
                config.max_mailboxes
            )));
        }
        checked.mailboxes = found;
        checked.selection_found = Some(summary);
    }
    Ok(checked)
}

/// A tenant's refusal as the API answers it.
pub(crate) fn tenant_error(e: TenantError) -> ApiError {
    match e {
        TenantError::Invalid(message) => ApiError::validation(vec![Problem::new("select", message)]),
        TenantError::Unavailable(message) => ApiError::Unavailable(message),
    }
}

/// Create a batch.
///
/// The body is JSON, or `text/csv` (the same CSV `activator run --csv` reads) with steps,
/// environment and options in the query. Everything is checked before anything is created.
#[utoipa::path(post, path = "/v1/batches", tag = "batches",
    params(CsvQuery,
        ("Idempotency-Key" = Option<String>, Header, description = "1 to 200 visible ASCII characters; a repeat returns the first batch")),
    request_body(content(
        (CreateBatchRequest = "application/json"),
        (String = "text/csv", example = "mailbox\nada@contoso.com\n")
    )),
    responses(
        (status = 202, description = "Created", body = CreatedBatch,
            headers(("Location" = String, description = "/v1/batches/{id}"))),
        (status = 200, description = "An earlier request with this Idempotency-Key created it", body = CreatedBatch),
        (status = 400, description = "Malformed JSON or CSV, bad query or header", body = ErrorBody),
        (status = 401, description = "Missing or unknown token", body = ErrorBody), (status = 403, description = "A viewer token on a write", body = ErrorBody),
        (status = 413, description = "Body over the byte limit, or more mailboxes than the maximum", body = ErrorBody),
        (status = 415, description = "Neither application/json nor text/csv", body = ErrorBody),
        (status = 422, description = "Problems in the request; nothing was created", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_batch<S: BatchStore>(
    State(state): State<AppState<S>>,
    headers: HeaderMap,
    uri: Uri,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let key = idempotency_key(&headers)?;
    let checked = checked_request(&state, &headers, &uri, body).await?;
    let new = NewBatch {
        idempotency_key: key,
        environment: checked.environment,
        steps: checked.steps,
        options: checked.options.to_json(),
        mailboxes: checked.mailboxes,
    };
    let now = store::clock::now();
    let (batch, created) = state.store.create_batch(new, now).await?;
    if created {
        state.metrics.batches_created_total.inc();
        tracing::info!(batch = %batch.id, total = batch.total, "batch created");
    }
    let view = batch_view(&*state.store, &batch, now).await?;
    let status = if created { StatusCode::ACCEPTED } else { StatusCode::OK };
    let location = format!("/v1/batches/{}", batch.id);
    let answer = CreatedBatch {
        batch: view,
        created,
        duplicates: checked.duplicates,
        selection: checked.selection_found,
    };
    Ok((status, [(header::LOCATION, location)], Json(answer)).into_response())
}
