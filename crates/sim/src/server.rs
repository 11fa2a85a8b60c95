//! The HTTP server: routes, and an accept loop that can drop a connection without answering
//! (the "dropped connection" fault), which a plain `axum::serve` cannot do.

use crate::http_api::{self, DropConnection};
use crate::state::{Sim, SimConfig};
use crate::{sim_endpoints, token_endpoint};
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{any, get, post};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};
use tower::ServiceExt;

/// A client that opens a connection and sends no complete request head is cut off after this.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Largest request body accepted (a `$batch` of 1,000 operations fits easily).
const BODY_LIMIT: usize = 32 * 1024 * 1024;

pub fn router(sim: Arc<Sim>) -> Router {
    Router::new()
        .route("/{tenant}/oauth2/v2.0/token", post(token_endpoint::token))
        .route("/api/data/v9.2", any(http_api::handle))
        .route("/api/data/v9.2/", any(http_api::handle))
        .route("/api/data/v9.2/{*rest}", any(http_api::handle))
        .route("/_sim/stats", get(sim_endpoints::stats))
        .route("/_sim/mailboxes", get(sim_endpoints::cases))
        .route("/_sim/mailboxes/{id}", get(sim_endpoints::mailbox))
        .route("/_sim/variants", get(sim_endpoints::variants).post(sim_endpoints::set_variants))
        .route("/_sim/cases/{case}/clear", post(sim_endpoints::clear_case))
        .route("/_sim/reset", post(sim_endpoints::reset))
        .route("/_sim/tokens/expire", post(sim_endpoints::expire_tokens))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(sim)
}

/// A simulator serving on a socket.
#[derive(Debug)]
pub struct RunningSim {
    /// The org URL and the authority host alike: `http://ADDR`, or the public URL it was
    /// started with.
    pub base_url: String,
    pub addr: SocketAddr,
    pub sim: Arc<Sim>,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl RunningSim {
    /// Root of the Web API.
    pub fn api_url(&self) -> String {
        self.sim.api_base()
    }

    /// Token endpoint for a tenant.
    pub fn token_url(&self, tenant: &str) -> String {
        format!("{}/{tenant}/oauth2/v2.0/token", self.base_url)
    }

    /// Stops accepting, closes open connections and waits for the server task to end.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for RunningSim {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Binds `listen` (port 0 picks a free port), seeds the org and starts serving.
pub async fn start(config: SimConfig, listen: SocketAddr) -> std::io::Result<RunningSim> {
    start_at(config, listen, None).await
}

/// Like [`start`], but gives `public_url` as its own address (in `@odata.nextLink` and the
/// token endpoint's challenge) when clients reach it through another one: a container
/// network, a proxy. Without it, `http://ADDR` of the socket.
pub async fn start_at(
    config: SimConfig,
    listen: SocketAddr,
    public_url: Option<&str>,
) -> std::io::Result<RunningSim> {
    let listener = TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let base_url =
        public_url.map_or_else(|| format!("http://{addr}"), |u| u.trim_end_matches('/').to_string());
    let sim = Arc::new(Sim::new(config, base_url.clone()));
    let app = router(sim.clone());
    let (tx, rx) = oneshot::channel();
    let task = tokio::spawn(serve(listener, app, rx));
    Ok(RunningSim { base_url, addr, sim, shutdown: Some(tx), task })
}

#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by fault injection")
    }
}

impl std::error::Error for Dropped {}

async fn serve(listener: TcpListener, app: Router, mut shutdown: oneshot::Receiver<()>) {
    let mut connections = JoinSet::new();
    loop {
        while connections.try_join_next().is_some() {}
        let accepted = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of file descriptors and the like: back off briefly instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        connections.spawn(async move {
            let service = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                let app = app.clone();
                async move {
                    let resp = match app.oneshot(req.map(axum::body::Body::new)).await {
                        Ok(resp) => resp,
                        Err(never) => match never {},
                    };
                    if resp.extensions().get::<DropConnection>().is_some() {
                        return Err(Dropped);
                    }
                    Ok(resp)
                }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_READ_TIMEOUT)
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
    connections.shutdown().await;
}
