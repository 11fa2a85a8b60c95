//! The simulator's own endpoints under `/_sim/`: statistics, ground truth of a mailbox, the
//! seeded cases, the behaviour variants, and reset. They need no token and count toward no limit.

use crate::case::Case;
use crate::org::{Org, Row};
use crate::state::{Sim, lock};
use crate::variants::Variants;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;
use uuid::Uuid;

fn writes_summary(org: &Org) -> Value {
    let mut by_count: BTreeMap<u32, u64> = BTreeMap::new();
    let mut total = 0u64;
    for sim in org.mailboxes.values() {
        total += u64::from(sim.writes);
        *by_count.entry(sim.writes).or_default() += 1;
    }
    json!({
        "total": total,
        "max_per_mailbox": by_count.keys().next_back().copied().unwrap_or(0),
        "mailboxes_by_write_count": by_count,
    })
}

/// Members per team, by team name.
fn team_sizes(org: &Org) -> BTreeMap<String, usize> {
    org.table("teams")
        .map(|teams| {
            teams
                .iter()
                .map(|(id, row)| {
                    let name = row.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
                    (name, org.members_of(id).len())
                })
                .collect()
        })
        .unwrap_or_default()
}

pub async fn stats(State(sim): State<Arc<Sim>>) -> Json<Value> {
    let now = Instant::now();
    let stats = lock(&sim.stats).clone();
    let (mailboxes, deleted, pending, writes, teams) = {
        let mut org = lock(&sim.org);
        org.advance(now);
        let deleted = org.mailboxes.values().filter(|m| m.deleted).count();
        (org.mailboxes.len(), deleted, org.pending_count(), writes_summary(&org), team_sizes(&org))
    };
    let variants = *lock(&sim.variants);
    let usage: BTreeMap<String, Value> = {
        let mut limits = lock(&sim.limits);
        sim.clients.iter().map(|c| (c.id.clone(), json!(limits.usage(&c.id, now)))).collect()
    };
    let p = &sim.config.profile;
    Json(json!({
        "requests": stats.requests,
        "batch_operations": stats.batch_operations,
        "throttled": stats.throttled,
        "unauthorized": stats.unauthorized,
        "faults": stats.faults,
        "token_requests": stats.token_requests,
        "exec_ms": stats.exec_ms,
        "in_flight": stats.in_flight,
        "peak_in_flight": stats.peak_in_flight,
        "peak_in_flight_by_client": stats.peak_in_flight_by_client,
        "window_usage": usage,
        "writes": writes,
        "mailboxes": {"seeded": mailboxes, "deleted": deleted},
        "pending_processes": pending,
        "teams": teams,
        "variants": variants,
        "limits": {
            "window_secs": p.window_secs,
            "max_requests": p.max_requests,
            "max_exec_ms": p.max_exec_ms,
            "max_concurrency": p.max_concurrency,
        },
    }))
}

fn sim_error(status: StatusCode, message: String) -> Response {
    (status, Json(json!({"error": {"code": "sim", "message": message}}))).into_response()
}

