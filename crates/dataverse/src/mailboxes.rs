//! Bulk reads of mailboxes: by ids or email addresses (chunked `In` filters) and by any filter,
//! following `@odata.nextLink` until every page is read.

use crate::dataverse_client::Dataverse;
use crate::error::DataverseError;
use crate::request::WebApiRequest;
use crate::roles::literal;
use serde::Deserialize;
use uuid::Uuid;

/// Values per `In` filter: about 4 KB of URL for GUIDs, well under any URL limit.
pub const IN_CHUNK: usize = 100;

/// Rows per page asked for with `Prefer: odata.maxpagesize`.
pub const PAGE_SIZE: usize = 1000;

/// The columns the rollout reads.
pub const MAILBOX_COLUMNS: &str = "mailboxid,emailaddress,_regardingobjectid_value,emailrouteraccessapproval,\
incomingemaildeliverymethod,outgoingemaildeliverymethod,actdeliverymethod,incomingemailstatus,\
outgoingemailstatus,actstatus,mailboxstatus,testemailconfigurationscheduled,testmailboxaccesscompletedon,\
orgmarkedasprimaryforexchangesync,officeappsdeploymentscheduled,officeappsdeploymentstatus,\
officeappsdeploymenterror,statecode";

/// Reads a column Dataverse may send as `null` (no value) as the type's default.
fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A mailbox as the rollout sees it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Mailbox {
    #[serde(rename = "mailboxid")]
    pub id: Uuid,
    #[serde(rename = "@odata.etag", default)]
    pub etag: String,
    #[serde(rename = "emailaddress")]
    pub email: Option<String>,
    /// The systemuser (or queue) the mailbox belongs to.
    #[serde(rename = "_regardingobjectid_value")]
    pub owner: Option<Uuid>,
    #[serde(rename = "emailrouteraccessapproval", default, deserialize_with = "null_default")]
    pub approval: i64,
    #[serde(rename = "incomingemaildeliverymethod", default, deserialize_with = "null_default")]
    pub incoming_method: i64,
    #[serde(rename = "outgoingemaildeliverymethod", default, deserialize_with = "null_default")]
    pub outgoing_method: i64,
    #[serde(rename = "actdeliverymethod", default, deserialize_with = "null_default")]
    pub act_method: i64,
    #[serde(rename = "incomingemailstatus", default, deserialize_with = "null_default")]
    pub incoming_status: i64,
    #[serde(rename = "outgoingemailstatus", default, deserialize_with = "null_default")]
    pub outgoing_status: i64,
    #[serde(rename = "actstatus", default, deserialize_with = "null_default")]
    pub act_status: i64,
    #[serde(rename = "mailboxstatus", default, deserialize_with = "null_default")]
    pub status: i64,
    #[serde(rename = "testemailconfigurationscheduled", default, deserialize_with = "null_default")]
    pub test_scheduled: bool,
    #[serde(rename = "testmailboxaccesscompletedon")]
    pub test_completed_on: Option<String>,
    #[serde(rename = "orgmarkedasprimaryforexchangesync", default, deserialize_with = "null_default")]
    pub primary_here: bool,
    #[serde(rename = "officeappsdeploymentscheduled", default, deserialize_with = "null_default")]
    pub deployment_scheduled: bool,
    #[serde(rename = "officeappsdeploymentstatus", default, deserialize_with = "null_default")]
    pub deployment_status: i64,
    #[serde(rename = "officeappsdeploymenterror")]
    pub deployment_error: Option<String>,
    #[serde(rename = "statecode", default, deserialize_with = "null_default")]
    pub state: i64,
}

#[derive(Deserialize)]
struct Page<T> {
    value: Vec<T>,
    #[serde(rename = "@odata.nextLink")]
    next: Option<String>,
}

fn in_filter(column: &str, values: &[String]) -> String {
    let list: Vec<String> = values.iter().map(|v| literal(v)).collect();
    format!("Microsoft.Dynamics.CRM.In(PropertyName='{column}',PropertyValues=[{}])", list.join(","))
}

impl Dataverse {
    /// Every mailbox matching `filter` (all when None), every page.
    pub async fn mailboxes_where(&self, filter: Option<&str>) -> Result<Vec<Mailbox>, DataverseError> {
        let prefer = format!("odata.maxpagesize={PAGE_SIZE}");
        let mut req = WebApiRequest::get("read mailboxes", "mailboxes")
            .query("$select", MAILBOX_COLUMNS)
            .header("Prefer", &prefer);
        if let Some(f) = filter {
            req = req.query("$filter", f);
        }
        let mut page: Page<Mailbox> = self.execute(&req).await?.json()?;
        let mut rows = std::mem::take(&mut page.value);
        while let Some(next) = page.next.take() {
            // The next link is followed unchanged, as Dataverse requires.
            let req = WebApiRequest::get("read mailboxes", next).header("Prefer", &prefer);
            page = self.execute(&req).await?.json()?;
            rows.append(&mut page.value);
        }
        Ok(rows)
    }

