//! What an operator may do to a batch: pause, resume, cancel, or retry its failed mailboxes.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BatchAction {
    Pause,
    Resume,
    Cancel,
    Retry,
}

impl BatchAction {
    pub const ALL: [BatchAction; 4] =
        [BatchAction::Pause, BatchAction::Resume, BatchAction::Cancel, BatchAction::Retry];

    /// The verb, as the API's paths and the CLI's subcommands name it.
    pub fn name(self) -> &'static str {
        match self {
            BatchAction::Pause => "pause",
            BatchAction::Resume => "resume",
            BatchAction::Cancel => "cancel",
            BatchAction::Retry => "retry",
        }
    }
}

impl fmt::Display for BatchAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
