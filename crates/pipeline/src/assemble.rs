//! A runtime for each way the product runs, built in one place:
//!
//! - [`Runtime::embedded`]: one process owns an SQLite file holding state and jobs, with a
//!   limiter per application user in this process (`activator run`, `activator serve`);
//! - [`Runtime::redis`]: any number of processes share the store, the job queue and each
//!   application user's limits in Redis (`activator worker`, `activator serve --redis`).
//!
//! Both connect to Dataverse first (every application user asked WhoAmI), so a wrong secret or
//! URL is reported before anything else happens.

use crate::error::PipelineError;
use crate::queue::{Queue, QueueConfig};
use crate::runtime::{Runtime, RuntimeSettings, steps_at_once};
use dataverse::{Dataverse, DataverseOptions, EnvironmentConfig};
use metrics::Metrics;
use ratelimit::{Limiter, RedisLimiter};
use redis_endpoint::RedisEndpoint;
use std::path::Path;
use std::sync::Arc;
use store::{RedisStore, SqliteStore};

/// A deployment's Redis: where it is, and the prefix of every key of this deployment (several
/// deployments may share one Redis).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisLocation {
    pub endpoint: RedisEndpoint,
    pub namespace: String,
}

impl RedisLocation {
    /// Keys of the batch store.
    pub fn store_prefix(&self) -> String {
        format!("{}:store", self.namespace)
    }

    /// Keys of the job queue (apalis-redis's queue name).
    pub fn queue_prefix(&self) -> String {
        format!("{}:jobs", self.namespace)
    }

    /// Keys of the application users' shared limits.
    pub fn limits_prefix(&self) -> String {
        format!("{}:limits", self.namespace)
    }
}

/// The batch store every process of the deployment at `redis` shares.
pub async fn redis_store(redis: &RedisLocation) -> Result<Arc<RedisStore>, PipelineError> {
    let store = RedisStore::connect(&redis.endpoint, &redis.store_prefix())
        .await
        .map_err(|e| PipelineError::Connect(format!("the batch store in Redis: {e}")))?;
    Ok(Arc::new(store))
}

/// The Dataverse client of `env`, connected: each application user with a limiter of its own
/// in this process, or (with `shared`) one shared through Redis by every process.
pub async fn connect_dataverse(
    env: &EnvironmentConfig,
    options: DataverseOptions,
    shared: Option<&RedisLocation>,
) -> Result<Arc<Dataverse>, PipelineError> {
    let dataverse = match shared {
        None => Dataverse::new(&env.url, env.credentials.clone(), options)?,
        Some(redis) => {
            let mut users = Vec::new();
            for credential in &env.credentials {
                let limiter = RedisLimiter::connect(
                    &redis.endpoint,
                    &redis.limits_prefix(),
                    &credential.client_id,
                    options.budgets,
                )
                .await
                .map_err(|e| PipelineError::Connect(format!("the shared limits in Redis: {e}")))?;
                users.push((credential.clone(), Arc::new(limiter) as Arc<dyn Limiter>));
            }
            Dataverse::with_limiters(&env.url, users, options)?
        }
    };
    dataverse.connect().await.map_err(|e| PipelineError::Environment {
        name: env.name.clone(),
        url: env.url.clone(),
        source: e,
    })?;
    Ok(Arc::new(dataverse))
}

impl Runtime<SqliteStore, Dataverse> {
    /// State and jobs in the SQLite file at `state` (created if missing), owned by this process.
    pub async fn embedded(
        state: &Path,
        env: &EnvironmentConfig,
        options: DataverseOptions,
        metrics: Arc<Metrics>,
        settings: RuntimeSettings,
    ) -> Result<Self, PipelineError> {
        let dataverse = connect_dataverse(env, options, None).await?;
        let settings = RuntimeSettings {
            concurrency: settings.concurrency.or(Some(steps_at_once(dataverse.capacity()))),
            ..settings
        };
        let store = Arc::new(SqliteStore::open(state).await?);
        let queue = Queue::sqlite_on(store.pool(), &settings.tuning).await?;
        Ok(Runtime::new(store, dataverse, queue, metrics, settings))
    }
}

impl Runtime<RedisStore, Dataverse> {
    /// Store, job queue and limits shared through `redis` with every other process of the
    /// deployment.
    pub async fn redis(
        redis: &RedisLocation,
        env: &EnvironmentConfig,
        options: DataverseOptions,
        metrics: Arc<Metrics>,
        settings: RuntimeSettings,
    ) -> Result<Self, PipelineError> {
        let dataverse = connect_dataverse(env, options, Some(redis)).await?;
        let settings = RuntimeSettings {
            concurrency: settings.concurrency.or(Some(steps_at_once(dataverse.capacity()))),
            ..settings
        };
        let store = redis_store(redis).await?;
        let queue = Queue::open(
            &QueueConfig::Redis { endpoint: redis.endpoint.clone(), namespace: redis.queue_prefix() },
            &settings.tuning,
        )
        .await?;
        Ok(Runtime::new(store, dataverse, queue, metrics, settings))
    }
}
