//! `activator worker`: a distributed worker over Redis. Any number of them share the batches,
//! the job queue and each application user's limits; each conducts the batches whose lease it
//! holds and runs jobs of all of them.

mod metrics_server;

use crate::client_args::{EnvironmentArgs, LimitArgs};
use crate::clients::{self, SharedLimits};
use crate::signals::stop_on_signals;
use anyhow::{Context, Result};
use dataverse::{Dataverse, EnvironmentConfig};
use metrics::Metrics;
use pipeline::{FeederConfig, Queue, QueueConfig, Runtime, RuntimeSettings, WorkerExit};
use std::sync::Arc;
use std::time::Duration;
use store::RedisStore;
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

/// Where a deployment's Redis is.
#[derive(Debug, Clone, clap::Args)]
pub struct RedisArgs {
    /// Redis holding batches, jobs and shared limits.
    #[arg(long, env = "ACTIVATOR_REDIS_URL", value_name = "redis://HOST:PORT")]
    pub redis: Option<String>,
    /// Prefix of every Redis key of this deployment (several deployments may share a Redis).
    #[arg(long, default_value = "activator", value_name = "PREFIX")]
    pub namespace: String,
}

impl RedisArgs {
    /// The Redis URL, or the error `missing` when none was given.
    pub fn url(&self, missing: &str) -> Result<&str> {
        self.redis.as_deref().filter(|u| !u.trim().is_empty()).ok_or_else(|| anyhow::anyhow!("{missing}"))
    }
}

/// How a process runs jobs.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Jobs")]
pub struct JobArgs {
    /// Jobs run at once by this process.
    #[arg(long, default_value_t = 128, value_name = "N")]
    concurrency: usize,
    /// Attempts per step before a mailbox fails (429 answers do not count).
    #[arg(long, default_value_t = 5, value_name = "N")]
    max_attempts: u32,
    /// How long running jobs may take to finish after SIGTERM.
    #[arg(long, default_value_t = 20, value_name = "SECS")]
    grace_secs: u64,
}

impl JobArgs {
    pub fn settings(&self, worker_name: String) -> RuntimeSettings {
        let mut settings = RuntimeSettings::new(worker_name);
        settings.concurrency = self.concurrency;
        settings.max_attempts = self.max_attempts;
        settings.grace = Duration::from_secs(self.grace_secs);
        settings
    }
}

/// The store `{namespace}:store` in Redis, which every api and worker process of a deployment
/// shares.
pub async fn redis_store(redis: &str, namespace: &str) -> Result<Arc<RedisStore>> {
    let store = RedisStore::connect(redis, &format!("{namespace}:store"))
        .await
        .context("cannot reach Redis for the batch store: check --redis")?;
    Ok(Arc::new(store))
}

/// A worker's runtime over Redis: the shared store, queue and limits.
pub async fn redis_runtime(
    redis: &str,
    namespace: &str,
    jobs: &JobArgs,
    env: &EnvironmentConfig,
    limits: &LimitArgs,
    metrics: Arc<Metrics>,
) -> Result<Runtime<RedisStore, Dataverse>> {
    let shared = SharedLimits { url: redis, namespace };
    let dv = clients::connect(env, limits.observed_options(&metrics)?, Some(shared)).await?;
    let store = redis_store(redis, namespace).await?;
    let mut settings = jobs.settings(pipeline::worker_name());
    let queue = Queue::open(
        &QueueConfig::Redis { url: redis.to_string(), namespace: format!("{namespace}:jobs") },
        &settings.tuning,
    )
    .await
    .context("cannot open the job queue in Redis")?;
    // Items a dead worker had running are planned again after a minute (DESIGN: a killed
    // worker's jobs come back within 60 s).
    settings.feeder = FeederConfig { stale_after: Duration::from_secs(60), ..FeederConfig::default() };
    Ok(Runtime::new(store, dv, queue, metrics, settings))
}

/// Runs jobs and conducts the batches of `env` until `stop` turns true.
pub async fn work<S: store::BatchStore>(
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
    let redis = args.redis.url(
        "activator worker shares its work with other processes over Redis: give --redis (or set \
         ACTIVATOR_REDIS_URL), or use `activator serve` for one process with the embedded store",
    )?;
    let env = args.env.load()?;
    let metrics = Arc::new(Metrics::new());
    let runtime =
        redis_runtime(redis, &args.redis.namespace, &args.jobs, &env, &args.limits, metrics).await?;
    let sources = metrics_server::Sources {
        store: Arc::clone(&runtime.store),
        dataverse: Arc::clone(&runtime.api),
        metrics: Arc::clone(&runtime.metrics),
    };
    let (metrics_addr, metrics_task) = metrics_server::start(&args.metrics_listen, sources).await?;
    eprintln!("metrics on http://{metrics_addr}/metrics");
    let worked = work(&runtime, &env, stop_on_signals()).await;
    metrics_task.abort();
    worked?;
    Ok(0)
}
