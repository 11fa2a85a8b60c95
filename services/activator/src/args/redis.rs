//! Where a deployment's Redis is, for the processes that share their work through it.

use anyhow::Result;
use pipeline::RedisLocation;

#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Redis")]
pub struct RedisArgs {
    /// Redis holding batches, jobs and shared limits.
    #[arg(long, env = "ACTIVATOR_REDIS_URL", value_name = "redis://HOST:PORT")]
    pub redis: Option<String>,
    /// Prefix of every Redis key of this deployment (several deployments may share a Redis).
    #[arg(long, default_value = "activator", value_name = "PREFIX")]
    pub namespace: String,
}

impl RedisArgs {
    /// The Redis given, if any.
    pub fn location(&self) -> Option<RedisLocation> {
        self.redis
            .as_deref()
            .filter(|u| !u.trim().is_empty())
            .map(|url| RedisLocation { url: url.to_string(), namespace: self.namespace.clone() })
    }

    /// The Redis given, or the error `missing` when none was.
    pub fn required(&self, missing: &str) -> Result<RedisLocation> {
        self.location().ok_or_else(|| anyhow::anyhow!("{missing}"))
    }
}
