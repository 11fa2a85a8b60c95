//! `activator worker`: a distributed worker over Redis. Any number of them share the batches,
//! the job queue and each application user's limits; each conducts the batches whose lease it
//! holds and runs jobs of all of them.

mod metrics_server;

use crate::client_args::{EnvironmentArgs, LimitArgs};
use crate::signals::stop_on_signals;
use anyhow::{Context, Result};
use dataverse::Dataverse;
use metrics::Metrics;
use pipeline::request_metrics::RequestMetrics;
use pipeline::{
    ConductorSettings, Feeder, FeederConfig, Queue, QueueConfig, QueueTuning, RetryPolicy, Runtime,
    WorkerExit, WorkerOptions,
};
use ratelimit::{Limiter, RedisLimiter};
use std::sync::Arc;
use std::time::Duration;
use store::RedisStore;

#[derive(Debug, clap::Args)]
#[command(after_help = "Stops on SIGTERM or Ctrl-C: takes no more jobs and lets running ones finish within \
the grace period; jobs of a killed worker return to the others within 60 s.")]
pub struct Args {
    /// Redis holding batches, jobs and shared limits.
    #[arg(long, env = "ACTIVATOR_REDIS_URL", value_name = "redis://HOST:PORT")]
    redis: String,
    /// Prefix of every Redis key of this deployment (several deployments may share a Redis).
    #[arg(long, default_value = "activator", value_name = "PREFIX")]
    namespace: String,
    /// Jobs run at once by this process.
    #[arg(long, default_value_t = 128, value_name = "N")]
    concurrency: usize,
    /// Attempts per step before a mailbox fails (429 answers do not count).
    #[arg(long, default_value_t = 5, value_name = "N")]
    max_attempts: u32,
    /// How long running jobs may take to finish after SIGTERM.
    #[arg(long, default_value_t = 20, value_name = "SECS")]
    grace_secs: u64,
    /// Where to serve /metrics (Prometheus) and /healthz; a port of 0 picks a free one.
    #[arg(long, env = "ACTIVATOR_METRICS_LISTEN", default_value = "127.0.0.1:9090", value_name = "ADDR")]
    metrics_listen: String,
    #[command(flatten)]
    env: EnvironmentArgs,
    #[command(flatten)]
    limits: LimitArgs,
}

pub async fn run(args: Args) -> Result<i32> {
    let env = args.env.load()?;
    let metrics = Arc::new(Metrics::new());
    let mut options = args.limits.client_options()?;
    options.observer = Some(Arc::new(RequestMetrics(Arc::clone(&metrics))));
    let mut users = Vec::new();
    for credential in &env.credentials {
        let limiter = RedisLimiter::connect(
            &args.redis,
            &format!("{}:limits", args.namespace),
            &credential.client_id,
            options.budgets,
        )
        .await
        .map_err(anyhow::Error::msg)
        .context("cannot reach Redis for the shared limits: check --redis")?;
        users.push((credential.clone(), Arc::new(limiter) as Arc<dyn Limiter>));
    }
    let dv = Arc::new(Dataverse::with_limiters(&env.url, users, options)?);
    dv.connect().await.with_context(|| format!("cannot reach environment {} at {}", env.name, env.url))?;
    let store = Arc::new(
        RedisStore::connect(&args.redis, &format!("{}:store", args.namespace))
            .await
            .context("cannot reach Redis for the batch store: check --redis")?,
    );
    let sources = metrics_server::Sources {
        store: Arc::clone(&store),
        dataverse: Arc::clone(&dv),
        metrics: Arc::clone(&metrics),
    };
    let (metrics_addr, metrics_task) = metrics_server::start(&args.metrics_listen, sources).await?;
    eprintln!("metrics on http://{metrics_addr}/metrics");
    let tuning = QueueTuning::default();
    let queue = Queue::open(
        &QueueConfig::Redis { url: args.redis.clone(), namespace: format!("{}:jobs", args.namespace) },
        &tuning,
    )
    .await
    .context("cannot open the job queue in Redis")?;
    let name = pipeline::worker_name();
    let mut worker = WorkerOptions::new(name.clone());
    worker.concurrency = args.concurrency.max(1);
    worker.grace = Duration::from_secs(args.grace_secs);
    worker.tuning = tuning;
    let runtime = Runtime {
        store,
        api: dv,
        // Items a dead worker had running are planned again after a minute (DESIGN: a killed
        // worker's jobs come back within 60 s).
        feeder: Arc::new(Feeder::new(
            queue.clone(),
            FeederConfig { stale_after: Duration::from_secs(60), ..FeederConfig::default() },
        )),
        queue,
        metrics,
        conductor: ConductorSettings {
            retry: RetryPolicy { max_attempts: args.max_attempts.max(1), ..RetryPolicy::default() },
            ..ConductorSettings::default()
        },
        worker,
    };
    eprintln!("worker {name} started for environment {} ({})", env.name, env.url);
    let exit = runtime.serve(&env.name, stop_on_signals()).await;
    metrics_task.abort();
    let exit = exit?;
    eprintln!(
        "worker {name} stopped{}",
        if exit == WorkerExit::GraceExpired { " (grace period over)" } else { "" }
    );
    Ok(0)
}