    /// The mailboxes with these ids that exist (missing ones are simply absent).
    pub async fn mailboxes_by_ids(&self, ids: &[Uuid]) -> Result<Vec<Mailbox>, DataverseError> {
        let values: Vec<String> = ids.iter().map(Uuid::to_string).collect();
        self.mailboxes_in("mailboxid", &values).await
    }

    /// The mailboxes with these email addresses (compared without regard to case).
    pub async fn mailboxes_by_emails(&self, emails: &[String]) -> Result<Vec<Mailbox>, DataverseError> {
        self.mailboxes_in("emailaddress", emails).await
    }

    /// The chunks are read side by side (the limiter decides how many at once), so reading a
    /// thousand mailboxes takes about as long as reading a hundred.
    async fn mailboxes_in(&self, column: &str, values: &[String]) -> Result<Vec<Mailbox>, DataverseError> {
        let filters: Vec<String> = values.chunks(IN_CHUNK).map(|chunk| in_filter(column, chunk)).collect();
        let mut reads = Vec::with_capacity(filters.len());
        for filter in &filters {
            reads.push(self.mailboxes_where(Some(filter)));
        }
        let mut rows = Vec::with_capacity(values.len());
        for chunk in futures_util::future::join_all(reads).await {
            rows.extend(chunk?);
        }
        Ok(rows)
    }
}

/// Where a mailbox's Test & Enable stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TestOutcome {
    /// Scheduled and not finished.
    Running,
    /// Never run, or reset and not scheduled.
    NotRun,
    Succeeded,
    /// Which of incoming, outgoing and ACT failed.
    Failed {
        incoming: bool,
        outgoing: bool,
        act: bool,
    },
}

/// Where a mailbox's App for Outlook deployment stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeploymentOutcome {
    Running,
    NotInstalled,
    Installed,
    Failed(String),
}

const SUCCESS: i64 = 1;
const FAILURE: i64 = 2;

impl Mailbox {
    /// Reads the test result: finished when the scheduled flag is clear; success needs incoming
    /// and outgoing to succeed, and ACT too when it is synced by server-side sync.
    pub fn test_outcome(&self) -> TestOutcome {
        if self.test_scheduled {
            return TestOutcome::Running;
        }
        let (i, o, a) = (self.incoming_status, self.outgoing_status, self.act_status);
        if i == FAILURE || o == FAILURE || a == FAILURE {
            return TestOutcome::Failed { incoming: i == FAILURE, outgoing: o == FAILURE, act: a == FAILURE };
        }
        let act_ok = self.act_method != 1 || a == SUCCESS;
        if i == SUCCESS && o == SUCCESS && act_ok { TestOutcome::Succeeded } else { TestOutcome::NotRun }
    }

    pub fn deployment_outcome(&self) -> DeploymentOutcome {
        match (self.deployment_scheduled, self.deployment_status) {
            (true, _) => DeploymentOutcome::Running,
            (false, 1) => DeploymentOutcome::Installed,
            (false, 0) => DeploymentOutcome::NotInstalled,
            (false, status) => DeploymentOutcome::Failed(
                self.deployment_error.clone().unwrap_or_else(|| format!("deployment status {status}")),
            ),
        }
    }

    pub fn is_approved(&self) -> bool {
        self.approval == crate::steps::APPROVED
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_columns_read_as_their_defaults() {
        let row = r#"{"mailboxid":"00000000-0000-0000-0000-000000000001","emailaddress":null,
            "_regardingobjectid_value":null,"emailrouteraccessapproval":null,"officeappsdeploymentstatus":null,
            "testemailconfigurationscheduled":null,"statecode":0}"#;
        let m: Mailbox = serde_json::from_str(row).expect("a row with nulls reads");
        assert_eq!((m.approval, m.deployment_status, m.test_scheduled), (0, 0, false));
    }

    #[test]
    fn literals_double_their_quotes() {
        assert_eq!(literal("o'neil@x"), "'o''neil@x'");
        assert_eq!(
            in_filter("emailaddress", &["a".into(), "b".into()]),
            "Microsoft.Dynamics.CRM.In(PropertyName='emailaddress',PropertyValues=['a','b'])"
        );
    }
}
