//! Why a list cannot be read at all, each reason saying what to do next. Rows that cannot be
//! used are not errors: the list reports them (see [`super::MailboxList`]).

use std::fmt;

/// Where Excel saves a list the reader takes.
const SAVE_AS: &str = "save it as CSV UTF-8 from Excel (File > Save As > CSV UTF-8) and use that file";

/// A list that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListError {
    /// Not text in an encoding the reader knows; `why` says what it is instead.
    NotText { why: String },
    /// No header row (nothing but blank lines).
    Empty,
    /// The first line holds a mailbox where the header row belongs.
    HeaderIsMailbox { value: String },
    /// No column of the header row names mailboxes (and there are several columns).
    NoColumn { headers: Vec<String> },
    /// The CSV reader failed at a line.
    Csv { line: u64, message: String },
}

impl fmt::Display for ListError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotText { why } => write!(f, "the list is not a text file ({why}): {SAVE_AS}"),
            Self::Empty => f.write_str(
                "the list is empty: give a header row such as 'email' and then one mailbox per row",
            ),
            Self::HeaderIsMailbox { value } => write!(
                f,
                "the first line ('{value}') is a mailbox, not a header: add a header row such as 'email' \
                 above it"
            ),
            Self::NoColumn { headers } => write!(
                f,
                "no mailbox column in the header row ({}): name the column holding the mailboxes \
                 'mailbox id', 'email', 'user principal name' or 'systemuser id'",
                headers.iter().map(|h| format!("'{h}'")).collect::<Vec<_>>().join(", ")
            ),
            Self::Csv { line, message } => {
                write!(f, "the CSV cannot be read at line {line} ({message}): {SAVE_AS}")
            }
        }
    }
}

impl std::error::Error for ListError {}
