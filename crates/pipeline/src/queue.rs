//! The queue: apalis-redis (shared by many processes) or apalis-sqlite (one file), opened from
//! configuration, with the settings that make it fit a store-driven pipeline:
//!
//! - due work starts fast: workers poll every `poll_interval` (100 ms) instead of waiting for
//!   the next heartbeat when the queue was idle;
//! - a killed worker's jobs come back: heartbeat every 5 s, a worker missing 4 is orphaned, and
//!   the next heartbeat of any live worker re-enqueues its in-flight jobs (≤ 25 s);
//! - apalis's own retries never run: handlers always succeed (see `worker.rs`).

use crate::error::PipelineError;
use crate::job::ItemJob;
use apalis::prelude::TaskSink;
use apalis_core::backend::Vacuum;
use apalis_redis::RedisStorage;
use apalis_sqlite::SqliteStorage;
use apalis_sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use redis_endpoint::RedisEndpoint;
use std::path::PathBuf;
use std::time::Duration;

/// Where the jobs go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueueConfig {
    /// apalis-redis at `endpoint`; every apalis key starts with `namespace` (its queue name).
    Redis { endpoint: RedisEndpoint, namespace: String },
    /// apalis-sqlite in the file at `path` (created if missing).
    Sqlite { path: PathBuf },
}

/// The knobs of apalis 1.0 this pipeline sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueTuning {
    /// How often an idle worker looks for new jobs (`BackendExt::poll_with_interval`).
    pub poll_interval: Duration,
    /// How often a worker proves it is alive and renews its leases (`Config::heartbeat_interval`).
    pub heartbeat_interval: Duration,
    /// Heartbeats a worker may miss before its in-flight jobs are re-enqueued
    /// (`Config::missed_heartbeats`; apalis-redis's `Default` says 10, i.e. 300 s).
    pub missed_heartbeats: usize,
    /// Jobs a worker fetches at once (`Config::batch_size`).
    pub fetch_batch: usize,
}

impl Default for QueueTuning {
    fn default() -> Self {
        QueueTuning {
            poll_interval: Duration::from_millis(100),
            heartbeat_interval: Duration::from_secs(5),
            missed_heartbeats: 4,
            fetch_batch: 50,
        }
    }
}

impl QueueTuning {
    /// After how long without a heartbeat a worker's jobs are handed to others.
    pub fn orphaned_after(&self) -> Duration {
        self.heartbeat_interval * u32::try_from(self.missed_heartbeats).unwrap_or(u32::MAX)
    }

    pub(crate) fn redis_config(&self, namespace: &str) -> apalis_redis::Config {
        apalis_redis::Config::default()
            .queue(namespace)
            .batch_size(self.fetch_batch.max(1))
            .heartbeat_interval(self.heartbeat_interval)
            .missed_heartbeats(self.missed_heartbeats)
            // Acks must be written, or finished jobs stay "in flight" and come back when the
            // worker goes away.
            .persist_results(true)
            .lock_tasks(true)
            // Nobody listens to apalis's pubsub events.
            .emit_events(false)
    }

    pub(crate) fn sqlite_config(&self) -> apalis_sqlite::Config {
        apalis_sqlite::Config::default()
            .queue("pipeline")
            .batch_size(self.fetch_batch.max(1))
            .heartbeat_interval(self.heartbeat_interval)
            .missed_heartbeats(self.missed_heartbeats)
            .persist_results(true)
            .lock_tasks(true)
    }
}

/// An opened queue, able to push jobs; cloning is cheap (clones share the connection).
#[derive(Debug, Clone)]
pub enum Queue {
    Redis(RedisStorage<ItemJob>),
    Sqlite(SqliteStorage<ItemJob>),
}

