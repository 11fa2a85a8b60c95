//! The control endpoints of a batch: pause, resume, cancel, retry of its failed mailboxes, and
//! deleting it once finished. The
//! rules are the store's ([`store::batch_control`]); a change the batch's state does not allow is a 409.

use crate::api_error::{ApiError, ErrorBody};
use crate::batches::parse_id;
use crate::state::AppState;
use crate::views::{BatchView, batch_view};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use store::batch_control;
use store::{Batch, BatchStore};
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ControlAnswer {
    pub batch: BatchView,
    /// Failed mailboxes moved back to pending (retry only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retried: Option<u64>,
}

async fn answer<S: BatchStore>(
    state: &AppState<S>,
    batch: &Batch,
    retried: Option<u64>,
) -> Result<Json<ControlAnswer>, ApiError> {
    let view = batch_view(&*state.store, batch, store::clock::now()).await?;
    Ok(Json(ControlAnswer { batch: view, retried }))
}

/// One control endpoint: `POST $path`, documented by the doc comment, refused (409) in the
/// states `$refused` names; `$body` gives the batch and what was retried, from `$store` and
/// the batch id `$id`.
macro_rules! control_endpoint {
    ($(#[doc = $doc:tt])* $name:ident, $path:tt, $refused:tt, |$store:ident, $id:ident| $body:expr) => {
        $(#[doc = $doc])*
        #[utoipa::path(post, path = $path, tag = "control",
            params(("id" = String, Path, description = "Batch id")),
            responses((status = 200, description = "OK", body = ControlAnswer),
                (status = 401, description = "Missing or unknown token", body = ErrorBody),
                (status = 403, description = "A viewer token", body = ErrorBody),
                (status = 404, description = "No such batch", body = ErrorBody),
                (status = 409, description = $refused, body = ErrorBody)),
            security(("bearer" = [])))]
        pub async fn $name<S: BatchStore>(
            State(state): State<AppState<S>>,
            Path(id): Path<String>,
        ) -> Result<Json<ControlAnswer>, ApiError> {
            let $store = &*state.store;
            let $id = parse_id(&id)?;
            let (batch, retried): (Batch, Option<u64>) = $body;
            answer(&state, &batch, retried).await
        }
    };
}

control_endpoint!(
    /// Pause a running batch.
    ///
    /// Nothing new starts; steps under way finish. Already paused: 200.
    pause, "/v1/batches/{id}/pause", "Completed or cancelled",
    |store, id| (batch_control::pause(store, id).await?, None)
);

control_endpoint!(
    /// Resume a paused batch.
    ///
    /// Already running: 200.
    resume, "/v1/batches/{id}/resume", "Completed or cancelled",
    |store, id| (batch_control::resume(store, id).await?, None)
);

control_endpoint!(
    /// Cancel a running or paused batch.
    ///
    /// Mailboxes not finished are cancelled. Already cancelled: 200.
    cancel, "/v1/batches/{id}/cancel", "Completed",
    |store, id| (batch_control::cancel(store, id).await?, None)
);

control_endpoint!(
    /// Retry the failed mailboxes of a batch.
    ///
    /// They start again at the step they failed at, attempts reset; a completed batch runs
    /// again. Answers how many were `retried`.
    retry, "/v1/batches/{id}/retry", "Cancelled",
    |store, id| {
        let out = batch_control::retry(store, id).await?;
        (out.batch, Some(out.retried))
    }
);

/// Delete a finished batch.
///
/// A completed or cancelled batch is removed with its mailboxes and results; its
/// idempotency key may be used again. Download the results first if you need them. A running
/// or paused batch is refused (409): cancel it first. Finished batches are also deleted by
/// themselves after the server's retention time (`--retention-days`).
#[utoipa::path(delete, path = "/v1/batches/{id}", tag = "control",
    params(("id" = String, Path, description = "Batch id")),
    responses((status = 204, description = "Deleted"),
        (status = 401, description = "Missing or unknown token", body = ErrorBody),
        (status = 403, description = "A viewer token", body = ErrorBody),
        (status = 404, description = "No such batch", body = ErrorBody),
        (status = 409, description = "Running or paused", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn delete<S: BatchStore>(
    State(state): State<AppState<S>>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    batch_control::delete(&*state.store, parse_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
