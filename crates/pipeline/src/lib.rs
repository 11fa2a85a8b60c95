//! Job-queue wiring: the jobs that carry one item's next step, the queue that transports them
//! (apalis-redis or apalis-sqlite), the feeder that puts only due work into it through a
//! bounded window, and the worker that runs them. The store is the truth; the queue is only
//! transport, so every handler records its outcome in the store and always succeeds toward
//! apalis (apalis's own retries are never used).
//!
//! This is the only crate that names apalis.

pub mod demo_handler;
pub mod error;
pub mod feeder;
pub mod job;
pub mod queue;
pub mod worker;
pub mod worker_name;

pub use error::PipelineError;
pub use feeder::{Feeder, FeederConfig};
pub use job::ItemJob;
pub use queue::{Queue, QueueConfig, QueueTuning};
pub use worker::{WorkerExit, WorkerOptions, run_worker};
pub use worker_name::worker_name;
