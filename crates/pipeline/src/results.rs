//! The results CSV of a batch: one row per mailbox with its final state, the step it reached,
//! attempts, and the error code, message and remedy of a failure.

use crate::dataverse_ops::DataverseOps;
use crate::error::PipelineError;
use std::collections::HashMap;
use std::io::Write;
use store::{BatchId, BatchStore, Item};
use uuid::Uuid;

pub const HEADER: [&str; 9] =
    ["mailbox", "mailbox_id", "email", "state", "step", "attempts", "error_code", "message", "remedy"];

/// Writes every item of `batch` to `out`; email addresses are read from Dataverse in bulk, as
/// Dataverse spells them (if that read fails: the address as given, or empty). Returns the
/// rows written.
pub async fn write_results<S: BatchStore, D: DataverseOps, W: Write>(
    store: &S,
    dataverse: &D,
    batch: BatchId,
    out: W,
) -> Result<u64, PipelineError> {
    let items: Vec<Item> = store::all_items(store, batch, None).await?;
    let ids: Vec<Uuid> = items.iter().filter_map(|i| i.mailbox_id).collect();
    let emails: HashMap<Uuid, String> = if ids.is_empty() {
        HashMap::new()
    } else {
        match dataverse.mailboxes_by_ids(&ids).await {
            Ok(rows) => rows.into_iter().filter_map(|m| Some((m.id, m.email?))).collect(),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read email addresses for the results; left empty");
                HashMap::new()
            }
        }
    };
    let mut w = csv::Writer::from_writer(out);
    let csv_err = |e: csv::Error| PipelineError::Results(e.to_string());
    w.write_record(HEADER).map_err(csv_err)?;
    for item in &items {
        let email = item
            .mailbox_id
            .and_then(|id| emails.get(&id).cloned())
            .or_else(|| item.mailbox.contains('@').then(|| item.mailbox.clone()))
            .unwrap_or_default();
        let (code, message, remedy) = match &item.error {
            Some(e) => (e.code.as_str(), e.message.as_str(), e.remedy.as_deref().unwrap_or("")),
            None => ("", "", ""),
        };
        w.write_record([
            item.mailbox.as_str(),
            &item.mailbox_id.map(|id| id.to_string()).unwrap_or_default(),
            &email,
            item.state.name(),
            item.step.map_or("", |s| s.name()),
            &item.attempts.to_string(),
            code,
            message,
            remedy,
        ])
        .map_err(csv_err)?;
    }
    w.flush().map_err(|e| PipelineError::Results(e.to_string()))?;
    Ok(items.len() as u64)
}
