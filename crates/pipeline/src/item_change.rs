//! The plain transitions of an item: to another state with everything else kept.

use activator_core::ItemState;
use store::{Item, Transition};

/// The transition of `item` from `from` to `to`, keeping everything else as it is (a due time
/// only matters while waiting).
pub(crate) fn change(item: &Item, from: ItemState, to: ItemState) -> Transition {
    Transition {
        index: item.index,
        from,
        from_step: item.step,
        to,
        step: item.step,
        attempts: item.attempts,
        due_at: None,
        error: item.error.clone(),
        mailbox_id: None,
        outcome: None,
    }
}

/// `item`, in the state it was read in, to `to`.
pub(crate) fn keep(item: &Item, to: ItemState) -> Transition {
    change(item, item.state, to)
}
