//! The organization's email processing setting: server-side synchronization is required.

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

#[derive(Deserialize)]
struct OrgRow {
    emailconnectionchannel: Option<i64>,
}

impl Dataverse {
    pub async fn email_processing(&self, org: Uuid) -> Result<EmailProcessing, DataverseError> {
        let req = WebApiRequest::get("read organization", format!("organizations({org})"))
            .query("$select", "emailconnectionchannel");
        let row: OrgRow = self.execute(&req).await?.json()?;
        Ok(match row.emailconnectionchannel.unwrap_or(-1) {
            0 => EmailProcessing::ServerSideSync,
            1 => EmailProcessing::EmailRouter,
            other => EmailProcessing::Other(other),
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
