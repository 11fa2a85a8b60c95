//! `activator serve`: the HTTP API and a worker in one process. Without `--redis`, state and
//! jobs live in one SQLite file and this process does all the work; with `--redis`, it is an
//! `activator api` and an `activator worker` at once, beside any number of others.

use crate::args::{EnvironmentArgs, JobArgs, LimitArgs, RedisArgs, ServerArgs, server};
use crate::dataverse_tenant::DataverseTenant;
use crate::signals::stop_on_signals;
use crate::worker::{self, budget_gauges};
use anyhow::{Context, Result};
use dataverse::{Dataverse, EnvironmentConfig};
use metrics::Metrics;
use pipeline::Runtime;
use std::path::PathBuf;
use std::sync::Arc;
use store::BatchStore;
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
    server: ServerArgs,
    #[command(flatten)]
    env: EnvironmentArgs,
    #[command(flatten)]
    limits: LimitArgs,
}

pub async fn run(args: Args) -> Result<i32> {
    let env = args.env.load()?;
    let metrics = Arc::new(Metrics::new());
    let options = args.limits.observed_options(&metrics)?;
    let stop = stop_on_signals();
    let location = args.redis.location()?;
    let tenant = Arc::new(DataverseTenant::new(
        std::slice::from_ref(&env),
        args.limits.dataverse_options()?,
        location.clone(),
    ));
    match location {
        Some(redis) => {
            let settings = args.jobs.settings(pipeline::worker_name());
            let runtime = Runtime::redis(&redis, &env, options, metrics, settings).await?;
            both(&runtime, &env, &args.server, tenant, stop).await?;
        }
        None => {
            let settings = args.jobs.settings(format!("serve-{}", pipeline::worker_name()));
            let runtime = Runtime::embedded(&args.state, &env, options, metrics, settings).await?;
            // This process owns the state file: what an earlier one left queued or running is
            // planned again (checked against Dataverse) before anything is sent.
            runtime
                .recover_open_batches(&env.name)
                .await
                .with_context(|| format!("cannot take up the batches in {}", args.state.display()))?;
            both(&runtime, &env, &args.server, tenant, stop).await?;
        }
    }
    Ok(0)
}

/// Serves the API and works on the batches of `env` until `stop` turns true.
async fn both<S: BatchStore>(
    runtime: &Runtime<S, Dataverse>,
    env: &EnvironmentConfig,
    server: &ServerArgs,
    tenant: Arc<DataverseTenant>,
    stop: watch::Receiver<bool>,
) -> Result<()> {
    let environments = std::slice::from_ref(env);
    let api = server.start(
        Arc::clone(&runtime.store),
        Arc::clone(&runtime.metrics),
        environments,
        Some(budget_gauges(&runtime.dataverse)),
        tenant,
        stop.clone(),
    );
    let api = api.await?;
    if let Err(e) = worker::work(runtime, env, stop).await {
        api.abort();
        return Err(e);
    }
    server::finish(api).await
}
