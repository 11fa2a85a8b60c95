//! `activator plan`: what a rollout of these mailboxes would do, by reading only (no write is
//! sent): the organization's prerequisites, each mailbox's outcome and steps, totals, and
//! the estimated requests, execution time and duration.

use crate::args::{EnvironmentArgs, InputArgs, LimitArgs};
use crate::plan_output::{PlanFormat, render};
use activator_core::Step;
use anyhow::Result;
use metrics::Metrics;
use pipeline::rollout_plan::{DEFAULT_PROCESS_SECS, PlanRequest, make_plan};
use std::sync::Arc;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Reads in bulk (100 mailboxes or users per request) and writes nothing. Causes that only \
trying shows (an approval refused to the application user, a Test & Enable failing in Exchange, a mailbox \
tied to another organization) are predicted as steps needed.\n\
Exit status: 0 when the plan was made, 2 on bad input."
)]
pub struct Args {
    #[command(flatten)]
    input: InputArgs,
    /// Steps to plan, in any order (they always run in rollout order).
    #[arg(long, value_delimiter = ',', default_value = "approve,test_and_enable,assign_role,deploy_app")]
    steps: Vec<Step>,
    #[arg(long, value_enum, default_value_t = PlanFormat::Table)]
    format: PlanFormat,
    /// How long Dataverse takes to Test & Enable a mailbox and then deploy the app to it, for
    /// the estimate (not documented by Microsoft: use what your tenant shows).
    #[arg(long, default_value_t = DEFAULT_PROCESS_SECS, value_name = "SECS")]
    process_secs: f64,
    #[command(flatten)]
    env: EnvironmentArgs,
    #[command(flatten)]
    limits: LimitArgs,
}

pub async fn run(args: Args) -> Result<i32> {
    let env = args.env.load()?;
    let Some(input) = args.input.read()? else { return Ok(2) };
    let metrics = Arc::new(Metrics::new());
    let mut options = args.limits.observed_options(&metrics)?;
    // Reads are sent one by one; nothing to gather.
    options.batching = None;
    let dataverse = pipeline::connect_dataverse(&env, options, None).await?;
    let mailboxes = match input.mailboxes(&*dataverse).await {
        Ok(mailboxes) => mailboxes,
        Err(e) => {
            eprintln!("error: {e:#}");
            return Ok(2);
        }
    };
    let request = PlanRequest {
        environment: env.name.clone(),
        steps: args.steps.clone(),
        mailboxes,
        process_secs: args.process_secs,
    };
    let plan = make_plan(&*dataverse, &request, &metrics).await?;
    print!("{}", render(&plan, args.format));
    Ok(0)
}
