//! What the pipeline needs from Dataverse, as a trait: the real client implements it, and a
//! test can put something else in its place. Every method is one typed operation of the
//! client (bulk reads for planning and verification, one write per step).

use dataverse::{
    BusinessUnit, Dataverse, DataverseError, EmailProcessing, Mailbox, OrgSettings, RoleAssignment, User,
};
use ratelimit::Budgets;
use std::collections::HashMap;
use std::future::Future;
use uuid::Uuid;

pub trait DataverseOps: Send + Sync + 'static {
    /// How many of Dataverse's default per-user budgets (20 requests a second) the application
    /// users have together: each user adds one, a shortened window (a rehearsal against the
    /// simulator) adds in proportion.
    fn capacity(&self) -> f64;
    /// How many application users share the work.
    fn application_users(&self) -> usize;
    /// The limits of each application user.
    fn budgets(&self) -> Budgets;
    /// Who writes the approvals, in words (the application user's client id).
    fn approver(&self) -> String;
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
    /// The organization's email settings (server-side sync, approval required).
    fn org_settings(&self, org: Uuid) -> impl Future<Output = Result<OrgSettings, DataverseError>> + Send;
    fn users_by_ids(&self, ids: &[Uuid]) -> impl Future<Output = Result<Vec<User>, DataverseError>> + Send;
    fn users_by_upns(
        &self,
        upns: &[String],
    ) -> impl Future<Output = Result<Vec<User>, DataverseError>> + Send;
    fn users_in_units(
        &self,
        units: &[Uuid],
    ) -> impl Future<Output = Result<Vec<User>, DataverseError>> + Send;
    fn business_units(&self) -> impl Future<Output = Result<Vec<BusinessUnit>, DataverseError>> + Send;
    fn teams_named(&self, name: &str) -> impl Future<Output = Result<Vec<Uuid>, DataverseError>> + Send;
    fn team_members(&self, team: Uuid) -> impl Future<Output = Result<Vec<Uuid>, DataverseError>> + Send;
    /// (role, business unit) of every role named `name`.
    fn roles_named(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Vec<(Uuid, Uuid)>, DataverseError>> + Send;
    fn role_holders(&self, role: Uuid) -> impl Future<Output = Result<Vec<Uuid>, DataverseError>> + Send;
    fn mailboxes_by_owners(
        &self,
        users: &[Uuid],
    ) -> impl Future<Output = Result<Vec<Mailbox>, DataverseError>> + Send;
    /// Every mailbox of the organization (a selection by mailbox state alone).
    fn all_mailboxes(&self) -> impl Future<Output = Result<Vec<Mailbox>, DataverseError>> + Send;
}

impl DataverseOps for Dataverse {
    fn capacity(&self) -> f64 {
        Dataverse::capacity(self)
    }
    fn application_users(&self) -> usize {
        self.lanes().len()
    }
    fn budgets(&self) -> Budgets {
        Dataverse::budgets(self)
    }
    fn approver(&self) -> String {
        let ids: Vec<String> = self.limit_snapshots().into_iter().map(|(id, _)| id).collect();
        format!("the application user(s) {}", ids.join(", "))
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
    async fn org_settings(&self, org: Uuid) -> Result<OrgSettings, DataverseError> {
        Dataverse::org_settings(self, org).await
    }
    async fn users_by_ids(&self, ids: &[Uuid]) -> Result<Vec<User>, DataverseError> {
        Dataverse::users_by_ids(self, ids).await
    }
    async fn users_by_upns(&self, upns: &[String]) -> Result<Vec<User>, DataverseError> {
        Dataverse::users_by_upns(self, upns).await
    }
    async fn users_in_units(&self, units: &[Uuid]) -> Result<Vec<User>, DataverseError> {
        Dataverse::users_in_units(self, units).await
    }
    async fn business_units(&self) -> Result<Vec<BusinessUnit>, DataverseError> {
        Dataverse::business_units(self).await
    }
    async fn teams_named(&self, name: &str) -> Result<Vec<Uuid>, DataverseError> {
        Dataverse::teams_named(self, name).await
    }
    async fn team_members(&self, team: Uuid) -> Result<Vec<Uuid>, DataverseError> {
        Dataverse::team_members(self, team).await
    }
    async fn roles_named(&self, name: &str) -> Result<Vec<(Uuid, Uuid)>, DataverseError> {
        Dataverse::roles_named(self, name).await
    }
    async fn role_holders(&self, role: Uuid) -> Result<Vec<Uuid>, DataverseError> {
        Dataverse::role_holders(self, role).await
    }
    async fn mailboxes_by_owners(&self, users: &[Uuid]) -> Result<Vec<Mailbox>, DataverseError> {
        Dataverse::mailboxes_by_owners(self, users).await
    }
    async fn all_mailboxes(&self) -> Result<Vec<Mailbox>, DataverseError> {
        Dataverse::mailboxes_where(self, None).await
    }
}