impl Queue {
    pub async fn open(config: &QueueConfig, tuning: &QueueTuning) -> Result<Queue, PipelineError> {
        match config {
            QueueConfig::Redis { endpoint, namespace } => {
                let client = endpoint.client().map_err(|e| PipelineError::Open(format!("Redis: {e}")))?;
                let conn = client.get_connection_manager().await.map_err(|e| {
                    PipelineError::Open(format!("cannot connect to Redis at {}: {e}", endpoint.address()))
                })?;
                Ok(Queue::Redis(RedisStorage::new(conn).with_config(tuning.redis_config(namespace))))
            }
            QueueConfig::Sqlite { path } => {
                let options = SqliteConnectOptions::new().filename(path).create_if_missing(true);
                let pool = SqlitePoolOptions::new()
                    .connect_with(options)
                    .await
                    .map_err(|e| PipelineError::Open(format!("SQLite {}: {e}", path.display())))?;
                SqliteStorage::setup(&pool)
                    .await
                    .map_err(|e| PipelineError::Open(format!("SQLite {}: {e}", path.display())))?;
                Ok(Queue::Sqlite(SqliteStorage::new(&pool).with_config(tuning.sqlite_config())))
            }
        }
    }

    /// The queue in an SQLite database already open (the store's own file, so that state and
    /// jobs live in one file).
    pub async fn sqlite_on(
        pool: apalis_sqlite::SqlitePool,
        tuning: &QueueTuning,
    ) -> Result<Queue, PipelineError> {
        SqliteStorage::setup(&pool)
            .await
            .map_err(|e| PipelineError::Open(format!("SQLite job table: {e}")))?;
        Ok(Queue::Sqlite(SqliteStorage::new(&pool).with_config(tuning.sqlite_config())))
    }

    /// Removes the jobs that have finished (their outcome is in the store): apalis-sqlite
    /// keeps every job, and the queries a worker runs to take and acknowledge jobs grow with
    /// its table (a 20,000-mailbox batch leaves about 100,000 rows). Returns how many went.
    /// apalis-redis keeps a finished job's data, status and result: Redis would fill up.
    pub async fn prune_finished(&self) -> Result<u64, PipelineError> {
        match self {
            Queue::Redis(s) => {
                let mut storage = s.clone();
                let gone = storage
                    .vacuum()
                    .await
                    .map_err(|e| PipelineError::Push(format!("cannot prune finished jobs: {e}")))?;
                // apalis-redis also adds the id of every finished job to its done set (and of
                // every dead one to its dead set) and never takes it out; the sets only feed
                // its overview counts. Left alone they grow by about five ids per mailbox,
                // forever.
                let config = storage.get_config();
                let sets = [config.done_jobs_set(), config.dead_jobs_set()];
                redis::cmd("UNLINK")
                    .arg(&sets)
                    .query_async::<()>(storage.get_connection())
                    .await
                    .map_err(|e| PipelineError::Push(format!("cannot prune finished jobs: {e}")))?;
                Ok(gone as u64)
            }
            Queue::Sqlite(s) => {
                // apalis's own vacuum also rewrites the whole file (SQLite's VACUUM), which
                // holds the store's write lock for as long as that takes.
                let done = sqlx::query("DELETE FROM Jobs WHERE status IN ('Done', 'Killed')")
                    .execute(s.pool())
                    .await
                    .map_err(|e| PipelineError::Push(format!("cannot prune finished jobs: {e}")))?;
                Ok(done.rows_affected())
            }
        }
    }

    /// Hands many jobs to the queue at once (one round trip or transaction where the backend
    /// allows); all or, on an error, possibly some of them.
    pub async fn push_all(&self, jobs: Vec<ItemJob>) -> Result<(), PipelineError> {
        if jobs.is_empty() {
            return Ok(());
        }
        match self {
            Queue::Redis(s) => {
                s.clone().push_bulk(jobs).await.map_err(|e| PipelineError::Push(e.to_string()))
            }
            Queue::Sqlite(s) => {
                s.clone().push_bulk(jobs).await.map_err(|e| PipelineError::Push(e.to_string()))
            }
        }
    }
}
