//! The outcome one mailbox would have, from what the bulk reads show: each requested step as
//! needed, already so, or blocked, and for a mailbox that will fail the error code and remedy
//! the run would give. Causes only trying can show (an approval refused to the caller, a Test
//! & Enable that fails in Exchange, a mailbox deleted meanwhile) are not visible here.

use crate::remedy;
use activator_core::{PlannedMailbox, PlannedOutcome, Step, StepNeed};
use dataverse::{DeploymentOutcome, Mailbox, TestOutcome, User};
use std::collections::BTreeMap;
use store::ItemError;

/// What the reads found about one mailbox.
#[derive(Debug, Clone, Copy)]
pub(super) struct Facts<'a> {
    pub reference: &'a str,
    pub mailbox: Option<&'a Mailbox>,
    pub user: Option<&'a User>,
    pub business_unit: Option<&'a str>,
    /// Whether the user's business unit has the App for Outlook role (None: not known).
    pub unit_has_role: Option<bool>,
    pub holds_role: bool,
}

/// What a step needs, or the failure that blocks it (with what was seen).
enum Need {
    Needed,
    Already,
    Blocked(ItemError, Option<String>),
}

fn step_need(step: Step, m: &Mailbox, f: &Facts<'_>) -> Need {
    match step {
        Step::Approve if m.approval == 3 => Need::Blocked(remedy::approval_rejected(), None),
        Step::Approve if m.is_approved() => Need::Already,
        Step::Approve => Need::Needed,
        Step::TestAndEnable if m.test_outcome() == TestOutcome::Succeeded => Need::Already,
        Step::TestAndEnable if m.state != 0 => {
            Need::Blocked(remedy::test_failed(m), Some("the mailbox record is inactive".into()))
        }
        Step::TestAndEnable if f.user.is_some_and(|u| u.disabled) => {
            // The run sees the test fail; only the plan knows it is the disabled user.
            let failed = Mailbox { incoming_status: 2, outgoing_status: 2, ..m.clone() };
            Need::Blocked(remedy::test_failed(&failed), Some("the mailbox's user is disabled".into()))
        }
        Step::TestAndEnable => Need::Needed,
        Step::AssignRole if m.owner.is_none() => Need::Blocked(remedy::mailbox_without_user(), None),
        Step::AssignRole if f.unit_has_role == Some(false) => Need::Blocked(
            remedy::role_missing_in_unit(),
            f.business_unit.map(|u| format!("business unit '{u}' has no App for Outlook role")),
        ),
        Step::AssignRole if f.holds_role => Need::Already,
        Step::AssignRole => Need::Needed,
        Step::DeployApp if m.deployment_outcome() == DeploymentOutcome::Installed => Need::Already,
        Step::DeployApp => Need::Needed,
    }
}

/// The plan of one mailbox for `steps` (in rollout order).
pub(super) fn predict(steps: &[Step], f: &Facts<'_>) -> PlannedMailbox {
    let mut planned = PlannedMailbox {
        mailbox: f.reference.to_string(),
        mailbox_id: f.mailbox.map(|m| m.id.to_string()),
        outcome: PlannedOutcome::AlreadyDone,
        steps: BTreeMap::new(),
        reason: None,
        remedy: None,
        detail: None,
        business_unit: f.business_unit.map(str::to_string),
    };
    let Some(m) = f.mailbox else {
        let error = remedy::mailbox_not_found(f.reference);
        planned.steps = steps.iter().map(|s| (s.name().to_string(), StepNeed::Blocked)).collect();
        planned.outcome = PlannedOutcome::WillFail;
        planned.reason = Some(error.code);
        planned.remedy = error.remedy;
        planned.detail = Some("no such mailbox in this environment".into());
        return planned;
    };
    for step in steps {
        let need = if planned.outcome == PlannedOutcome::WillFail {
            StepNeed::Blocked
        } else {
            match step_need(*step, m, f) {
                Need::Needed => {
                    planned.outcome = PlannedOutcome::WillActivate;
                    StepNeed::Needed
                }
                Need::Already => StepNeed::Already,
                Need::Blocked(error, detail) => {
                    planned.outcome = PlannedOutcome::WillFail;
                    planned.reason = Some(error.code);
                    planned.remedy = error.remedy;
                    planned.detail = detail;
                    StepNeed::Blocked
                }
            }
        };
        planned.steps.insert(step.name().to_string(), need);
    }
    planned
}
