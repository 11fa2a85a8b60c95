//! What the store holds: batches, their mailbox items, transitions between item states, and
//! the exact counters of a batch's progress.

pub(crate) use activator_core::Progress;
use activator_core::{BatchState, ItemState, PauseReason, Step};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub type BatchId = Uuid;

/// Milliseconds since the Unix epoch.
pub type Millis = i64;

/// A batch to create.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewBatch {
    /// A repeat with the same key returns the first batch instead of creating another.
    pub idempotency_key: Option<String>,
    pub environment: String,
    pub steps: Vec<Step>,
    /// Free-form options (e.g. `configure_org`), kept as given.
    pub options: serde_json::Value,
    /// Mailbox references as given (ids or email addresses); an item's index is its position.
    pub mailboxes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Batch {
    pub id: BatchId,
    pub idempotency_key: Option<String>,
    pub environment: String,
    pub steps: Vec<Step>,
    pub options: serde_json::Value,
    pub state: BatchState,
    pub total: u64,
    pub created_at: Millis,
    pub updated_at: Millis,
    /// Why the batch paused itself (canary, breaker, prerequisite); cleared when it resumes.
    pub paused_reason: Option<PauseReason>,
    /// The canary ran to the end and passed, or an operator resumed the batch after it failed:
    /// the rest of the batch may start.
    pub canary_done: bool,
}

/// The last error an item met, with what the user can do about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemError {
    pub code: String,
    pub message: String,
    pub remedy: Option<String>,
}

/// One mailbox of a batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    pub batch: BatchId,
    pub index: u32,
    /// The reference as given at creation.
    pub mailbox: String,
    /// The mailbox's id, once resolved.
    pub mailbox_id: Option<Uuid>,
    pub state: ItemState,
    /// The step the item is at: next to run, running, or waiting on.
    pub step: Option<Step>,
    /// Attempts made at the current step.
    pub attempts: u32,
    /// When a waiting item is due again.
    pub due_at: Option<Millis>,
    pub error: Option<ItemError>,
    pub updated_at: Millis,
    /// False until the item's first transition: the pipeline has not started it yet.
    pub started: bool,
}

/// A change of one item, applied only when the item is still as the caller saw it (state and
/// step), so applying it twice changes nothing the second time.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    pub index: u32,
    pub from: ItemState,
    /// The step the item must be at (checked together with `from`).
    pub from_step: Option<Step>,
    pub to: ItemState,
    /// New values, replacing the old ones.
    pub step: Option<Step>,
    pub attempts: u32,
    pub due_at: Option<Millis>,
    pub error: Option<ItemError>,
    /// Set when Some; kept when None.
    pub mailbox_id: Option<Uuid>,
    /// The outcome of a step this transition records, for the circuit breaker's window.
    pub outcome: Option<StepOutcome>,
}

/// How a step of one mailbox ended: done, or failed for good with an error code. Retries and
/// 429s are not outcomes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepOutcome {
    pub step: Step,
    /// The error code of a permanent failure; None when the step succeeded.
    pub failure: Option<String>,
}

impl StepOutcome {
    pub fn succeeded(step: Step) -> StepOutcome {
        StepOutcome { step, failure: None }
    }

    pub fn failed(step: Step, code: &str) -> StepOutcome {
        StepOutcome { step, failure: Some(code.to_string()) }
    }
}

/// Outcomes kept per batch and step, newest first (the circuit breaker's window is at most this).
pub const OUTCOMES_KEPT: usize = 100;

impl Transition {
    /// Checks what every store requires of a transition before applying it: a change the
    /// state machine allows, and a due time for an item that is to wait.
    pub fn validate(&self) -> Result<(), String> {
        if !self.from.can_become(self.to) {
            return Err(format!("item {} may not go from {} to {}", self.index, self.from, self.to));
        }
        if self.to == ItemState::Waiting && self.due_at.is_none() {
            return Err(format!("item {} cannot wait without a due time", self.index));
        }
        if self.to == ItemState::Verifying && self.due_at.is_none() {
            return Err(format!("item {} cannot be verified without a deadline", self.index));
        }
        Ok(())
    }
}

/// Checks a batch control change against the state machine before a store applies it.
pub fn check_batch_change(from: BatchState, to: BatchState) -> Result<(), String> {
    if from.can_become(to) { Ok(()) } else { Err(format!("a batch may not go from {from} to {to}")) }
}

/// What [`crate::BatchStore::delete_batch`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deletion {
    Deleted,
    /// The batch is not finished (it is in this state) and was kept.
    NotFinished(BatchState),
    NotFound,
}

/// How much of a batch's work is due, without reading it: see [`crate::BatchStore::due_summary`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DueSummary {
    /// Pending items (started or not), and waiting ones whose due time has passed.
    pub due: u64,
    /// Since when the longest-due of them has been due.
    pub oldest_due_since: Option<Millis>,
}
