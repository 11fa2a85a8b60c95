//! `activator api`: the HTTP API over the Redis store the workers share. It creates batches
//! and reads and controls them; workers (`activator worker`) do the work.

use crate::args::{EnvironmentArgs, LimitArgs, RedisArgs, ServerArgs};
use crate::dataverse_tenant::DataverseTenant;
use crate::signals::stop_on_signals;
use anyhow::Result;
use metrics::Metrics;
use std::sync::Arc;

#[derive(Debug, clap::Args)]
#[command(after_help = "API tokens: ACTIVATOR_API_TOKENS (or --tokens-file) holds comma-separated \
role:token or role:sha256:HEX entries, role operator (may write) or viewer (may read).\n\
Batches may name any environment of --config (or the one of the ACTIVATOR_* variables).\n\
Stops on SIGTERM or Ctrl-C after the requests under way.")]
pub struct Args {
    #[command(flatten)]
    redis: RedisArgs,
    #[command(flatten)]
    server: ServerArgs,
    #[command(flatten)]
    env: EnvironmentArgs,
    /// The limits of selections and plans read through this API (shared with the workers).
    #[command(flatten)]
    limits: LimitArgs,
}

pub async fn run(args: Args) -> Result<i32> {
    let redis = args.redis.required(
        "activator api shares its store with workers over Redis: give --redis, or use `activator serve` \
         for one process",
    )?;
    let environments = args.env.load_all()?;
    let store = pipeline::redis_store(&redis).await?;
    let options = args.limits.dataverse_options()?;
    let tenant = Arc::new(DataverseTenant::new(&environments, options, Some(redis.clone())));
    let server = args
        .server
        .start(store, Arc::new(Metrics::new()), &environments, None, tenant, stop_on_signals())
        .await?;
    crate::args::server::finish(server).await?;
    eprintln!("activator api stopped");
    Ok(0)
}
