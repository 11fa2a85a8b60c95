//! `activator serve`: the HTTP API and a worker in one process. Without `--redis`, state and
//! jobs live in one SQLite file and this process does all the work; with `--redis`, it is an
//! `activator api` and an `activator worker` at once, beside any number of others.

use crate::api_args::{self, ApiArgs};
use crate::client_args::{EnvironmentArgs, LimitArgs};
use crate::clients;
use crate::signals::stop_on_signals;
use crate::worker::{self, JobArgs, RedisArgs};
use anyhow::{Context, Result};
use dataverse::{Dataverse, EnvironmentConfig};
use metrics::Metrics;
use pipeline::{Queue, Runtime};
use std::path::PathBuf;
use std::sync::Arc;
use store::{BatchStore, SqliteStore};
use tokio::sync::watch;

#[derive(Debug, clap::Args)]
#[command(after_help = "API tokens: ACTIVATOR_API_TOKENS (or --tokens-file) holds comma-separated \
role:token or role:sha256:HEX entries, role operator (may write) or viewer (may read).\n\
Stops on SIGTERM or Ctrl-C: takes no more jobs, lets running ones finish within the grace period, \
and answers the requests under way.")]
pub struct Args {
    #[command(flatten)]
    redis: RedisArgs,
    /// SQLite file holding batches and jobs when there is no --redis (created if missing).
    #[arg(long, env = "ACTIVATOR_STATE", default_value = "activator-state.db", value_name = "FILE.db")]
    state: PathBuf,
    #[command(flatten)]
    jobs: JobArgs,
    #[command(flatten)]
    api: ApiArgs,
    #[command(flatten)]
    env: EnvironmentArgs,
    #[command(flatten)]
    limits: LimitArgs,
}

pub async fn run(args: Args) -> Result<i32> {
    let env = args.env.load()?;
    let metrics = Arc::new(Metrics::new());
    let stop = stop_on_signals();
    match args.redis.redis.as_deref() {
        Some(redis) => {
            let runtime =
                worker::redis_runtime(redis, &args.redis.namespace, &args.jobs, &env, &args.limits, metrics)
                    .await?;
            both(&runtime, &env, &args.api, stop).await?;
        }
        None => {
            let options = args.limits.observed_options(&metrics)?;
            let dv = clients::connect(&env, options, None).await?;
            let store = Arc::new(SqliteStore::open(&args.state).await?);
            let settings = args.jobs.settings(format!("serve-{}", pipeline::worker_name()));
            let queue = Queue::sqlite_on(store.pool(), &settings.tuning).await?;
            let runtime = Runtime::new(store, dv, queue, metrics, settings);
            // This process owns the state file: what an earlier one left queued or running is
            // planned again (checked against Dataverse) before anything is sent.
            runtime
                .recover_open_batches(&env.name)
                .await
                .with_context(|| format!("cannot take up the batches in {}", args.state.display()))?;
            both(&runtime, &env, &args.api, stop).await?;
        }
    }
    Ok(0)
}

/// Serves the API and works on the batches of `env` until `stop` turns true.
async fn both<S: BatchStore>(
    runtime: &Runtime<S, Dataverse>,
    env: &EnvironmentConfig,
    api: &ApiArgs,
    stop: watch::Receiver<bool>,
) -> Result<()> {
    let environments = std::slice::from_ref(env);
    // The budget gauges come from this process's own limiters.
    let dv = Arc::clone(&runtime.api);
    let budgets: api::ScrapeHook = Arc::new(move |m| pipeline::request_metrics::refresh_budgets(&dv, m));
    let server = api.start(
        Arc::clone(&runtime.store),
        Arc::clone(&runtime.metrics),
        environments,
        Some(budgets),
        stop.clone(),
    );
    let server = server.await?;
    if let Err(e) = worker::work(runtime, env, stop).await {
        server.abort();
        return Err(e);
    }
    api_args::finish(server).await
}
