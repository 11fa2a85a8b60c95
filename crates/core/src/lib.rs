//! Domain types of a mailbox rollout: the steps a mailbox goes through, the states of a
//! mailbox item and of a batch, which state changes are allowed, the options and control
//! actions of a batch, its progress counts, and the settings and reasons of its canary and
//! circuit breaker. No IO.

pub mod batch_action;
pub mod batch_options;
pub mod batch_state;
pub mod item_state;
pub mod mailbox_list;
pub mod progress;
pub mod rollout_plan;
pub mod safety;
pub mod selection;
pub mod step;

pub use batch_action::BatchAction;
pub use batch_options::BatchOptions;
pub use batch_state::BatchState;
pub use item_state::ItemState;
pub use progress::Progress;
pub use rollout_plan::{PlannedMailbox, PlannedOutcome, RolloutPlan, StepNeed};
pub use safety::{BreakerSetting, CanarySetting, PauseReason, PausedBy};
pub use selection::{MailboxState, Selection, SelectionFound};
pub use step::Step;
