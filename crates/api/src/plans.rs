//! `POST /v1/plans`: what a batch would do, by reading Dataverse only. The body is the one of
//! `POST /v1/batches` (a list or a selection); nothing is created and nothing is written.

use crate::api_error::{ApiError, ErrorBody};
use crate::create_batch::{checked_request, tenant_error};
use crate::state::AppState;
use activator_core::RolloutPlan;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, Uri};
use store::BatchStore;

/// Plan a batch.
///
/// Same body as `POST /v1/batches`. Answers the organization's prerequisites, each mailbox's
/// predicted outcome (`will_activate`, `already_done`, `will_fail` with its reason and remedy)
/// and steps (`needed`, `already`, `blocked`), totals by outcome, reason and business unit,
/// and the estimate (`requests`, `execution_secs`, `duration_secs`, and the duration for 1, 3
/// and 10 application users). Only reads: safe at any time.
#[utoipa::path(post, path = "/v1/plans", tag = "batches",
    params(crate::batch_request::CsvQuery),
    request_body(content(
        (crate::batch_request::CreateBatchRequest = "application/json"),
        (String = "text/csv", example = "mailbox\nada@contoso.com\n")
    )),
    responses(
        (status = 200, description = "The plan", body = Object),
        (status = 400, description = "Malformed JSON or CSV, bad query or header", body = ErrorBody),
        (status = 401, description = "Missing or unknown token", body = ErrorBody), (status = 403, description = "A viewer token", body = ErrorBody),
        (status = 413, description = "Body over the byte limit, or more mailboxes than the maximum", body = ErrorBody),
        (status = 415, description = "Neither application/json nor text/csv", body = ErrorBody),
        (status = 422, description = "Problems in the request", body = ErrorBody),
        (status = 503, description = "Dataverse cannot be read from this process", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_plan<S: BatchStore>(
    State(state): State<AppState<S>>,
    headers: HeaderMap,
    uri: Uri,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<RolloutPlan>, ApiError> {
    let checked = checked_request(&state, &headers, &uri, body).await?;
    let mut plan = state
        .tenant
        .plan(&checked.environment, &checked.steps, &checked.mailboxes)
        .await
        .map_err(tenant_error)?;
    plan.selection = checked.selection_found;
    Ok(Json(plan))
}
