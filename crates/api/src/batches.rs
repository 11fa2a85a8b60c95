//! Reading batches: the list (newest first, paged by id), one batch's progress, and its
//! mailboxes (optionally in one state, paged by index).

use crate::api_error::{ApiError, ErrorBody};
use crate::query::ApiQuery;
use crate::state::AppState;
use crate::views::{BatchView, MailboxView, batch_view};
use activator_core::ItemState;
use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use store::{Batch, BatchId, BatchStore};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// 1 to 200 (default 50).
    pub limit: Option<usize>,
    /// The `next` of the previous page: batches created before this one.
    pub before: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BatchList {
    pub batches: Vec<BatchView>,
    /// Give as `before` for the next page; null on the last page.
    pub next: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MailboxQuery {
    /// Only mailboxes in this state (pending, queued, running, waiting, verifying, done,
    /// failed, skipped, cancelled).
    pub state: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<u32>,
    /// 1 to 1000 (default 100).
    pub limit: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MailboxPage {
    pub mailboxes: Vec<MailboxView>,
    /// Give as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

fn limit(given: Option<usize>, default: usize, max: usize) -> Result<usize, ApiError> {
    match given.unwrap_or(default) {
        n if (1..=max).contains(&n) => Ok(n),
        n => Err(ApiError::BadRequest(format!("limit {n} is out of range: give 1 to {max}"))),
    }
}

/// A batch id from a path; one that is not a UUID names no batch.
pub fn parse_id(id: &str) -> Result<BatchId, ApiError> {
    id.parse().map_err(|_| {
        ApiError::NotFound(format!("no batch '{id}': batch ids are the UUIDs POST /v1/batches answers"))
    })
}

/// The batch `id`, or 404.
pub async fn find<S: BatchStore>(store: &S, id: &str) -> Result<Batch, ApiError> {
    let id = parse_id(id)?;
    store.batch(id).await?.ok_or_else(|| {
        ApiError::NotFound(format!("batch {id} does not exist: list the batches to find its id"))
    })
}

/// List batches, newest first.
#[utoipa::path(get, path = "/v1/batches", tag = "batches", params(ListQuery),
    responses((status = 200, description = "OK", body = BatchList), (status = 400, description = "Bad query", body = ErrorBody), (status = 401, description = "Missing or unknown token", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_batches<S: BatchStore>(
    State(state): State<AppState<S>>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<BatchList>, ApiError> {
    let limit = limit(query.limit, 50, 200)?;
    let before = match query.before.as_deref() {
        Some(id) => Some(id.parse::<BatchId>().map_err(|_| {
            ApiError::BadRequest(format!(
                "before '{id}' is not a batch id: give the 'next' of the previous page"
            ))
        })?),
        None => None,
    };
    // One more than asked tells whether there is a next page.
    let mut page = state.store.list_batches(before, limit + 1).await?;
    let more = page.len() > limit;
    page.truncate(limit);
    let now = store::clock::now();
    let mut batches = Vec::with_capacity(page.len());
    for batch in &page {
        batches.push(batch_view(&*state.store, batch, now).await?);
    }
    let next = more.then(|| page.last().map(|b| b.id.to_string())).flatten();
    Ok(Json(BatchList { batches, next }))
}

/// A batch's progress: counts by state and by step, rate, ETA, throttling.
#[utoipa::path(get, path = "/v1/batches/{id}", tag = "batches",
    params(("id" = String, Path, description = "Batch id")),
    responses((status = 200, description = "OK", body = BatchView), (status = 401, description = "Missing or unknown token", body = ErrorBody), (status = 404, description = "No such batch", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_batch<S: BatchStore>(
    State(state): State<AppState<S>>,
    Path(id): Path<String>,
) -> Result<Json<BatchView>, ApiError> {
    let batch = find(&*state.store, &id).await?;
    Ok(Json(batch_view(&*state.store, &batch, store::clock::now()).await?))
}

/// A batch's mailboxes in index order: step reached, attempts, last error and its remedy.
#[utoipa::path(get, path = "/v1/batches/{id}/mailboxes", tag = "batches",
    params(("id" = String, Path, description = "Batch id"), MailboxQuery),
    responses((status = 200, description = "OK", body = MailboxPage), (status = 400, description = "Bad query", body = ErrorBody),
        (status = 401, description = "Missing or unknown token", body = ErrorBody), (status = 404, description = "No such batch", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_mailboxes<S: BatchStore>(
    State(state): State<AppState<S>>,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<MailboxQuery>,
) -> Result<Json<MailboxPage>, ApiError> {
    let limit = limit(query.limit, 100, 1_000)?;
    let wanted = match query.state.as_deref() {
        Some(s) => Some(s.parse::<ItemState>().map_err(|e| {
            ApiError::BadRequest(format!("{e}: use one of {}", ItemState::ALL.map(|s| s.name()).join(", ")))
        })?),
        None => None,
    };
    let batch = find(&*state.store, &id).await?;
    let mut items = state.store.items(batch.id, wanted, query.cursor, limit + 1).await?;
    let more = items.len() > limit;
    items.truncate(limit);
    let next_cursor = more.then(|| items.last().map(|i| i.index.to_string())).flatten();
    Ok(Json(MailboxPage { mailboxes: items.iter().map(MailboxView::from).collect(), next_cursor }))
}
