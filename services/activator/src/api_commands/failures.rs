//! `activator failures BATCH`: every failed mailbox of a batch, read page by page, as a table
//! (with a count by error code) or as CSV with the columns of `activator run`'s results file.

use crate::args::ApiClientArgs;
use crate::text_table::{TextTable, one_line};
use api_client::model::{MailboxPage, MailboxView};
use api_client::{ApiClient, ApiClientError};
use std::collections::BTreeMap;
use std::io::Write;

/// The columns of the results CSV of `activator run` that the API gives for each mailbox.
pub const CSV_HEADER: [&str; 8] =
    ["mailbox", "mailbox_id", "state", "step", "attempts", "error_code", "message", "remedy"];

const PAGE: &str = "1000";

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns, the remedy under each failure, and a count by error code.
    Table,
    /// CSV with a header row: mailbox,mailbox_id,state,step,attempts,error_code,message,remedy.
    Csv,
}

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  activator failures 0193d2c4-...\n  \
activator failures 0193d2c4-... --format csv > failed.csv\n\n\
Exit status: 0 when the list was read (whether or not any mailbox failed), 2 when the API could not be \
reached or answered an error.")]
pub struct Args {
    /// Batch id, as `activator submit` printed it.
    #[arg(value_name = "BATCH")]
    batch: String,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    #[command(flatten)]
    api: ApiClientArgs,
}

pub async fn run(args: Args) -> i32 {
    let api = args.api.clone();
    super::with_client(&api, |client| failures(client, args)).await
}

async fn failures(client: ApiClient, args: Args) -> Result<i32, ApiClientError> {
    let failed = all_failed(&client, &args.batch).await?;
    let mut out = std::io::stdout().lock();
    let written = match args.format {
        Format::Table => out.write_all(render_table(&args.batch, &failed).as_bytes()),
        Format::Csv => write_csv(&failed, &mut out).map_err(std::io::Error::other),
    };
    written
        .and_then(|_| out.flush())
        .map_err(|e| ApiClientError::Usage(format!("cannot write the list: {e}")))?;
    Ok(0)
}

/// Follows `next_cursor` until the last page.
async fn all_failed(client: &ApiClient, batch: &str) -> Result<Vec<MailboxView>, ApiClientError> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut query = vec![("state", "failed".to_string()), ("limit", PAGE.to_string())];
        query.extend(cursor.clone().map(|c| ("cursor", c)));
        let page: MailboxPage = client.get(&["v1", "batches", batch, "mailboxes"], &query).await?;
        all.extend(page.mailboxes);
        match page.next_cursor {
            Some(next) if Some(&next) == cursor.as_ref() => {
                return Err(ApiClientError::Protocol(format!("the API gave the same cursor {next} twice")));
            }
            Some(next) => cursor = Some(next),
            None => return Ok(all),
        }
    }
}

fn error_parts(m: &MailboxView) -> (&str, &str, &str) {
    match &m.error {
        Some(e) => (e.code.as_str(), e.message.as_str(), e.remedy.as_deref().unwrap_or("")),
        None => ("", "", ""),
    }
}

pub fn render_table(batch: &str, failed: &[MailboxView]) -> String {
    if failed.is_empty() {
        return format!("no failed mailboxes in batch {batch}\n");
    }
    let mut t = TextTable::new(&[">index", "mailbox", "step", "error code", "message / remedy"]);
    let mut by_code: BTreeMap<&str, u64> = BTreeMap::new();
    for m in failed {
        let (code, message, remedy) = error_parts(m);
        *by_code.entry(if code.is_empty() { "(none)" } else { code }).or_default() += 1;
        t.row([
            m.index.to_string(),
            m.mailbox.clone(),
            m.step.clone().unwrap_or_default(),
            code.to_string(),
            message.to_string(),
        ]);
        if !remedy.is_empty() {
            t.row([String::new(), String::new(), String::new(), String::new(), format!("remedy: {remedy}")]);
        }
    }
    let mut out = t.render();
    out.push_str(&format!("\n{} failed mailboxes in batch {batch}, by error code:\n", failed.len()));
    for (code, n) in by_code {
        out.push_str(&format!("  {n:>6}  {}\n", one_line(code)));
    }
    out
}

pub fn write_csv<W: Write>(failed: &[MailboxView], out: W) -> Result<(), csv::Error> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(CSV_HEADER)?;
    for m in failed {
        let (code, message, remedy) = error_parts(m);
        w.write_record([
            m.mailbox.as_str(),
            m.mailbox_id.as_deref().unwrap_or(""),
            m.state.as_str(),
            m.step.as_deref().unwrap_or(""),
            &m.attempts.to_string(),
            code,
            message,
            remedy,
        ])?;
    }
    w.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use api_client::model::MailboxError;

    fn failed() -> Vec<MailboxView> {
        let m = |index, mailbox: &str, code: &str, message: &str, remedy: Option<&str>| MailboxView {
            index,
            mailbox: mailbox.into(),
            mailbox_id: (index == 3).then(|| "5c1d0000-0000-0000-0000-000000000003".into()),
            state: "failed".into(),
            step: Some("approve".into()),
            attempts: 2,
            error: Some(MailboxError {
                code: code.into(),
                message: message.into(),
                remedy: remedy.map(Into::into),
            }),
        };
        vec![
            m(
                3,
                "a@contoso.com",
                "privilege_denied",
                "no privilege, \"prvApproveRejectEmailAddress\"",
                Some("give the role"),
            ),
            m(12, "b@contoso.com", "not_found", "no such mailbox\nat all", None),
        ]
    }

    #[test]
    fn the_table_lists_each_failure_with_its_remedy_and_counts_by_code() {
        let expected = "\
index  mailbox        step     error code        message / remedy
    3  a@contoso.com  approve  privilege_denied  no privilege, \"prvApproveRejectEmailAddress\"
                                                 remedy: give the role
   12  b@contoso.com  approve  not_found         no such mailbox at all

2 failed mailboxes in batch b1, by error code:
       1  not_found
       1  privilege_denied
";
        assert_eq!(render_table("b1", &failed()), expected);
        assert_eq!(render_table("b1", &[]), "no failed mailboxes in batch b1\n");
    }

    #[test]
    fn the_csv_has_the_results_columns_and_quotes_what_needs_it() -> Result<(), csv::Error> {
        let mut out = Vec::new();
        write_csv(&failed(), &mut out)?;
        let expected = "\
mailbox,mailbox_id,state,step,attempts,error_code,message,remedy
a@contoso.com,5c1d0000-0000-0000-0000-000000000003,failed,approve,2,privilege_denied,\"no privilege, \"\"prvApproveRejectEmailAddress\"\"\",give the role
b@contoso.com,,failed,approve,2,not_found,\"no such mailbox\nat all\",
";
        assert_eq!(String::from_utf8_lossy(&out), expected);
        Ok(())
    }
}
