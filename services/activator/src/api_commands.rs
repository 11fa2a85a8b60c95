//! The CLI client of the API: `activator submit | status | watch | failures | retry | cancel |
//! pause | resume | delete`. Each command prints what the API answered and exits with 0 when all went
//! well, 1 when a batch has failed mailboxes (or was cancelled, for `watch`), 2 when the API or
//! the request was the problem.

pub mod batch_action;
pub mod delete;
pub mod failures;
pub mod status;
pub mod submit;

pub mod watch;

use crate::args::ApiClientArgs;
use api_client::model::BatchView;
use api_client::{ApiClient, ApiClientError};

/// Exit status of a command that could not do its work because of the API or the request (1
/// is reserved for "the batch has failed mailboxes").
pub const EXIT_API: i32 = 2;

/// Runs `command` with a client of the API given by `api`; an error is printed (the API's
/// message and problems, or what to check) and becomes exit status 2.
pub async fn with_client<F, Fut>(api: &ApiClientArgs, command: F) -> i32
where
    F: FnOnce(ApiClient) -> Fut,
    Fut: Future<Output = Result<i32, ApiClientError>>,
{
    let outcome = match api.client() {
        Ok(client) => command(client).await,
        Err(e) => Err(e),
    };
    outcome.unwrap_or_else(|e| {
        eprintln!("error: {e}");
        EXIT_API
    })
}

/// What to do about a batch's failed mailboxes (empty when none failed).
pub fn failed_hint(v: &BatchView) -> String {
    match v.failed() {
        0 => String::new(),
        n => format!(
            "{n} mailboxes failed: `activator failures {id}` lists them, `activator retry {id}` runs them again.\n",
            id = v.id
        ),
    }
}
