//! Client-side limiting for the Dataverse Web API's service protection limits.
//!
//! Dataverse throttles each application user on three budgets over a 5-minute sliding window
//! (requests, combined execution time, concurrent requests) and answers 429 with `Retry-After`
//! when one is exhausted. [`Limiter`] is the contract the HTTP client drives; [`LocalLimiter`] is
//! its in-process implementation, which aims at a configurable fraction of each budget so that a
//! steady workload never sees a 429.

mod concurrency;
mod config;
mod gcra;
mod limiter;
mod local;
mod pause;
mod redis;
mod requests;

pub use config::Budgets;
pub use limiter::{BoxFuture, LimitKind, Limiter, Permit, Snapshot};
pub use local::LocalLimiter;
pub use redis::RedisLimiter;
