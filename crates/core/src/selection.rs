//! Mailboxes chosen by a query of the tenant instead of a list: business units, teams,
//! security roles and the mailboxes' state, combined with AND, minus a list to leave out. The
//! pipeline resolves a selection into a concrete list when a batch is created, so the batch's
//! membership does not drift while it runs.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Selection {
    /// Users of any of these business units (by name).
    pub business_units: Vec<String>,
    /// Members of every one of these teams (by name).
    pub teams: Vec<String>,
    /// Users holding every one of these security roles (by name, in any business unit).
    pub security_roles: Vec<String>,
    pub mailbox_state: MailboxState,
    /// Mailboxes to leave out: ids, email addresses, user principal names or systemuser ids,
    /// as a mailbox list gives them.
    pub exclude: Vec<String>,
}

impl Selection {
    /// Whether it narrows anything down (an empty selection would take every mailbox).
    pub fn is_empty(&self) -> bool {
        self.business_units.is_empty()
            && self.teams.is_empty()
            && self.security_roles.is_empty()
            && self.mailbox_state == MailboxState::Any
    }
}

/// What a selection found when it was resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SelectionFound {
    /// The selection in words.
    pub description: String,
    /// Mailboxes taken.
    pub mailboxes: u64,
    /// Mailboxes the query matched but the exclusion list left out.
    pub excluded: u64,
}

/// Which mailboxes to take by where they stand.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MailboxState {
    /// Their email address is not approved yet.
    NotApproved,
    /// Test & Enable has not passed.
    NotTested,
    /// Test & Enable ran and failed.
    TestFailed,
    /// App for Outlook is not installed.
    NotDeployed,
    #[default]
    Any,
}

impl MailboxState {
    pub const ALL: [MailboxState; 5] = [
        MailboxState::NotApproved,
        MailboxState::NotTested,
        MailboxState::TestFailed,
        MailboxState::NotDeployed,
        MailboxState::Any,
    ];

    pub fn name(self) -> &'static str {
        match self {
            MailboxState::NotApproved => "not-approved",
            MailboxState::NotTested => "not-tested",
            MailboxState::TestFailed => "test-failed",
            MailboxState::NotDeployed => "not-deployed",
            MailboxState::Any => "any",
        }
    }
}

impl fmt::Display for MailboxState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for MailboxState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        MailboxState::ALL.into_iter().find(|m| m.name() == s.trim()).ok_or_else(|| {
            let names: Vec<&str> = MailboxState::ALL.iter().map(|m| m.name()).collect();
            format!("'{s}' is not a mailbox state: use one of {}", names.join(", "))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_selection_reads_as_the_api_takes_it() {
        let s: Selection =
            serde_json::from_str(r#"{"business_units": ["Sales"], "mailbox_state": "not-approved"}"#)
                .expect("valid");
        assert_eq!((s.business_units.len(), s.mailbox_state), (1, MailboxState::NotApproved));
        assert!(!s.is_empty() && Selection::default().is_empty());
        assert!(serde_json::from_str::<Selection>(r#"{"business_unit": ["Sales"]}"#).is_err());
        assert_eq!("test-failed".parse(), Ok(MailboxState::TestFailed));
        assert!("failed".parse::<MailboxState>().expect_err("not a state").contains("not-approved"));
    }
}
