//! `activator retry | cancel | pause | resume BATCH`: one control request each (operator
//! token), printing the batch's state after it (and, for retry, how many mailboxes start again).

use crate::api_client::model::Controlled;
use crate::api_client::{ApiArgs, ApiClient, ApiError};
use reqwest::Method;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Retry,
    Cancel,
    Pause,
    Resume,
}

impl Action {
    fn path(self) -> &'static str {
        match self {
            Action::Retry => "retry",
            Action::Cancel => "cancel",
            Action::Pause => "pause",
            Action::Resume => "resume",
        }
    }
}

/// The end of each control command's `--help`.
pub const EXIT_HELP: &str = "Examples:\n  activator pause 0193d2c4-...    (later: activator resume 0193d2c4-...)\n  \
activator retry 0193d2c4-... && activator watch 0193d2c4-...\n\n\
Needs an operator token (--token or ACTIVATOR_TOKEN).\n\
Exit status: 0 when the API did it (or it was already so), 2 when it refused (e.g. HTTP 409: not allowed \
in the batch's state), answered another error, or could not be reached.";

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Batch id, as `activator submit` printed it.
    #[arg(value_name = "BATCH")]
    batch: String,
    #[command(flatten)]
    api: ApiArgs,
}

pub async fn run(action: Action, args: Args) -> i32 {
    super::with_client(&args.api, |client| control(client, action, args.batch)).await
}

async fn control(client: ApiClient, action: Action, batch: String) -> Result<i32, ApiError> {
    let url = client.url(&["v1", "batches", &batch, action.path()], &[]);
    let answer: Controlled = client.json(Method::POST, url, None, &[]).await?;
    println!("{}", outcome_line(action, &answer));
    Ok(0)
}

pub fn outcome_line(action: Action, c: &Controlled) -> String {
    let b = &c.batch;
    match (action, c.retried) {
        (Action::Retry, Some(n)) => {
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
            outcome_line(Action::Retry, &c),
            "batch b1: 3 failed mailboxes start again; state running"
        );
        assert_eq!(outcome_line(Action::Pause, &c), "batch b1: state running (4 of 9 finished)");
        Ok(())
    }
}
