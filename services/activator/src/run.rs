//! `activator run`: one rollout in one process with the embedded store (one SQLite file):
//! reads the mailbox list, creates or resumes the batch, plans, processes and verifies with
//! progress bars, writes the results CSV, and exits 0 only if no mailbox failed.

use crate::args::{EnvironmentArgs, InputArgs, LimitArgs, SafetyArgs};
use crate::progress;
use crate::signals::stop_on_signals;
use activator_core::{BatchOptions, Step};
use anyhow::{Context, Result};
use dataverse::Dataverse;
use metrics::Metrics;
use pipeline::local_run::{RunBatch, RunRequest, create_or_resume, failure_summary, step_names};
use pipeline::{Conducted, Runtime, RuntimeSettings};
use std::path::PathBuf;
use std::sync::Arc;
use store::{Batch, BatchStore};

#[derive(Debug, clap::Args)]
#[command(
    after_help = "The CSV needs a header row; its mailbox column is found by its name (mailbox id, email, e-mail, \
email address, mail, user principal name, systemuser id, and the like; or the only column).\n\
A selection (--business-unit, --team, --security-role, --mailbox-state) is resolved when the batch is created.\n\
Running the same command again with the same state file resumes: finished mailboxes are never redone.\n\
Every batch starts with a canary that runs to the end first; a failing canary or a tripped circuit breaker \
pauses the batch: run exits 3 saying what to fix, and running the same command again after the fix goes on.\n\
Exit status: 0 when no mailbox failed, 1 when some did (see the results CSV), 2 on bad input, 3 when the \
batch paused itself, 130 when stopped."
)]
pub struct Args {
    #[command(flatten)]
    input: InputArgs,
    /// Steps to run, in any order (they always run in rollout order).
    #[arg(long, value_delimiter = ',', default_value = "approve,test_and_enable,assign_role,deploy_app")]
    steps: Vec<Step>,
    /// SQLite file holding the rollout's state (created if missing).
    #[arg(long, env = "ACTIVATOR_STATE", default_value = "activator-state.db", value_name = "FILE.db")]
    state: PathBuf,
    /// Where to write the results CSV (default: beside the state file, ending in -results.csv).
    #[arg(long, value_name = "OUT.csv")]
    results: Option<PathBuf>,
    /// Set the organization to server-side synchronization if it is not.
    #[arg(long)]
    configure_org: bool,
    /// When a mailbox syncs with another organization, make this one its primary and test again.
    #[arg(long)]
    overwrite_primary_org: bool,
    /// Failed mailboxes of an earlier run of this list start again.
    #[arg(long)]
    retry_failed: bool,
    /// How long Test & Enable and the app deployment may take per mailbox.
    #[arg(long, default_value_t = 3_600, value_name = "SECS")]
    timeout_secs: u64,
    /// Attempts per step before a mailbox fails (429 answers do not count).
    #[arg(long, default_value_t = 5, value_name = "N")]
    max_attempts: u32,
    /// Steps run at once (default: 128 for each application user's worth of budget).
    #[arg(long, value_name = "N")]
    concurrency: Option<usize>,
    #[command(flatten)]
    safety: SafetyArgs,
    #[command(flatten)]
    env: EnvironmentArgs,
    #[command(flatten)]
    limits: LimitArgs,
}

/// Exit status of a run whose batch paused itself.
const EXIT_PAUSED: i32 = 3;

