//! The job the queue carries: which item of which batch, and the step to run. Everything else
//! (attempts, due time, errors) lives in the store.

use activator_core::Step;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ItemJob {
    pub batch: Uuid,
    pub index: u32,
    pub step: Step,
    /// The user owning the mailbox, as planning read it (for the role step).
    #[serde(default)]
    pub user: Option<Uuid>,
    /// The App for Outlook role of the user's business unit, as planning found it (for the
    /// role step; looked up by the job when absent).
    #[serde(default)]
    pub role: Option<Uuid>,
}
