//! The OpenAPI 3.1 document of the API, generated from the handlers and views with utoipa,
//! served at `/openapi.json` and committed at `docs/openapi.json` (a test keeps the two equal).

use crate::api_error::{ErrorBody, ErrorDetail, Problem};
use crate::batch_actions::ControlAnswer;
use crate::batch_request::{CreateBatchRequest, Duplicate};
use crate::batches::{BatchList, MailboxPage};
use crate::create_batch::CreatedBatch;
use crate::ops::{CheckResult, Health, ReadyReport};
use crate::views::{BatchView, Counts, ErrorView, MailboxView, PausedReasonView};
use crate::{batch_actions, batches, create_batch, events, ops, plans};
use axum::http::header;
use axum::response::IntoResponse;
use utoipa::OpenApi;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "activator",
        description = "Rolls out Dynamics 365 App for Outlook to many Dataverse mailboxes: create batches, \
follow their progress, control them. Every /v1 endpoint needs `Authorization: Bearer TOKEN`: a viewer \
token may read, an operator token may do everything. Every error answers \
`{\"error\": {\"code\", \"message\", \"problems\"?}}`."
    ),
    paths(
        create_batch::create_batch,
        plans::create_plan,
        batches::list_batches,
        batches::get_batch,
        batches::list_mailboxes,
        events::events,
        batch_actions::pause,
        batch_actions::resume,
        batch_actions::cancel,
        batch_actions::retry,
        batch_actions::delete,
        ops::healthz,
        ops::readyz,
        ops::metrics,
        openapi_json,
    ),
    components(schemas(
        BatchView, Counts, PausedReasonView, MailboxView, ErrorView, BatchList, MailboxPage, CreateBatchRequest,
        CreatedBatch, Duplicate, ControlAnswer, ErrorBody, ErrorDetail, Problem, Health, ReadyReport,
        CheckResult
    )),
    modifiers(&BearerAuth),
    tags(
        (name = "batches", description = "Create batches and follow them"),
        (name = "control", description = "Pause, resume, cancel, retry, delete (operator)"),
        (name = "operations", description = "Health, readiness, metrics (no token)")
    )
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
    }
}

/// The document.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// The document as pretty JSON with a final newline, as committed.
pub fn document_json() -> String {
    let mut text = document().to_pretty_json().unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    text.push('\n');
    text
}

/// This document (OpenAPI 3.1).
#[utoipa::path(get, path = "/openapi.json", tag = "operations",
    responses((status = 200, description = "The OpenAPI 3.1 document", body = Object)))]
pub async fn openapi_json() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], document_json())
}
