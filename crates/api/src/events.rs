//! `GET /v1/batches/{id}/events`: server-sent events of a batch's progress. A `progress` event
//! (the BatchView) at once, then whenever the view changes, at most one per `events_every`
//! (500 ms: two a second); a `paused` event instead when the batch has just paused itself
//! (its view carries the reason); when the batch has ended, a last `end` event and the stream
//! closes.
//! A keep-alive comment every 15 s keeps proxies from closing a quiet stream. The stream is
//! not subject to the request timeout, and ends when the process stops.

use crate::api_error::{ApiError, ErrorBody};
use crate::batches::find;
use crate::state::AppState;
use crate::views::{BatchView, batch_view};
use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use std::convert::Infallible;
use store::{BatchId, BatchStore};
use tokio::sync::watch;

/// What one event stream has sent, and what it still has to.
struct Watching<S> {
    state: AppState<S>,
    id: BatchId,
    /// The last view sent.
    last: Option<BatchView>,
    /// An event to send before reading again (the `end` after a last `progress`).
    queued: Option<Event>,
    started: bool,
    finished: bool,
    stop: watch::Receiver<bool>,
}

fn event(name: &str, view: &BatchView) -> Event {
    Event::default()
        .event(name)
        .json_data(view)
        .unwrap_or_else(|e| Event::default().event("error").data(format!("cannot encode the batch: {e}")))
}

/// Whether two views differ in more than the passing of time (rate and ETA change by
/// themselves).
fn changed(last: Option<&BatchView>, now: &BatchView) -> bool {
    last.is_none_or(|last| {
        let timeless = |v: &BatchView| BatchView { rate_per_sec: None, eta_secs: None, ..v.clone() };
        timeless(last) != timeless(now)
    })
}

/// Waits until the process stops (never, when nobody can say so any more).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    if stop.wait_for(|s| *s).await.is_err() {
        std::future::pending::<()>().await;
    }
}

async fn next_event<S: BatchStore>(mut w: Watching<S>) -> Option<(Result<Event, Infallible>, Watching<S>)> {
    if let Some(e) = w.queued.take() {
        return Some((Ok(e), w));
    }
    if w.finished {
        return None;
    }
    loop {
        if w.started {
            tokio::select! {
                _ = tokio::time::sleep(w.state.config.events_every) => {}
                _ = stopped(&mut w.stop) => return None,
            }
        }
        w.started = true;
        let store = &*w.state.store;
        let view = match store.batch(w.id).await {
            Ok(Some(batch)) => batch_view(store, &batch, store::clock::now()).await,
            Ok(None) => return None,
            Err(e) => Err(e),
        };
        let view = match view {
            Ok(view) => view,
            Err(e) => {
                tracing::warn!(batch = %w.id, error = %e, "cannot read the batch for its events; trying again");
                continue;
            }
        };
        let fresh = changed(w.last.as_ref(), &view);
        if view.ended() {
            w.finished = true;
            let end = event("end", &view);
            if !fresh {
                return Some((Ok(end), w));
            }
            w.queued = Some(end);
        } else if !fresh {
            continue;
        }
        let newly_paused =
            view.paused_reason.is_some() && w.last.as_ref().is_none_or(|last| last.paused_reason.is_none());
        let progress = event(if newly_paused { "paused" } else { "progress" }, &view);
        w.last = Some(view);
        return Some((Ok(progress), w));
    }
}

/// Progress events of a batch (text/event-stream).
///
/// Event `progress`: a BatchView, at once and then whenever it changes (at most 2 per second).
/// Event `paused`: the BatchView, with its `paused_reason`, when the batch has just paused
/// itself (a failed canary, a tripped circuit breaker, a missing prerequisite).
/// Event `end`: the final BatchView once the batch has ended (completed, or cancelled with every
/// mailbox final); the stream then closes. A keep-alive comment every 15 s.
#[utoipa::path(get, path = "/v1/batches/{id}/events", tag = "batches",
    params(("id" = String, Path, description = "Batch id")),
    responses(
        (status = 200, description = "Events `progress`, `paused` and `end`, each with a BatchView as data",
            content_type = "text/event-stream", body = BatchView),
        (status = 401, description = "Missing or unknown token", body = ErrorBody), (status = 404, description = "No such batch", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn events<S: BatchStore>(
    State(state): State<AppState<S>>,
    Path(id): Path<String>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let batch = find(&*state.store, &id).await?;
    let keep_alive = KeepAlive::new().interval(state.config.keep_alive);
    let watching = Watching {
        stop: state.stop.clone(),
        state,
        id: batch.id,
        last: None,
        queued: None,
        started: false,
        finished: false,
    };
    Ok(Sse::new(futures_util::stream::unfold(watching, next_event)).keep_alive(keep_alive))
}
