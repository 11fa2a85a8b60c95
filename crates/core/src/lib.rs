//! Domain types of a mailbox rollout: the steps a mailbox goes through, the states of a
//! mailbox item and of a batch, and which state changes are allowed. No IO.

pub mod batch_state;
pub mod item_state;
pub mod mailbox_list;
pub mod step;

pub use batch_state::BatchState;
pub use item_state::ItemState;
pub use step::Step;
