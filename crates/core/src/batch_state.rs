//! States of a batch, and which control changes are allowed.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BatchState {
    Running,
    Paused,
    Cancelled,
    Completed,
}

impl BatchState {
    pub const ALL: [BatchState; 4] =
        [BatchState::Running, BatchState::Paused, BatchState::Cancelled, BatchState::Completed];

    pub fn name(self) -> &'static str {
        match self {
            BatchState::Running => "running",
            BatchState::Paused => "paused",
            BatchState::Cancelled => "cancelled",
            BatchState::Completed => "completed",
        }
    }

    pub fn is_final(self) -> bool {
        matches!(self, BatchState::Cancelled | BatchState::Completed)
    }

    pub fn can_become(self, to: BatchState) -> bool {
        use BatchState::*;
        matches!(
            (self, to),
            (Running, Paused | Cancelled | Completed) | (Paused, Running | Cancelled) | (Completed, Running)
        )
    }
}

impl fmt::Display for BatchState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for BatchState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        BatchState::ALL
            .into_iter()
            .find(|st| st.name() == s)
            .ok_or_else(|| format!("unknown batch state '{s}'"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cancelled_is_the_end_and_completed_reopens_only_for_a_retry() {
        for to in BatchState::ALL {
            assert!(!BatchState::Cancelled.can_become(to));
        }
        assert!(BatchState::Completed.can_become(BatchState::Running));
        assert!(BatchState::Paused.can_become(BatchState::Running));
        assert!(!BatchState::Paused.can_become(BatchState::Completed));
    }
}
