//! What the pipeline needs from Dataverse, as a trait: the real client implements it, and a
//! test can put something else in its place. Every method is one typed operation of the
//! client (bulk reads for planning and verification, one write per step).

use dataverse::{Dataverse, DataverseError, EmailProcessing, Mailbox, RoleAssignment};
use std::collections::HashMap;
use std::future::Future;
use uuid::Uuid;

pub trait DataverseOps: Send + Sync + 'static {
    /// How many of Dataverse's default per-user budgets (20 requests a second) the application
    /// users have together: each user adds one, a shortened window (a rehearsal against the
    /// simulator) adds in proportion.
    fn capacity(&self) -> f64;
    /// Checks the credentials and returns the organization id.
    fn organization(&self) -> impl Future<Output = Result<Uuid, DataverseError>> + Send;
    fn email_processing(
        &self,
        org: Uuid,
    ) -> impl Future<Output = Result<EmailProcessing, DataverseError>> + Send;
    fn use_server_side_sync(&self, org: Uuid) -> impl Future<Output = Result<(), DataverseError>> + Send;
    fn mailboxes_by_ids(
        &self,
        ids: &[Uuid],
    ) -> impl Future<Output = Result<Vec<Mailbox>, DataverseError>> + Send;
    fn mailboxes_by_emails(
        &self,
        emails: &[String],
    ) -> impl Future<Output = Result<Vec<Mailbox>, DataverseError>> + Send;
    fn approve_mailbox(&self, id: Uuid) -> impl Future<Output = Result<(), DataverseError>> + Send;
    fn schedule_test_and_enable(&self, id: Uuid) -> impl Future<Output = Result<(), DataverseError>> + Send;
    fn mark_primary_for_exchange_sync(
        &self,
        id: Uuid,
    ) -> impl Future<Output = Result<(), DataverseError>> + Send;
    fn schedule_app_deployment(&self, id: Uuid) -> impl Future<Output = Result<(), DataverseError>> + Send;
    fn user_business_unit(&self, user: Uuid) -> impl Future<Output = Result<Uuid, DataverseError>> + Send;
    /// Business units of many users in bulk (absent: no such user).
    fn users_business_units(
        &self,
        users: &[Uuid],
    ) -> impl Future<Output = Result<HashMap<Uuid, Uuid>, DataverseError>> + Send;
    fn app_role_for_unit(
        &self,
        unit: Uuid,
    ) -> impl Future<Output = Result<Option<Uuid>, DataverseError>> + Send;
    fn user_has_role(
        &self,
        user: Uuid,
        role: Uuid,
    ) -> impl Future<Output = Result<bool, DataverseError>> + Send;
    fn assign_role(
        &self,
        user: Uuid,
        role: Uuid,
    ) -> impl Future<Output = Result<RoleAssignment, DataverseError>> + Send;
}

impl DataverseOps for Dataverse {
    fn capacity(&self) -> f64 {
        Dataverse::capacity(self)
    }
    async fn organization(&self) -> Result<Uuid, DataverseError> {
        Ok(self.connect().await?.organization_id)
    }
    async fn email_processing(&self, org: Uuid) -> Result<EmailProcessing, DataverseError> {
        Dataverse::email_processing(self, org).await
    }
    async fn use_server_side_sync(&self, org: Uuid) -> Result<(), DataverseError> {
        Dataverse::use_server_side_sync(self, org).await
    }
    async fn mailboxes_by_ids(&self, ids: &[Uuid]) -> Result<Vec<Mailbox>, DataverseError> {
        Dataverse::mailboxes_by_ids(self, ids).await
    }
    async fn mailboxes_by_emails(&self, emails: &[String]) -> Result<Vec<Mailbox>, DataverseError> {
        Dataverse::mailboxes_by_emails(self, emails).await
    }
    async fn approve_mailbox(&self, id: Uuid) -> Result<(), DataverseError> {
        Dataverse::approve_mailbox(self, id).await
    }
    async fn schedule_test_and_enable(&self, id: Uuid) -> Result<(), DataverseError> {
        Dataverse::schedule_test_and_enable(self, id).await
    }
    async fn mark_primary_for_exchange_sync(&self, id: Uuid) -> Result<(), DataverseError> {
        Dataverse::mark_primary_for_exchange_sync(self, id).await
    }
    async fn schedule_app_deployment(&self, id: Uuid) -> Result<(), DataverseError> {
        Dataverse::schedule_app_deployment(self, id).await
    }
    async fn user_business_unit(&self, user: Uuid) -> Result<Uuid, DataverseError> {
        Dataverse::user_business_unit(self, user).await
    }
    async fn users_business_units(&self, users: &[Uuid]) -> Result<HashMap<Uuid, Uuid>, DataverseError> {
        Dataverse::users_business_units(self, users).await
    }
    async fn app_role_for_unit(&self, unit: Uuid) -> Result<Option<Uuid>, DataverseError> {
        Dataverse::app_role_for_unit(self, unit).await
    }
    async fn user_has_role(&self, user: Uuid, role: Uuid) -> Result<bool, DataverseError> {
        Dataverse::user_has_role(self, user, role).await
    }
    async fn assign_role(&self, user: Uuid, role: Uuid) -> Result<RoleAssignment, DataverseError> {
        Dataverse::assign_role(self, user, role).await
    }
}
