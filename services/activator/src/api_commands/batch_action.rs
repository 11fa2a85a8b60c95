//! `activator retry | cancel | pause | resume BATCH`: one control request each (operator
//! token), printing the batch's state after it (and, for retry, how many mailboxes start again).

use crate::args::ApiClientArgs;
use activator_core::BatchAction;
use api_client::model::Controlled;
use api_client::{ApiClient, ApiClientError};

/// The end of each control command's `--help`.
pub const EXIT_HELP: &str = "Examples:\n  activator pause 0193d2c4-...    (later: activator resume 0193d2c4-...)\n  \
activator retry 0193d2c4-... && activator watch 0193d2c4-...\n\n\
Needs an operator token (--token or ACTIVATOR_TOKEN).\n\
Exit status: 0 when the API did it (or it was already so), 2 when it refused (e.g. HTTP 409: not allowed \
in the batch's state), answered another error, or could not be reached.";

/// The arguments of every command about one batch: its id and the API.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Batch id, as `activator submit` printed it.
    #[arg(value_name = "BATCH")]
    pub batch: String,
    #[command(flatten)]
    pub api: ApiClientArgs,
}

pub async fn run(action: BatchAction, args: Args) -> i32 {
    super::with_client(&args.api, |client| control(client, action, args.batch)).await
}

async fn control(client: ApiClient, action: BatchAction, batch: String) -> Result<i32, ApiClientError> {
    let answer = client.control(&batch, action).await?;
    println!("{}", outcome_line(action, &answer));
    Ok(0)
}

pub fn outcome_line(action: BatchAction, c: &Controlled) -> String {
    let b = &c.batch;
    match (action, c.retried) {
        (BatchAction::Retry, Some(n)) => {
            format!("batch {}: {n} failed mailboxes start again; state {}", b.id, b.state)
        }
        _ => format!("batch {}: state {} ({} of {} finished)", b.id, b.state, b.finished, b.total),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_new_state_and_the_retried_count_are_told() -> Result<(), serde_json::Error> {
        let c: Controlled = serde_json::from_str(
            r#"{"batch": {"id": "b1", "state": "running", "total": 9, "finished": 4}, "retried": 3}"#,
        )?;
        assert_eq!(
            outcome_line(BatchAction::Retry, &c),
            "batch b1: 3 failed mailboxes start again; state running"
        );
        assert_eq!(outcome_line(BatchAction::Pause, &c), "batch b1: state running (4 of 9 finished)");
        Ok(())
    }
}
