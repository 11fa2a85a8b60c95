//! `POST /{tenant}/oauth2/v2.0/token`: the Entra ID client credentials grant.

use crate::state::{Sim, lock};
use axum::Json;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub async fn token(
    State(sim): State<Arc<Sim>>,
    Path(tenant): Path<String>,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    tokio::time::sleep(Duration::from_millis(sim.config.profile.costs.token)).await;
    let fields = match form {
        Ok(Form(f)) => f,
        Err(_) => HashMap::new(),
    };
    let lifetime = sim.config.profile.token_lifetime_secs;
    let result = lock(&sim.tokens).grant(&tenant, &fields, (lifetime.min, lifetime.max), Instant::now());
    let (status, body) = match result {
        Ok(body) => (StatusCode::OK, body),
        Err(e) => (StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST), e.body()),
    };
    *lock(&sim.stats).token_requests.entry(status.as_u16()).or_default() += 1;
    (status, Json(body)).into_response()
}
