//! Bulk reads of mailboxes: by ids, email addresses or owners (chunked `In` filters) and by any
//! filter, every page read.

use crate::dataverse_client::Dataverse;
use crate::error::DataverseError;
use crate::odata::{guids, null_default};
use serde::Deserialize;
use uuid::Uuid;

pub use crate::odata::{IN_CHUNK, PAGE_SIZE};

/// The columns the rollout reads.
pub const MAILBOX_COLUMNS: &str = "mailboxid,emailaddress,_regardingobjectid_value,emailrouteraccessapproval,\
incomingemaildeliverymethod,outgoingemaildeliverymethod,actdeliverymethod,incomingemailstatus,\
outgoingemailstatus,actstatus,mailboxstatus,testemailconfigurationscheduled,testmailboxaccesscompletedon,\
orgmarkedasprimaryforexchangesync,officeappsdeploymentscheduled,officeappsdeploymentstatus,\
officeappsdeploymenterror,statecode";

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

impl Dataverse {
    /// Every mailbox matching `filter` (all when None), every page.
    pub async fn mailboxes_where(&self, filter: Option<&str>) -> Result<Vec<Mailbox>, DataverseError> {
        self.read_all("read mailboxes", "mailboxes", MAILBOX_COLUMNS, filter).await
    }

    /// The mailboxes with these ids that exist (missing ones are simply absent).
    pub async fn mailboxes_by_ids(&self, ids: &[Uuid]) -> Result<Vec<Mailbox>, DataverseError> {
        self.mailboxes_in("mailboxid", &guids(ids)).await
    }

    /// The mailboxes with these email addresses (compared without regard to case).
    pub async fn mailboxes_by_emails(&self, emails: &[String]) -> Result<Vec<Mailbox>, DataverseError> {
        self.mailboxes_in("emailaddress", emails).await
    }

    /// The mailboxes that belong to these users (`_regardingobjectid_value`); users without one
    /// are simply absent.
    pub async fn mailboxes_by_owners(&self, users: &[Uuid]) -> Result<Vec<Mailbox>, DataverseError> {
        self.mailboxes_in("_regardingobjectid_value", &guids(users)).await
    }

    async fn mailboxes_in(&self, column: &str, values: &[String]) -> Result<Vec<Mailbox>, DataverseError> {
        self.read_in("read mailboxes", "mailboxes", MAILBOX_COLUMNS, column, values).await
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
}
