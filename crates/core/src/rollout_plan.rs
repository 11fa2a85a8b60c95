//! What a rollout would do, found by reading only: the organization's prerequisites, for
//! each mailbox the outcome the run would have and what each requested step needs, totals,
//! and an estimate of the requests, execution time and duration.

use crate::Step;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The outcome a run would have for one mailbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlannedOutcome {
    /// At least one step needs a write, and nothing seen stands in the way.
    WillActivate,
    /// Every requested step is already so.
    AlreadyDone,
    /// A step cannot succeed: `reason` and `remedy` say why and what to do.
    WillFail,
}

impl PlannedOutcome {
    pub const ALL: [PlannedOutcome; 3] =
        [PlannedOutcome::WillActivate, PlannedOutcome::AlreadyDone, PlannedOutcome::WillFail];

    pub fn name(self) -> &'static str {
        match self {
            PlannedOutcome::WillActivate => "will_activate",
            PlannedOutcome::AlreadyDone => "already_done",
            PlannedOutcome::WillFail => "will_fail",
        }
    }
}

/// What one requested step of one mailbox needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepNeed {
    /// A write is needed.
    Needed,
    /// Already so: nothing is written.
    Already,
    /// It cannot succeed (this step, or one before it, fails).
    Blocked,
}

/// One mailbox of the plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedMailbox {
    /// The reference as the list or selection gave it.
    pub mailbox: String,
    pub mailbox_id: Option<String>,
    pub outcome: PlannedOutcome,
    /// Each requested step, by name.
    pub steps: BTreeMap<String, StepNeed>,
    /// The error code the run would give, for a mailbox that will fail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remedy: Option<String>,
    /// What was seen, in words (e.g. "the user is disabled").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The name of the user's business unit, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_unit: Option<String>,
}

/// The organization's side of the rollout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prerequisites {
    /// Email processed by server-side synchronization (required).
    pub server_side_sync: bool,
    /// What the organization uses instead, when it is not server-side sync.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_processing: Option<String>,
    pub approval_required_for_users: bool,
    pub approval_required_for_queues: bool,
    /// Who writes the approvals: the application user (client id) the run uses.
    pub approver: String,
    /// Whether that identity is likely allowed to approve: `likely`, `unlikely` or `unknown`.
    pub approver_allowed: String,
    /// Notes for the admin, one sentence each.
    pub notes: Vec<String>,
}

/// The plan's counts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PlanTotals {
    pub mailboxes: u64,
    pub by_outcome: BTreeMap<String, u64>,
    /// Mailboxes that will fail, by error code.
    pub by_reason: BTreeMap<String, u64>,
    /// By business unit name, then by outcome.
    pub by_business_unit: BTreeMap<String, BTreeMap<String, u64>>,
    /// Writes by step.
    pub writes_by_step: BTreeMap<String, u64>,
}

/// The cost and duration of the rollout, estimated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanEstimate {
    /// Requests the rollout will send (writes travel in `$batch` requests).
    pub requests: u64,
    /// Seconds of Dataverse execution time it will use.
    pub execution_secs: f64,
    /// Estimated duration with the configured application users.
    pub duration_secs: f64,
    /// Estimated duration with 1, 3 and 10 application users.
    pub duration_secs_by_users: BTreeMap<u32, f64>,
    /// The fastest the limits allow with the configured users (every budget fully used).
    pub limits_allow_secs: f64,
    /// How long Test & Enable and deployment were assumed to take for one mailbox.
    #[serde(default)]
    pub process_secs: f64,
    pub application_users: u32,
    /// Milliseconds a read of 100 mailboxes took while planning (the calibration).
    pub measured_read_ms: f64,
    /// How the figures were reached, and what they leave out.
    pub basis: String,
}

/// A read-only plan of a rollout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RolloutPlan {
    pub environment: String,
    pub steps: Vec<Step>,
    pub prerequisites: Prerequisites,
    pub mailboxes: Vec<PlannedMailbox>,
    pub totals: PlanTotals,
    pub estimate: PlanEstimate,
    /// Requests the plan itself sent (all reads).
    pub plan_requests: u64,
    /// What the selection found, when the mailboxes came from one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selection: Option<crate::SelectionFound>,
}

impl PlanTotals {
    /// Counts `mailboxes`.
    pub fn of(mailboxes: &[PlannedMailbox]) -> PlanTotals {
        let mut t = PlanTotals { mailboxes: mailboxes.len() as u64, ..PlanTotals::default() };
        for m in mailboxes {
            *t.by_outcome.entry(m.outcome.name().to_string()).or_default() += 1;
            if let Some(reason) = &m.reason {
                *t.by_reason.entry(reason.clone()).or_default() += 1;
            }
            let unit = m.business_unit.clone().unwrap_or_else(|| "(unknown)".to_string());
            *t.by_business_unit.entry(unit).or_default().entry(m.outcome.name().to_string()).or_default() +=
                1;
            for (step, need) in &m.steps {
                if *need == StepNeed::Needed && m.outcome == PlannedOutcome::WillActivate {
                    *t.writes_by_step.entry(step.clone()).or_default() += 1;
                }
            }
        }
        t
    }
}
