//! The flags of the subcommands, grouped by what they are about; the subcommands flatten the
//! groups they need, so a flag means the same wherever it appears.

pub mod client;
pub mod environment;
pub mod input;
pub mod jobs;
pub mod limits;
pub mod redis;
pub mod safety;
pub mod server;

pub use client::ApiClientArgs;
pub use environment::EnvironmentArgs;
pub use input::{InputArgs, SELECTION, SelectionArgs};
pub use jobs::JobArgs;
pub use limits::LimitArgs;
pub use redis::RedisArgs;
pub use safety::SafetyArgs;
pub use server::ServerArgs;
