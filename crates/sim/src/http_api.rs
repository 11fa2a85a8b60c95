//! The HTTP face of the Web API: bearer-token check, service protection limits, injected
//! faults, the operation itself, and the time it takes.

use crate::auth::BearerError;
use crate::faults::{self, Fault};
use crate::limits::Throttled;
use crate::state::{Sim, lock};
use crate::stats::Stats;
use crate::webapi::error::WebApiError;
use crate::webapi::journal::Journal;
use crate::webapi::{API_PREFIX, Ctx, Outcome, Request, batch, dispatch, label_for};
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Marks a response whose connection must be closed without sending it.
#[derive(Debug, Clone, Copy)]
pub struct DropConnection;

/// Ends an admitted request even if the client goes away mid-way, so no concurrency slot leaks.
struct Admitted {
    sim: Arc<Sim>,
    client: String,
    cost_ms: u64,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        lock(&self.sim.limits).finish(&self.client, Instant::now(), self.cost_ms);
        let mut stats = lock(&self.sim.stats);
        stats.leave();
        *stats.exec_ms.entry(self.client.clone()).or_default() += self.cost_ms;
    }
}

fn to_response(outcome: Outcome) -> Response {
    let mut builder = Response::builder()
        .status(StatusCode::from_u16(outcome.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR));
    for (name, value) in &outcome.headers {
        if let Ok(v) = HeaderValue::from_str(value) {
            builder = builder.header(name.as_str(), v);
        }
    }
    builder
        .body(Body::from(outcome.body))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

fn unauthorized(sim: &Sim) -> Response {
    // Dataverse answers 401 with an empty body and tells where to get a token.
    let challenge = format!(
        "Bearer authorization_uri={}/common/oauth2/authorize, resource_id={}/",
        sim.base_url, sim.base_url
    );
    let mut resp = StatusCode::UNAUTHORIZED.into_response();
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    resp
}

fn throttled(sim: &Sim, t: Throttled) -> Response {
    let message = lock(&sim.limits).config().message(t.limit);
    let error = WebApiError::new(429, t.limit.code(), message);
    let mut resp = to_response(Outcome::error(&error, 0, String::new()));
    resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(t.retry_after_secs()));
    resp
}

pub async fn handle(
    State(sim): State<Arc<Sim>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let now = Instant::now();
    let path = uri.path().strip_prefix(API_PREFIX).unwrap_or_default().trim_start_matches('/');
    let query = uri.query().unwrap_or_default();
    let label = label_for(method.as_str(), path);
    let authorization = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());

    let checked = lock(&sim.tokens).check(authorization, now);
    let client = match checked {
        Ok(c) => c,
        Err(reason) => {
            let mut stats = lock(&sim.stats);
            let name = match reason {
                BearerError::Missing => "missing",
                BearerError::Invalid => "invalid",
                BearerError::Expired => "expired",
            };
            *stats.unauthorized.entry(name).or_default() += 1;
            Stats::count(&mut stats.requests, &label, 401);
            return unauthorized(&sim);
        }
    };
    let admission = lock(&sim.limits).admit(&client, now);
    if let Err(t) = admission {
        let mut stats = lock(&sim.stats);
        *stats.throttled.entry(t.limit.name()).or_default() += 1;
        Stats::count(&mut stats.requests, &label, 429);
        drop(stats);
        return throttled(&sim, t);
    }
    let mut admitted = Admitted { sim: sim.clone(), client: client.clone(), cost_ms: 0 };
    {
        let in_flight = lock(&sim.limits).usage(&client, now).in_flight;
        let mut stats = lock(&sim.stats);
        stats.enter();
        let peak = stats.peak_in_flight_by_client.entry(client.clone()).or_default();
        *peak = (*peak).max(in_flight);
    }

    let profile = &sim.config.profile;
    let fault = faults::draw(&mut lock(&sim.fault_rng), profile.fault_rate, profile.slow_ms);
    if let Some(f) = fault {
        *lock(&sim.stats).faults.entry(f.name()).or_default() += 1;
    }
    let early = match fault {
        Some(Fault::ServerError) => {
            Some(to_response(Outcome::error(&WebApiError::unexpected(), 0, String::new())))
        }
        Some(Fault::Unavailable) => {
            Some(to_response(Outcome::error(&WebApiError::unavailable(), 0, String::new())))
        }
        Some(Fault::ExpiredToken) => {
            lock(&sim.tokens).expire(authorization, now);
            Some(unauthorized(&sim))
        }
        _ => None,
    };
    if let Some(resp) = early {
        Stats::count(&mut lock(&sim.stats).requests, &label, resp.status().as_u16());
        return resp;
    }

    let header_pairs: Vec<(String, String)> = headers
        .iter()
        .filter_map(|(n, v)| v.to_str().ok().map(|v| (n.as_str().to_string(), v.to_string())))
        .collect();
    let req = Request { method: method.as_str(), path, query, headers: &header_pairs, body: &body };
    let base = sim.api_base();
    let variants = *lock(&sim.variants);
    let (outcome, inner_ops) = {
        let mut org = lock(&sim.org);
        org.advance(now);
        let caller = org.app_users.get(&client).copied().unwrap_or_default();
        let mut ctx = Ctx {
            org: &mut org,
            base: &base,
            costs: &profile.costs,
            caller,
            dop_hint: profile.dop_hint,
            now,
            variants,
        };
        if label == "batch" {
            let done = batch::execute(&mut ctx, &req);
            (done.outcome, done.operations)
        } else {
            (dispatch(&mut ctx, &req, &mut Journal::default()), Vec::new())
        }
    };
    {
        let mut stats = lock(&sim.stats);
        Stats::count(&mut stats.requests, &outcome.op, outcome.status);
        for (op, status) in &inner_ops {
            Stats::count(&mut stats.batch_operations, op, *status);
        }
    }
    let slow = match fault {
        Some(Fault::Slow(d)) => d,
        _ => Duration::ZERO,
    };
    let taken = Duration::from_millis(outcome.cost_ms) + slow;
    admitted.cost_ms = taken.as_millis() as u64;
    tokio::time::sleep(taken).await;
    drop(admitted);

    let mut resp = to_response(outcome);
    if fault == Some(Fault::DropConnection) {
        resp.extensions_mut().insert(DropConnection);
    }
    resp
}