pub async fn mailbox(State(sim): State<Arc<Sim>>, Path(id): Path<String>) -> Response {
    let Ok(id) = Uuid::parse_str(&id) else {
        return sim_error(StatusCode::BAD_REQUEST, format!("'{id}' is not a GUID"));
    };
    let mut org = lock(&sim.org);
    org.advance(Instant::now());
    let Some(m) = org.mailboxes.get(&id).cloned() else {
        return sim_error(StatusCode::NOT_FOUND, format!("no mailbox {id} was seeded"));
    };
    let row: Option<Row> = org.row("mailboxes", &id).cloned().or(m.last_row.clone());
    let user = org.row("systemusers", &m.user).cloned();
    let roles: Vec<Value> = org
        .user_roles
        .get(&m.user)
        .map(|rs| rs.iter().filter_map(|r| org.row("roles", r)).map(|r| r["name"].clone()).collect())
        .unwrap_or_default();
    let business_unit = user
        .as_ref()
        .and_then(|u| u.get("_businessunitid_value"))
        .and_then(Value::as_str)
        .and_then(|id| Uuid::parse_str(id).ok())
        .and_then(|id| org.row("businessunits", &id))
        .and_then(|unit| unit.get("name").cloned());
    let now = Instant::now();
    let due_in = |d: Option<Instant>| d.map(|d| d.saturating_duration_since(now).as_millis() as u64);
    (
        StatusCode::OK,
        Json(json!({
            "mailboxid": id,
            "case": m.case,
            "deleted": m.deleted,
            "writes": m.writes,
            "mailbox": row,
            "user": user,
            "user_roles": roles,
            "business_unit": business_unit,
            "user_teams": org.team_names_of(&m.user),
            "has_app_role": org.user_has_app_role(&m.user),
            "test_alerts": m.alerts,
            "test_due_in_ms": due_in(m.test_due),
            "deployment_due_in_ms": due_in(m.deploy_due),
        })),
    )
        .into_response()
}

#[derive(Debug, Deserialize)]
pub struct CaseQuery {
    case: Option<String>,
}

/// Seeded mailbox ids by case (all cases, or one with `?case=`), in key order.
pub async fn cases(State(sim): State<Arc<Sim>>, Query(q): Query<CaseQuery>) -> Response {
    let wanted = match q.case.as_deref() {
        None => None,
        Some(name) => match Case::from_name(name) {
            Some(c) => Some(c),
            None => {
                let names: Vec<&str> = Case::ALL.iter().map(|c| c.name()).collect();
                return sim_error(
                    StatusCode::BAD_REQUEST,
                    format!("unknown case '{name}': use one of {}", names.join(", ")),
                );
            }
        },
    };
    (StatusCode::OK, Json(json!(sim.mailboxes_by_case(wanted)))).into_response()
}

pub async fn reset(State(sim): State<Arc<Sim>>) -> StatusCode {
    sim.reset();
    StatusCode::NO_CONTENT
}

/// `POST /_sim/cases/{case}/clear`: the mailboxes seeded in `case` count as normal from now
/// on, as if an admin had fixed what the case stands for (say, granted the approval right);
/// their rows are not changed. Answers how many mailboxes were cleared.
pub async fn clear_case(State(sim): State<Arc<Sim>>, Path(name): Path<String>) -> Response {
    let Some(case) = Case::from_name(&name).filter(|c| *c != Case::Normal) else {
        let names: Vec<&str> = Case::ALL[1..].iter().map(|c| c.name()).collect();
        return sim_error(
            StatusCode::NOT_FOUND,
            format!("unknown case '{name}': use one of {}", names.join(", ")),
        );
    };
    let mut org = lock(&sim.org);
    let mut cleared = 0u64;
    for m in org.mailboxes.values_mut().filter(|m| m.case == case) {
        m.case = Case::Normal;
        cleared += 1;
    }
    (StatusCode::OK, Json(json!({ "case": case.name(), "cleared": cleared }))).into_response()
}

/// Expires every issued token, so clients must fetch new ones.
pub async fn expire_tokens(State(sim): State<Arc<Sim>>) -> StatusCode {
    lock(&sim.tokens).expire_all(Instant::now());
    StatusCode::NO_CONTENT
}

/// The behaviour variants in force.
pub async fn variants(State(sim): State<Arc<Sim>>) -> Json<Variants> {
    Json(*lock(&sim.variants))
}

/// Changes the variants named in the body from now on; answers the variants now in force.
pub async fn set_variants(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let mut current = lock(&sim.variants);
    match current.updated(&body) {
        Ok(new) => {
            *current = new;
            (StatusCode::OK, Json(new)).into_response()
        }
        Err(message) => sim_error(StatusCode::BAD_REQUEST, message),
    }
}
