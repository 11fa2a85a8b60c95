//! Runs one step of one mailbox against Dataverse: the single write (or, for the role, check
//! then write) that the step needs. Deciding whether the step is needed at all happened in
//! planning, just before the job was queued.

use crate::dataverse_ops::DataverseOps;
use crate::remedy;
use activator_core::Step;
use dataverse::DataverseError;
use store::ItemError;
use uuid::Uuid;

/// How a step ended.
#[derive(Debug, Clone, PartialEq)]
pub enum StepResult {
    /// Done at once (approve, assign role).
    Done,
    /// Dataverse runs it asynchronously (Test & Enable, deployment): verify it later.
    Started,
    /// Dataverse refused or failed; classified by the caller.
    Error(DataverseError),
    /// A failure of our own naming, permanent.
    Failed(ItemError),
}

pub async fn run_step<D: DataverseOps>(
    dataverse: &D,
    step: Step,
    mailbox: Uuid,
    user: Option<Uuid>,
    role: Option<Uuid>,
) -> StepResult {
    let result = match step {
        Step::Approve => dataverse.approve_mailbox(mailbox).await.map(|()| StepResult::Done),
        Step::TestAndEnable => {
            dataverse.schedule_test_and_enable(mailbox).await.map(|()| StepResult::Started)
        }
        Step::DeployApp => dataverse.schedule_app_deployment(mailbox).await.map(|()| StepResult::Started),
        Step::AssignRole => {
            let Some(user) = user else { return StepResult::Failed(remedy::mailbox_without_user()) };
            assign_role(dataverse, user, role).await
        }
    };
    result.unwrap_or_else(StepResult::Error)
}

async fn assign_role<D: DataverseOps>(
    dataverse: &D,
    user: Uuid,
    role: Option<Uuid>,
) -> Result<StepResult, DataverseError> {
    let role = match role {
        Some(role) => role,
        None => {
            let unit = dataverse.user_business_unit(user).await?;
            let Some(role) = dataverse.app_role_for_unit(unit).await? else {
                return Ok(StepResult::Failed(remedy::role_missing_in_unit()));
            };
            role
        }
    };
    // Checked first: a duplicate association is an error Dataverse answers slowly, and a
    // rerun should send no writes at all.
    if !dataverse.user_has_role(user, role).await? {
        dataverse.assign_role(user, role).await?;
    }
    Ok(StepResult::Done)
}
