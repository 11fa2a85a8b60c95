//! The Dataverse client of an environment, connected (every application user asked WhoAmI):
//! each application user with a limiter of its own in this process, or with one shared through
//! Redis by every process of the deployment.

use anyhow::{Context, Result};
use dataverse::{ClientOptions, Dataverse, EnvironmentConfig};
use ratelimit::{Limiter, RedisLimiter};
use std::sync::Arc;

/// Where limits are shared: Redis at `url`, keys under `{namespace}:limits`.
#[derive(Debug, Clone, Copy)]
pub struct SharedLimits<'a> {
    pub url: &'a str,
    pub namespace: &'a str,
}

pub async fn connect(
    env: &EnvironmentConfig,
    options: ClientOptions,
    shared: Option<SharedLimits<'_>>,
) -> Result<Arc<Dataverse>> {
    let dv = match shared {
        None => Dataverse::new(&env.url, env.credentials.clone(), options)?,
        Some(redis) => {
            let mut users = Vec::new();
            for credential in &env.credentials {
                let limiter = RedisLimiter::connect(
                    redis.url,
                    &format!("{}:limits", redis.namespace),
                    &credential.client_id,
                    options.budgets,
                )
                .await
                .map_err(anyhow::Error::msg)
                .context("cannot reach Redis for the shared limits: check --redis")?;
                users.push((credential.clone(), Arc::new(limiter) as Arc<dyn Limiter>));
            }
            Dataverse::with_limiters(&env.url, users, options)?
        }
    };
    dv.connect().await.with_context(|| format!("cannot reach environment {} at {}", env.name, env.url))?;
    Ok(Arc::new(dv))
}
