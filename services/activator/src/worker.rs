//! `activator worker`: a distributed worker over Redis. Any number of them share the batches,
//! the job queue and each application user's limits; each conducts the batches whose lease it
//! holds and runs jobs of all of them.

use crate::args::{EnvironmentArgs, JobArgs, LimitArgs, RedisArgs};
use crate::signals::stop_on_signals;
use anyhow::{Context, Result};
use api::{MetricsSource, ScrapeHook};
use dataverse::{Dataverse, EnvironmentConfig};
use metrics::Metrics;
use pipeline::{Runtime, WorkerExit};
use std::sync::Arc;
use store::BatchStore;
use tokio::sync::watch;

#[derive(Debug, clap::Args)]
#[command(after_help = "Stops on SIGTERM or Ctrl-C: takes no more jobs and lets running ones finish within \
the grace period; jobs of a killed worker return to the others within 60 s.")]
pub struct Args {
    #[command(flatten)]
    redis: RedisArgs,
    #[command(flatten)]
    jobs: JobArgs,
    #[command(flatten)]
    env: EnvironmentArgs,
    #[command(flatten)]
    limits: LimitArgs,
    /// Where to serve /metrics (Prometheus) and /healthz; a port of 0 picks a free one.
    #[arg(long, env = "ACTIVATOR_METRICS_LISTEN", default_value = "127.0.0.1:9090", value_name = "ADDR")]
    metrics_listen: String,
}

/// Refreshes the budget gauges from this process's own limiters at each scrape.
pub fn budget_gauges(dataverse: &Arc<Dataverse>) -> ScrapeHook {
    let dataverse = Arc::clone(dataverse);
    Arc::new(move |m| pipeline::request_metrics::refresh_budgets(&dataverse, m))
}

/// Runs jobs and conducts the batches of `env` until `stop` turns true.
pub async fn work<S: BatchStore>(
    runtime: &Runtime<S, Dataverse>,
    env: &EnvironmentConfig,
    stop: watch::Receiver<bool>,
) -> Result<()> {
    let name = &runtime.worker.name;
    eprintln!("worker {name} started for environment {} ({})", env.name, env.url);
    let exit = runtime.serve(&env.name, stop).await?;
    eprintln!(
        "worker {name} stopped{}",
        if exit == WorkerExit::GraceExpired { " (grace period over)" } else { "" }
    );
    Ok(())
}

pub async fn run(args: Args) -> Result<i32> {
    let redis = args.redis.required(
        "activator worker shares its work with other processes over Redis: give --redis (or set \
         ACTIVATOR_REDIS_URL), or use `activator serve` for one process with the embedded store",
    )?;
    let env = args.env.load()?;
    let metrics = Arc::new(Metrics::new());
    let options = args.limits.observed_options(&metrics)?;
    let settings = args.jobs.settings(pipeline::worker_name());
    let runtime = Runtime::redis(&redis, &env, options, metrics, settings).await?;
    let source = MetricsSource {
        store: Arc::clone(&runtime.store),
        metrics: Arc::clone(&runtime.metrics),
        on_scrape: Some(budget_gauges(&runtime.dataverse)),
    };
    let listener = tokio::net::TcpListener::bind(&args.metrics_listen).await.with_context(|| {
        format!("cannot listen for /metrics on {}: check --metrics-listen", args.metrics_listen)
    })?;
    eprintln!("metrics on http://{}/metrics", listener.local_addr()?);
    let stop = stop_on_signals();
    let metrics_task = tokio::spawn(api::serve(listener, api::metrics_router(source), stop.clone()));
    let worked = work(&runtime, &env, stop).await;
    metrics_task.abort();
    worked?;
    Ok(0)
}
