//! The organization's email settings: server-side synchronization is required, and whether
//! mailboxes of users and queues need their addresses approved.

use crate::dataverse_client::Dataverse;
use crate::error::DataverseError;
use crate::request::WebApiRequest;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

/// `emailconnectionchannel` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailProcessing {
    ServerSideSync,
    EmailRouter,
    Other(i64),
}

impl EmailProcessing {
    fn from_channel(channel: Option<i64>) -> Self {
        match channel.unwrap_or(-1) {
            0 => EmailProcessing::ServerSideSync,
            1 => EmailProcessing::EmailRouter,
            other => EmailProcessing::Other(other),
        }
    }
}

/// The organization's settings a rollout plan depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrgSettings {
    pub email_processing: EmailProcessing,
    /// Users' mailboxes need their addresses approved (`requireapprovalforuseremail`).
    pub require_approval_for_users: bool,
    /// Queues' mailboxes need their addresses approved (`requireapprovalforqueueemail`).
    pub require_approval_for_queues: bool,
}

#[derive(Deserialize)]
struct OrgRow {
    emailconnectionchannel: Option<i64>,
    #[serde(default)]
    requireapprovalforuseremail: Option<bool>,
    #[serde(default)]
    requireapprovalforqueueemail: Option<bool>,
}

impl Dataverse {
    pub async fn email_processing(&self, org: Uuid) -> Result<EmailProcessing, DataverseError> {
        let req = WebApiRequest::get("read organization", format!("organizations({org})"))
            .query("$select", "emailconnectionchannel");
        let row: OrgRow = self.execute(&req).await?.json()?;
        Ok(EmailProcessing::from_channel(row.emailconnectionchannel))
    }

    /// Email processing and the approval settings, in one read.
    pub async fn org_settings(&self, org: Uuid) -> Result<OrgSettings, DataverseError> {
        let req = WebApiRequest::get("read organization", format!("organizations({org})")).query(
            "$select",
            "emailconnectionchannel,requireapprovalforuseremail,requireapprovalforqueueemail",
        );
        let row: OrgRow = self.execute(&req).await?.json()?;
        // Both are yes/no columns that always have a value; were one missing, approval is
        // assumed needed, which only means approving what may not need it.
        Ok(OrgSettings {
            email_processing: EmailProcessing::from_channel(row.emailconnectionchannel),
            require_approval_for_users: row.requireapprovalforuseremail.unwrap_or(true),
            require_approval_for_queues: row.requireapprovalforqueueemail.unwrap_or(true),
        })
    }

    /// Sets the organization to process email by server-side synchronization.
    pub async fn use_server_side_sync(&self, org: Uuid) -> Result<(), DataverseError> {
        let req = WebApiRequest::update(
            "set email processing",
            format!("organizations({org})"),
            json!({"emailconnectionchannel": 0}),
        );
        self.write(&req).await.map(|_| ())
    }
}
