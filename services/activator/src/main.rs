//! `activator`: every role of the product, by subcommand.

mod api;
mod api_args;
mod client_args;
mod clients;
mod doctor;
mod environment;
mod progress;
mod readiness;
mod run;
mod serve;
mod signals;
mod worker;

use anyhow::Result;
use clap::{Parser, Subcommand};

/// Rolls out Dynamics 365 App for Outlook to many mailboxes, within Dataverse's limits.
#[derive(Debug, Parser)]
#[command(version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Roll out to the mailboxes of a CSV file in this process, with the embedded store.
    Run(run::Args),
    /// Run jobs and conduct batches over Redis, together with any number of other workers.
    Worker(worker::Args),
    /// Serve the HTTP API over the Redis store the workers share.
    Api(api::Args),
    /// Serve the HTTP API and run a worker in one process (embedded store without --redis).
    Serve(serve::Args),
    /// Check that an environment has what the rollout needs; exit 0 when it does.
    Doctor(doctor::Args),
}

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Run(args) => run::run(args).await?,
        Command::Worker(args) => worker::run(args).await?,
        Command::Api(args) => api::run(args).await?,
        Command::Serve(args) => serve::run(args).await?,
        Command::Doctor(args) => doctor::run(args).await?,
    };
    std::process::exit(code);
}
