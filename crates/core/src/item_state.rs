//! States of one mailbox in a batch, and which changes between them are allowed.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemState {
    /// Due for its next step now.
    Pending,
    /// Handed to the queue; a worker will run its step.
    Queued,
    /// A worker is running its step.
    Running,
    /// Waiting until a due time: a retry or a Retry-After.
    Waiting,
    /// Dataverse runs an asynchronous process (Test & Enable, app deployment) for it; the
    /// verification sweep reads the result. Its due time is the deadline of that process.
    Verifying,
    /// Every requested step done.
    Done,
    /// Stopped by a permanent error or after its last attempt.
    Failed,
    /// Already in the requested end state when planned.
    Skipped,
    /// Its batch was cancelled before it finished.
    Cancelled,
}

impl ItemState {
    pub const ALL: [ItemState; 9] = [
        ItemState::Pending,
        ItemState::Queued,
        ItemState::Running,
        ItemState::Waiting,
        ItemState::Verifying,
        ItemState::Done,
        ItemState::Failed,
        ItemState::Skipped,
        ItemState::Cancelled,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ItemState::Pending => "pending",
            ItemState::Queued => "queued",
            ItemState::Running => "running",
            ItemState::Waiting => "waiting",
            ItemState::Verifying => "verifying",
            ItemState::Done => "done",
            ItemState::Failed => "failed",
            ItemState::Skipped => "skipped",
            ItemState::Cancelled => "cancelled",
        }
    }

    /// No further change happens to an item in this state (but a manual retry of failed ones).
    pub fn is_final(self) -> bool {
        matches!(self, ItemState::Done | ItemState::Failed | ItemState::Skipped | ItemState::Cancelled)
    }

    /// Whether an item may go from `self` to `to`.
    pub fn can_become(self, to: ItemState) -> bool {
        use ItemState::*;
        match (self, to) {
            // Planning may find a step already done, or its process already running.
            // A pending item may be re-planned in place (its step or mailbox id set).
            (Pending, Pending | Queued | Verifying | Skipped | Done | Failed | Cancelled) => true,
            (Queued, Running | Pending | Cancelled) => true,
            (Running, Waiting | Verifying | Done | Failed | Pending | Cancelled) => true,
            (Waiting, Pending | Verifying | Done | Failed | Cancelled) => true,
            (Verifying, Pending | Done | Failed | Cancelled) => true,
            // A retry of a failed item starts over from pending.
            (Failed, Pending) => true,
            _ => false,
        }
    }
}

impl fmt::Display for ItemState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ItemState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        ItemState::ALL
            .into_iter()
            .find(|st| st.name() == s)
            .ok_or_else(|| format!("unknown item state '{s}'"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn final_states_change_only_by_retry() {
        for from in ItemState::ALL.into_iter().filter(|s| s.is_final()) {
            for to in ItemState::ALL {
                let allowed = from == ItemState::Failed && to == ItemState::Pending;
                assert_eq!(from.can_become(to), allowed, "{from} -> {to}");
            }
        }
    }

    #[test]
    fn the_normal_path_is_allowed() {
        use ItemState::*;
        for (a, b) in
            [(Pending, Queued), (Queued, Running), (Running, Waiting), (Waiting, Pending), (Running, Done)]
        {
            assert!(a.can_become(b), "{a} -> {b}");
        }
        assert!(!Pending.can_become(Running), "a job runs only after it was queued");
    }
}
