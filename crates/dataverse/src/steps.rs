//! The per-mailbox writes of the rollout. Test & Enable and App for Outlook deployment have no
//! documented Web API action: each is isolated in one function here, starting the process by
//! the flag column that community practice uses (unconfirmed as supported by Microsoft).

use crate::dataverse_client::Dataverse;
use crate::error::DataverseError;
use crate::request::WebApiRequest;
use serde_json::{Value, json};
use uuid::Uuid;

/// Approved, in `emailrouteraccessapproval`.
pub const APPROVED: i64 = 1;

impl Dataverse {
    async fn update_mailbox(
        &self,
        operation: &'static str,
        id: Uuid,
        body: Value,
    ) -> Result<(), DataverseError> {
        self.write(&WebApiRequest::update(operation, format!("mailboxes({id})"), body)).await.map(|_| ())
    }

    /// Approves the mailbox's email address.
    pub async fn approve_mailbox(&self, id: Uuid) -> Result<(), DataverseError> {
        self.update_mailbox("approve mailbox", id, json!({"emailrouteraccessapproval": APPROVED})).await
    }

    /// Approves the email address on the owning user as well (as the common PowerShell module does).
    pub async fn approve_user(&self, user: Uuid) -> Result<(), DataverseError> {
        let req = WebApiRequest::update(
            "approve user",
            format!("systemusers({user})"),
            json!({"emailrouteraccessapproval": APPROVED}),
        );
        self.write(&req).await.map(|_| ())
    }

    /// Starts Test & Enable: delivery methods to server-side sync, then the scheduled flag.
    /// Completion is read in bulk later (see `Mailbox::test_outcome`).
    pub async fn schedule_test_and_enable(&self, id: Uuid) -> Result<(), DataverseError> {
        let body = json!({
            "incomingemaildeliverymethod": 2,
            "outgoingemaildeliverymethod": 2,
            "testemailconfigurationscheduled": true,
        });
        self.update_mailbox("schedule test and enable", id, body).await
    }

    /// Makes this organization the primary one for the Exchange mailbox's sync (the override for
    /// a mailbox tied to another organization).
    pub async fn mark_primary_for_exchange_sync(&self, id: Uuid) -> Result<(), DataverseError> {
        self.update_mailbox("mark primary org", id, json!({"orgmarkedasprimaryforexchangesync": true})).await
    }

    /// Starts the App for Outlook deployment for the mailbox's user.
    pub async fn schedule_app_deployment(&self, id: Uuid) -> Result<(), DataverseError> {
        self.update_mailbox("schedule app deployment", id, json!({"officeappsdeploymentscheduled": true}))
            .await
    }
}
