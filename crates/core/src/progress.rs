//! Exact counts of a batch's items, by state and by the step they are at.

use crate::{ItemState, Step};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Exact counts of a batch's items: by state, and by (step, state).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    pub total: u64,
    pub by_state: BTreeMap<ItemState, u64>,
    /// Items by the step they are at; items without a step are not counted here.
    pub by_step: BTreeMap<Step, BTreeMap<ItemState, u64>>,
    /// Pending items that have not started: nothing was read or written for them yet, and the
    /// pipeline admits them only as others finish (the canary first).
    #[serde(default)]
    pub not_started: u64,
}

impl Progress {
    pub fn count(&self, state: ItemState) -> u64 {
        self.by_state.get(&state).copied().unwrap_or(0)
    }

    /// Items that will change no more.
    pub fn finished(&self) -> u64 {
        ItemState::ALL.iter().filter(|s| s.is_final()).map(|s| self.count(*s)).sum()
    }

    /// Items started and not finished: the mailboxes the rollout is working on.
    pub fn open(&self) -> u64 {
        self.total.saturating_sub(self.finished()).saturating_sub(self.not_started)
    }

    /// Items at `step` in `state`.
    pub fn at(&self, step: Step, state: ItemState) -> u64 {
        self.by_step.get(&step).and_then(|m| m.get(&state)).copied().unwrap_or(0)
    }
}
