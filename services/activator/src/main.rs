//! `activator`: every role of the product, by subcommand.

mod api_commands;
mod api_server;
mod args;
mod dataverse_tenant;
mod doctor;
mod plan;
mod plan_output;
mod progress;
mod readiness;
mod run;
mod serve;
mod signals;
mod text_table;
mod worker;

use activator_core::BatchAction;
use anyhow::Result;
use api_commands::batch_action;
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
    /// Roll out to the mailboxes of a CSV file or a selection in this process, with the embedded store.
    Run(run::Args),
    /// Show what a rollout would do to each mailbox, and its cost and duration, by reading only.
    Plan(plan::Args),
    /// Run jobs and conduct batches over Redis, together with any number of other workers.
    Worker(worker::Args),
    /// Serve the HTTP API over the Redis store the workers share.
    Api(api_server::Args),
    /// Serve the HTTP API and run a worker in one process (embedded store without --redis).
    Serve(serve::Args),
    /// Check that an environment has what the rollout needs; exit 0 when it does.
    Doctor(doctor::Args),
    /// Create a batch through the API from a CSV file or from mailboxes on the command line.
    Submit(api_commands::submit::Args),
    /// Show a batch's progress through the API, or list the batches, newest first.
    Status(api_commands::status::Args),
    /// Follow a batch through the API with progress bars until it ends.
    Watch(api_commands::watch::Args),
    /// List the failed mailboxes of a batch (step, error code, message, remedy), as a table or CSV.
    Failures(api_commands::failures::Args),
    /// Run the failed mailboxes of a batch again (a completed batch runs again).
    #[command(after_help = batch_action::EXIT_HELP)]
    Retry(batch_action::Args),
    /// Cancel a running or paused batch: its unfinished mailboxes stop where they are.
    #[command(after_help = batch_action::EXIT_HELP)]
    Cancel(batch_action::Args),
    /// Pause a running batch: no new step starts until `activator resume`.
    #[command(after_help = batch_action::EXIT_HELP)]
    Pause(batch_action::Args),
    /// Resume a paused batch.
    #[command(after_help = batch_action::EXIT_HELP)]
    Resume(batch_action::Args),
    /// Delete a completed or cancelled batch with its mailboxes and results.
    #[command(after_help = api_commands::delete::EXIT_HELP)]
    Delete(batch_action::Args),
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let code = match run_command(cli.command).await {
        Ok(code) => code,
        Err(e) => {
            // The chain of contexts says what failed and what to do; a backtrace would bury it.
            eprintln!("error: {e:#}");
            1
        }
    };
    std::process::exit(code);
}

async fn run_command(command: Command) -> Result<i32> {
    Ok(match command {
        Command::Run(args) => run::run(args).await?,
        Command::Plan(args) => plan::run(args).await?,
        Command::Worker(args) => worker::run(args).await?,
        Command::Api(args) => api_server::run(args).await?,
        Command::Serve(args) => serve::run(args).await?,
        Command::Doctor(args) => doctor::run(args).await?,
        Command::Submit(args) => api_commands::submit::run(args).await,
        Command::Status(args) => api_commands::status::run(args).await,
        Command::Watch(args) => api_commands::watch::run(args).await,
        Command::Failures(args) => api_commands::failures::run(args).await,
        Command::Retry(args) => batch_action::run(BatchAction::Retry, args).await,
        Command::Cancel(args) => batch_action::run(BatchAction::Cancel, args).await,
        Command::Pause(args) => batch_action::run(BatchAction::Pause, args).await,
        Command::Resume(args) => batch_action::run(BatchAction::Resume, args).await,
        Command::Delete(args) => api_commands::delete::run(args).await,
    })
}
