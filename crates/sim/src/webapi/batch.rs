//! `$batch`: many operations in one multipart request, change sets applied all-or-nothing,
//! stopping at the first failure unless `Prefer: odata.continue-on-error` is sent.
//!
//! The batch counts as one request toward the request limit; its execution time is the sum of
//! its operations'.

use crate::webapi::error::WebApiError;
use crate::webapi::journal::Journal;
use crate::webapi::multipart::{self, BatchItem, BatchResponseItem, InnerRequest, InnerResponse};
use crate::webapi::query::Prefer;
use crate::webapi::{API_PREFIX, Ctx, Outcome, Request, dispatch};
use std::sync::atomic::{AtomicU64, Ordering};

/// Most operations one batch may hold (documented limit).
pub const MAX_OPERATIONS: usize = 1000;

/// What a batch did: its HTTP answer and each operation's label and status.
#[derive(Debug)]
pub struct BatchOutcome {
    pub outcome: Outcome,
    pub operations: Vec<(String, u16)>,
}

static BOUNDARY_SEQ: AtomicU64 = AtomicU64::new(1);

/// Splits an inner request URL into the path under the Web API root and the query string.
fn relative_target(url: &str) -> Result<(&str, &str), WebApiError> {
    let without_host = match url.find("://") {
        Some(i) => {
            let rest = &url[i + 3..];
            rest.find('/').map_or("", |slash| &rest[slash..])
        }
        None => url,
    };
    let path_and_query = match without_host.strip_prefix(API_PREFIX) {
        Some(rest) => rest.trim_start_matches('/'),
        None if without_host.starts_with('/') => {
            return Err(WebApiError::bad_query(format!(
                "The URL '{url}' in the batch is not under {API_PREFIX}/."
            )));
        }
        None => without_host,
    };
    Ok(path_and_query.split_once('?').unwrap_or((path_and_query, "")))
}

fn run_one(ctx: &mut Ctx<'_>, inner: &InnerRequest, journal: &mut Journal) -> Outcome {
    let (path, query) = match relative_target(&inner.url) {
        Ok(t) => t,
        Err(e) => return Outcome::error(&e, 0, "invalid".into()),
    };
    let method = inner.method.to_ascii_uppercase();
    let req = Request { method: &method, path, query, headers: &inner.headers, body: &inner.body };
    dispatch(ctx, &req, journal)
}

fn response_of(o: &Outcome, content_id: &Option<String>) -> InnerResponse {
    InnerResponse {
        status: o.status,
        headers: o.headers.clone(),
        body: o.body.clone(),
        content_id: content_id.clone(),
    }
}

pub fn execute(ctx: &mut Ctx<'_>, req: &Request<'_>) -> BatchOutcome {
    match run(ctx, req) {
        Ok(done) => done,
        Err(e) => BatchOutcome {
            outcome: Outcome::error(&e, ctx.costs.batch_overhead, "batch".into()),
            operations: Vec::new(),
        },
    }
}

fn run(ctx: &mut Ctx<'_>, req: &Request<'_>) -> Result<BatchOutcome, WebApiError> {
    if req.method != "POST" {
        return Err(WebApiError::no_resource(&format!("{}/$batch", ctx.base)));
    }
    let boundary = req.header("content-type").and_then(multipart::boundary_of).ok_or_else(|| {
        WebApiError::bad_query(
            "The batch request must have a Content-Type of multipart/mixed with a boundary.",
        )
    })?;
    let items = multipart::parse_batch(req.body, &boundary).map_err(|e| WebApiError::bad_query(e.0))?;
    let total: usize = items
        .iter()
        .map(|i| match i {
            BatchItem::Single(_) => 1,
            BatchItem::ChangeSet(rs) => rs.len(),
        })
        .sum();
    if total > MAX_OPERATIONS {
        return Err(WebApiError::bad_query(format!(
            "The batch holds {total} operations; the maximum is {MAX_OPERATIONS}. Split it into several batches."
        )));
    }
    let prefer = Prefer::parse(req.headers_named("prefer"))?;
    let mut cost = ctx.costs.batch_overhead;
    let mut operations = Vec::new();
    let mut responses = Vec::new();
    for item in &items {
        let failed = match item {
            BatchItem::Single(inner) => {
                let o = run_one(ctx, inner, &mut Journal::default());
                cost += o.cost_ms;
                operations.push((o.op.clone(), o.status));
                responses.push(BatchResponseItem::Single(response_of(&o, &inner.content_id)));
                o.status >= 400
            }
            BatchItem::ChangeSet(inners) => {
                let mut journal = Journal::default();
                let mut done = Vec::new();
                let mut failure = None;
                for inner in inners {
                    let o = run_one(ctx, inner, &mut journal);
                    cost += o.cost_ms;
                    operations.push((o.op.clone(), o.status));
                    if o.status >= 400 {
                        failure = Some(response_of(&o, &inner.content_id));
                        break;
                    }
                    done.push(response_of(&o, &inner.content_id));
                }
                match failure {
                    // A failed change set is rolled back and answered by the failing response alone.
                    Some(err) => {
                        journal.roll_back(ctx.org);
                        responses.push(BatchResponseItem::Single(err));
                        true
                    }
                    None => {
                        responses.push(BatchResponseItem::ChangeSet(done));
                        false
                    }
                }
            }
        };
        if failed && !prefer.continue_on_error {
            break;
        }
    }
    let boundary = format!("batchresponse_{:012x}", BOUNDARY_SEQ.fetch_add(1, Ordering::Relaxed));
    let body = multipart::write_batch_response(&responses, &boundary);
    let mut outcome = Outcome {
        status: 200,
        headers: vec![
            ("Content-Type".into(), format!("multipart/mixed; boundary={boundary}")),
            ("OData-Version".into(), "4.0".into()),
        ],
        body,
        cost_ms: cost,
        op: "batch".into(),
    };
    if prefer.continue_on_error {
        outcome = outcome.with_header("Preference-Applied", "odata.continue-on-error".into());
    }
    Ok(BatchOutcome { outcome, operations })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inner_urls_of_every_form_resolve() {
        let id = "mailboxes(00000000-0000-0000-0000-000000000001)";
        assert_eq!(
            relative_target(&format!("http://h:1/api/data/v9.2/{id}?$select=name")).ok(),
            Some((id, "$select=name"))
        );
        assert_eq!(relative_target(&format!("/api/data/v9.2/{id}")).ok(), Some((id, "")));
        assert_eq!(relative_target(id).ok(), Some((id, "")));
        assert!(relative_target("https://h/other/path").is_err());
    }
}
