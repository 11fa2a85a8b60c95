//! `activator delete BATCH`: removes a finished batch with its mailboxes and results (operator
//! token); the API refuses a batch that is running or paused.

use super::batch_action::Args;
use api_client::{ApiClient, ApiClientError};

/// The end of `activator delete --help`.
pub const EXIT_HELP: &str = "Example:\n  activator failures 0193d2c4-... --format csv > failures.csv && activator delete 0193d2c4-...\n\n\
Only a completed or cancelled batch can be deleted (cancel a running one first); its results \
are gone afterwards. Finished batches are also deleted by the server after its --retention-days.\n\
Needs an operator token (--token or ACTIVATOR_TOKEN).\n\
Exit status: 0 when the batch was deleted, 2 when the API refused (HTTP 409: not finished; 404: no \
such batch), answered another error, or could not be reached.";

pub async fn run(args: Args) -> i32 {
    super::with_client(&args.api, |client| delete(client, args.batch)).await
}

async fn delete(client: ApiClient, batch: String) -> Result<i32, ApiClientError> {
    client.delete_batch(&batch).await?;
    println!("batch {batch}: deleted");
    Ok(0)
}
