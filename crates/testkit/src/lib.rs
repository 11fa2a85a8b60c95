//! Test support shared by the workspace's tests: a Redis to test against (given, private, or in a
//! container; one with TLS; one to kill and restart), the project's binaries and examples built and run as processes (and their ready
//! line read), waiting for a condition, and temporary database files.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod container;
mod processes;
mod redis_process;
mod redis_server;
mod temp_db;
mod tls_redis;
mod wait;

pub use processes::{Running, binary, example, spawn_announcing};
pub use redis_process::{RedisProcess, free_port};
pub use redis_server::{URL_VARIABLE, remove_keys, test_redis_url, unique_prefix};
pub use temp_db::TempDb;
pub use tls_redis::{ClientCerts, TLS_REDIS_PASSWORD, TlsRedis};
pub use wait::{wait_for, wait_for_blocking};