pub async fn run(args: Args) -> Result<i32> {
    let env = args.env.load()?;
    let Some(input) = args.input.read()? else { return Ok(2) };
    let batch_options = BatchOptions {
        configure_org: args.configure_org,
        overwrite_primary_org: args.overwrite_primary_org,
        test_timeout_secs: args.timeout_secs,
        deploy_timeout_secs: args.timeout_secs,
        canary: args.safety.canary,
        canary_max_failures: args.safety.canary_max_failures,
        breaker: args.safety.breaker,
    };
    batch_options.validate().map_err(anyhow::Error::msg)?;
    let metrics = Arc::new(Metrics::new());
    let mut settings = RuntimeSettings::new(format!("run-{}", pipeline::worker_name()));
    settings.concurrency = args.concurrency;
    settings.max_attempts = args.max_attempts;
    let options = args.limits.observed_options(&metrics)?;
    let mut runtime = Runtime::embedded(&args.state, &env, options, metrics, settings).await?;
    // No one can resume this batch from outside: a pause ends the run.
    runtime.conductor.stop_when_paused_itself = true;
    let (store, dv) = (Arc::clone(&runtime.store), Arc::clone(&runtime.dataverse));
    let mailboxes = match input.mailboxes(&*dv).await {
        Ok(mailboxes) => mailboxes,
        Err(e) => {
            eprintln!("error: {e:#}");
            return Ok(2);
        }
    };
    let request = RunRequest {
        environment: env.name.clone(),
        steps: args.steps.clone(),
        mailboxes,
        selection: input.selection().cloned(),
        options: batch_options,
        retry_failed: args.retry_failed,
    };
    let batch = match create_or_resume(&*store, &request).await? {
        RunBatch::Created(batch) => {
            println!("batch {}: {} mailboxes, steps {}", batch.id, batch.total, step_names(&batch.steps));
            batch
        }
        RunBatch::Resumed { batch, before, retried } => {
            println!("resuming batch {}: {}", batch.id, progress::summary_line(&before));
            if retried > 0 {
                println!("{retried} failed mailboxes start again");
            }
            batch
        }
    };
    // This process owns the state file: whatever an earlier run left queued or running is
    // planned again (checked against Dataverse) before anything is sent.
    runtime.feeder.recover_all(&*store, batch.id, store::clock::now()).await?;

    let stop = stop_on_signals();
    let (done_tx, done_rx) = tokio::sync::watch::channel(false);
    let worker_task = runtime.spawn_worker(done_rx.clone());
    let display = tokio::spawn(progress::show(
        Arc::clone(&store),
        Arc::clone(&dv),
        batch.id,
        batch.steps.clone(),
        done_rx.clone(),
    ));
    let conducted = runtime.conduct(batch.id, stop.clone()).await;
    let _ = done_tx.send(true);
    let _ = display.await;
    match worker_task.await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => eprintln!("warning: the worker stopped with an error: {e}"),
        Err(e) => eprintln!("warning: the worker task failed: {e}"),
    }
    let conducted = conducted?;
    let progress = store.progress(batch.id).await?;
    println!("{}", progress::summary_line(&progress));
    match conducted {
        Conducted::Stopped => {
            println!("stopped. Run the same command again to resume batch {} from where it is.", batch.id);
            return Ok(130);
        }
        Conducted::PausedItself(reason) => {
            println!("\nbatch {} paused itself ({}): {}", batch.id, reason.by.name(), reason.message);
            println!("error code: {}", reason.code);
            println!("what to do: {}", reason.remedy);
            finish(&*store, &dv, &batch, &args).await?;
            return Ok(EXIT_PAUSED);
        }
        _ => {}
    }
    finish(&*store, &dv, &batch, &args).await
}

/// Prints the column read and the rows that were not taken; false when the list cannot be used.
fn results_path(args: &Args) -> PathBuf {
    args.results.clone().unwrap_or_else(|| {
        let stem = args
            .state
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "activator".into());
        args.state.with_file_name(format!("{stem}-results.csv"))
    })
}

async fn finish<S: BatchStore>(store: &S, dv: &Dataverse, batch: &Batch, args: &Args) -> Result<i32> {
    let path = results_path(args);
    let file = std::fs::File::create(&path).with_context(|| format!("cannot write {}", path.display()))?;
    pipeline::results::write_results(store, dv, batch.id, std::io::BufWriter::new(file)).await?;
    let failures = failure_summary(store, batch).await?;
    if !failures.is_empty() {
        println!("failed mailboxes by reason:");
        for ((code, remedy), n) in &failures {
            println!("  {n:>6}  {code}: {remedy}");
        }
    }
    println!("results: {}", path.display());
    let failed: u64 = failures.values().sum();
    Ok(i32::from(failed > 0))
}
