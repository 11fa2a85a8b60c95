//! `activator plan`: what a rollout would do, found by reading only. The organization's
//! prerequisites; each mailbox's outcome and what each step needs; totals; the requests,
//! execution time and duration, estimated. Reads are in bulk: the mailboxes and their users
//! 100 per request, each business unit's role and its holders once.

mod estimate;
mod predict;

pub use estimate::DEFAULT_PROCESS_SECS;

use crate::dataverse_ops::DataverseOps;
use crate::error::PipelineError;
use crate::resolve::resolve;
use activator_core::rollout_plan::{PlanTotals, Prerequisites};
use activator_core::{RolloutPlan, Step};
use dataverse::{EmailProcessing, User};
use metrics::Metrics;
use predict::{Facts, predict};
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// What to plan.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanRequest {
    pub environment: String,
    /// In any order; planned in rollout order.
    pub steps: Vec<Step>,
    /// Mailbox references, as a list gives them.
    pub mailboxes: Vec<String>,
    /// How long Dataverse takes to Test & Enable and deploy one mailbox (for the estimate).
    pub process_secs: f64,
}

/// Plans `request`, reading only.
pub async fn make_plan<D: DataverseOps>(
    dataverse: &D,
    request: &PlanRequest,
    metrics: &Metrics,
) -> Result<RolloutPlan, PipelineError> {
    let sent_before = metrics.dataverse_requests();
    let steps = crate::local_run::rollout_order(&request.steps);
    let org = dataverse.organization().await?;
    let settings = dataverse.org_settings(org).await?;
    // Read alone, before the bulk reads that queue behind each other: its response time is
    // the closest to Dataverse's own execution time (the calibration of the estimate).
    let started = std::time::Instant::now();
    let unit_names: HashMap<Uuid, String> =
        dataverse.business_units().await?.into_iter().map(|u| (u.id, u.name)).collect();
    let list_read_ms = started.elapsed().as_secs_f64() * 1000.0;
    let references: Vec<&str> = request.mailboxes.iter().map(String::as_str).collect();
    let found = resolve(dataverse, &references, &[]).await?;
    let owners: Vec<Uuid> =
        found.by_id.values().filter_map(|m| m.owner).collect::<HashSet<_>>().into_iter().collect();
    let users: HashMap<Uuid, User> = if owners.is_empty() {
        HashMap::new()
    } else {
        dataverse.users_by_ids(&owners).await?.into_iter().map(|u| (u.id, u)).collect()
    };
    // Each business unit's App for Outlook role and who holds it: once per unit.
    let mut unit_role: HashMap<Uuid, Option<HashSet<Uuid>>> = HashMap::new();
    if steps.contains(&Step::AssignRole) {
        let units: HashSet<Uuid> = users.values().filter_map(|u| u.business_unit).collect();
        for unit in units {
            let holders = match dataverse.app_role_for_unit(unit).await? {
                Some(role) => Some(dataverse.role_holders(role).await?.into_iter().collect()),
                None => None,
            };
            unit_role.insert(unit, holders);
        }
    }
    let mut mailboxes = Vec::with_capacity(request.mailboxes.len());
    for reference in &request.mailboxes {
        let mailbox = found.get(reference);
        let user = mailbox.and_then(|m| m.owner).and_then(|u| users.get(&u));
        let unit = user.and_then(|u| u.business_unit);
        let role = unit.and_then(|u| unit_role.get(&u));
        let facts = Facts {
            reference,
            mailbox,
            user,
            business_unit: unit.and_then(|u| unit_names.get(&u)).map(String::as_str),
            unit_has_role: role.map(Option::is_some),
            holds_role: matches!((role, user), (Some(Some(holders)), Some(u)) if holders.contains(&u.id)),
        };
        mailboxes.push(predict(&steps, &facts));
    }
    let totals = PlanTotals::of(&mailboxes);
    let read_ms =
        estimate::calibrated_read_ms(list_read_ms, metrics.mean_request_seconds("read mailboxes") * 1000.0);
    let users_count = u32::try_from(dataverse.application_users()).unwrap_or(u32::MAX);
    let estimate =
        estimate::estimate(&totals, &dataverse.budgets(), users_count, read_ms, request.process_secs);
    Ok(RolloutPlan {
        environment: request.environment.clone(),
        steps,
        prerequisites: prerequisites(
            &settings.email_processing,
            settings.require_approval_for_users,
            settings.require_approval_for_queues,
            dataverse.approver(),
        ),
        mailboxes,
        totals,
        estimate,
        plan_requests: metrics.dataverse_requests() - sent_before,
        selection: None,
    })
}

fn prerequisites(processing: &EmailProcessing, users: bool, queues: bool, approver: String) -> Prerequisites {
    let mut notes = Vec::new();
    let server_side_sync = *processing == EmailProcessing::ServerSideSync;
    let email_processing = match processing {
        EmailProcessing::ServerSideSync => None,
        EmailProcessing::EmailRouter => Some("the Email Router".to_string()),
        EmailProcessing::Other(v) => Some(format!("an unknown setting ({v})")),
    };
    if !server_side_sync {
        notes.push(
            "The organization does not process email by server-side synchronization: the batch would pause \
             before writing anything; set it, or run with --configure-org."
                .to_string(),
        );
    }
    if !users {
        notes.push(
            "Email approval is not required for users: Test & Enable does not need the approve step."
                .to_string(),
        );
    }
    notes.push(
        "Approvals are written by the application user. Dataverse requires an Exchange or Global admin (or the \
         Delegated Mailbox Approver role) to approve; whether an application user can is not documented, so \
         a refusal shows only when the canary tries."
            .to_string(),
    );
    Prerequisites {
        server_side_sync,
        email_processing,
        approval_required_for_users: users,
        approval_required_for_queues: queues,
        approver,
        approver_allowed: "unknown".into(),
        notes,
    }
}
