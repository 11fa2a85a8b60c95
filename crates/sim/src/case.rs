//! The awkward cases a seeded mailbox can be in, and how large a share of mailboxes gets each.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What is special about a seeded mailbox. `Normal` mailboxes wait for approval and succeed at
/// every step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Case {
    Normal,
    /// Email already approved (`emailrouteraccessapproval` = 1).
    AlreadyApproved,
    /// Approved, tested and enabled; its user already holds the App for Outlook role.
    AlreadyTested,
    /// An admin rejected the email address (`emailrouteraccessapproval` = 3).
    ApprovalRejected,
    /// The mailbox record is inactive (`statecode` = 1): Test & Enable fails.
    InactiveMailbox,
    /// The Exchange mailbox syncs with another organization: ACT sync fails unless this org is
    /// marked primary (`orgmarkedasprimaryforexchangesync`).
    OtherOrg,
    /// Approving needs an Exchange or Global admin: the approve write answers 403.
    ApprovalNeedsAdmin,
    /// The owning user is disabled: Test & Enable fails.
    UserDisabled,
    /// The mailbox is deleted right after its first successful write; later calls get 404.
    DeletedMidRun,
    /// The user's business unit lacks the "Dynamics 365 App for Outlook User" role.
    NoRoleInBusinessUnit,
}

impl Case {
    pub const ALL: [Case; 10] = [
        Case::Normal,
        Case::AlreadyApproved,
        Case::AlreadyTested,
        Case::ApprovalRejected,
        Case::InactiveMailbox,
        Case::OtherOrg,
        Case::ApprovalNeedsAdmin,
        Case::UserDisabled,
        Case::DeletedMidRun,
        Case::NoRoleInBusinessUnit,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Case::Normal => "normal",
            Case::AlreadyApproved => "already_approved",
            Case::AlreadyTested => "already_tested",
            Case::ApprovalRejected => "approval_rejected",
            Case::InactiveMailbox => "inactive_mailbox",
            Case::OtherOrg => "other_org",
            Case::ApprovalNeedsAdmin => "approval_needs_admin",
            Case::UserDisabled => "user_disabled",
            Case::DeletedMidRun => "deleted_mid_run",
            Case::NoRoleInBusinessUnit => "no_role_in_business_unit",
        }
    }

    pub fn from_name(name: &str) -> Option<Case> {
        Case::ALL.into_iter().find(|c| c.name() == name)
    }
}

/// Share (0.0–1.0) of seeded mailboxes in each awkward case; the rest are `Normal`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CaseShares(pub BTreeMap<Case, f64>);

impl Default for CaseShares {
    fn default() -> Self {
        Self(BTreeMap::from([
            (Case::AlreadyApproved, 0.05),
            (Case::AlreadyTested, 0.03),
            (Case::ApprovalRejected, 0.01),
            (Case::InactiveMailbox, 0.01),
            (Case::OtherOrg, 0.02),
            (Case::ApprovalNeedsAdmin, 0.01),
            (Case::UserDisabled, 0.01),
            (Case::DeletedMidRun, 0.005),
            (Case::NoRoleInBusinessUnit, 0.005),
        ]))
    }
}

impl CaseShares {
    /// No awkward cases at all: every mailbox is `Normal`.
    pub fn none() -> Self {
        Self(BTreeMap::new())
    }

    /// How many of `n` mailboxes get each awkward case: the share rounded, at least one when the
    /// share is positive and `n` is large enough to hold one of each, so small demos still show
    /// every case.
    pub fn counts(&self, n: usize) -> Vec<(Case, usize)> {
        let awkward = self.0.iter().filter(|(c, s)| **c != Case::Normal && **s > 0.0);
        let mut out = Vec::new();
        let mut used = 0usize;
        let room_for_each = n >= 4 * self.0.len();
        for (&case, &share) in awkward {
            let mut count = (share * n as f64).round() as usize;
            if count == 0 && room_for_each {
                count = 1;
            }
            let count = count.min(n - used);
            used += count;
            out.push((case, count));
        }
        out
    }

    pub fn validate(&self) -> Result<(), String> {
        let mut total = 0.0;
        for (case, share) in &self.0 {
            if !(0.0..=1.0).contains(share) {
                return Err(format!("case share for {} must be between 0 and 1, got {share}", case.name()));
            }
            if *case != Case::Normal {
                total += share;
            }
        }
        if total > 1.0 {
            return Err(format!("case shares add up to {total:.3}, more than 1"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for c in Case::ALL {
            assert_eq!(Case::from_name(c.name()), Some(c));
        }
        assert_eq!(Case::from_name("bogus"), None);
    }

    #[test]
    fn counts_follow_shares_and_give_small_runs_one_of_each() {
        let shares = CaseShares::default();
        let counts: BTreeMap<Case, usize> = shares.counts(2000).into_iter().collect();
        assert_eq!(counts[&Case::AlreadyApproved], 100);
        assert_eq!(counts[&Case::DeletedMidRun], 10);
        let small: BTreeMap<Case, usize> = shares.counts(100).into_iter().collect();
        assert!(small.values().all(|&c| c >= 1));
        assert!(shares.counts(3).iter().map(|(_, c)| c).sum::<usize>() <= 3);
    }

    #[test]
    fn shares_over_one_are_rejected() {
        let bad = CaseShares(BTreeMap::from([(Case::OtherOrg, 0.7), (Case::UserDisabled, 0.5)]));
        assert!(bad.validate().is_err());
        assert!(CaseShares::default().validate().is_ok());
    }
}
