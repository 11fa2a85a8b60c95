//! The activation pipeline: the conductor of each batch (prerequisite, planning by bulk reads,
//! feeding, verification sweep, reconciliation, pause/cancel, finish), the jobs that carry one
//! mailbox's next step through the queue (apalis-redis or apalis-sqlite) within a bounded
//! window, the handler that runs a step against Dataverse and records its outcome with our
//! retry policy, and the worker that runs jobs. The store is the truth; the queue is only
//! transport, so every handler records its outcome in the store and always succeeds toward
//! apalis (apalis's own retries are never used).
//!
//! This is the only crate that names apalis.

pub mod admission;
pub mod assemble;
pub mod conductor;
pub mod dataverse_ops;
pub mod demo_handler;
pub mod error;
pub mod feeder;
mod item_change;
pub mod job;
pub mod job_handler;
pub mod local_run;
pub mod next_step;
pub mod queue;
pub mod remedy;
pub mod request_metrics;
pub mod resolve;
pub mod results;
pub mod retry_policy;
pub mod rollout_plan;
pub mod runtime;
pub mod safety;
pub mod selection;
pub mod step_runner;
pub mod sweep;
pub mod worker;
pub mod worker_name;

pub use admission::{AdmissionSettings, NewWork};
pub use assemble::{RedisLocation, connect_dataverse, redis_store};
pub use conductor::{Conducted, Conductor, ConductorSettings};
pub use dataverse_ops::DataverseOps;
pub use error::PipelineError;
pub use feeder::{Feeder, FeederConfig};
pub use job::ItemJob;
pub use job_handler::JobHandler;
pub use queue::{Queue, QueueConfig, QueueTuning};
pub use redis_endpoint::{ClientIdentity, RedisEndpoint};
pub use retry_policy::RetryPolicy;
pub use runtime::{Runtime, RuntimeSettings};
pub use worker::{WorkerExit, WorkerOptions, run_worker};
pub use worker_name::worker_name;
