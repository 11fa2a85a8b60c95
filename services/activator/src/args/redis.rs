//! Where a deployment's Redis is, for the processes that share their work through it, and how
//! to reach it over TLS.

use anyhow::{Result, bail};
use pipeline::{ClientIdentity, RedisEndpoint, RedisLocation};
use std::path::PathBuf;

#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Redis")]
pub struct RedisArgs {
    /// Redis holding batches, jobs and shared limits. rediss:// speaks TLS (Azure Cache for
    /// Redis: rediss://:ACCESS-KEY@NAME.redis.cache.windows.net:6380); a user and password
    /// may be given in the URL.
    #[arg(long, env = "ACTIVATOR_REDIS_URL", value_name = "redis://HOST:PORT", hide_env_values = true)]
    pub redis: Option<String>,
    /// Prefix of every Redis key of this deployment (several deployments may share a Redis).
    #[arg(long, default_value = "activator", value_name = "PREFIX")]
    pub namespace: String,
    /// CA certificates (PEM) to trust for a rediss:// Redis, instead of the system's: a private
    /// CA, or the one a managed service names.
    #[arg(long, env = "ACTIVATOR_REDIS_CA_FILE", value_name = "FILE")]
    pub redis_ca_file: Option<PathBuf>,
    /// Client certificate (PEM) for a rediss:// Redis that asks for one; needs --redis-client-key.
    #[arg(long, env = "ACTIVATOR_REDIS_CLIENT_CERT", value_name = "FILE", requires = "redis_client_key")]
    pub redis_client_cert: Option<PathBuf>,
    /// Private key (PEM) of --redis-client-cert.
    #[arg(long, env = "ACTIVATOR_REDIS_CLIENT_KEY", value_name = "FILE", requires = "redis_client_cert")]
    pub redis_client_key: Option<PathBuf>,
}

impl RedisArgs {
    /// The Redis given, if any.
    pub fn location(&self) -> Result<Option<RedisLocation>> {
        let Some(url) = self.redis.as_deref().filter(|u| !u.trim().is_empty()) else {
            if self.redis_ca_file.is_some() || self.redis_client_cert.is_some() {
                bail!(
                    "a Redis CA file or client certificate was given without a Redis: give --redis (or ACTIVATOR_REDIS_URL) too"
                );
            }
            return Ok(None);
        };
        let mut endpoint = RedisEndpoint::new(url);
        if let Some(ca_file) = &self.redis_ca_file {
            endpoint = endpoint.with_ca_file(ca_file);
        }
        if let (Some(cert_file), Some(key_file)) = (&self.redis_client_cert, &self.redis_client_key) {
            endpoint = endpoint.with_client_identity(ClientIdentity {
                cert_file: cert_file.clone(),
                key_file: key_file.clone(),
            });
        }
        // Refuse a wrong combination (a CA file with redis://) before anything connects.
        endpoint.client()?;
        Ok(Some(RedisLocation { endpoint, namespace: self.namespace.clone() }))
    }

    /// The Redis given, or the error `missing` when none was.
    pub fn required(&self, missing: &str) -> Result<RedisLocation> {
        self.location()?.ok_or_else(|| anyhow::anyhow!("{missing}"))
    }
}
