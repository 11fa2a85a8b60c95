//! Resolving a [`Selection`] into the mailboxes it means, with bulk reads: the users of the
//! business units, teams and roles named (sets intersected), their mailboxes (100 users per
//! request; every mailbox of the organization when only a mailbox state is given), filtered
//! by state, minus the list to leave out.

use crate::dataverse_ops::DataverseOps;
use crate::resolve::resolve;
use activator_core::{MailboxState, Selection, SelectionFound};
use dataverse::{DataverseError, DeploymentOutcome, Mailbox, TestOutcome};
use std::collections::{BTreeSet, HashSet};
use uuid::Uuid;

/// The mailboxes a selection found, as mailbox ids in a stable order (by address, then id).
#[derive(Debug, Clone, PartialEq)]
pub struct Selected {
    pub mailboxes: Vec<Uuid>,
    /// Mailboxes the query matched before the exclusions.
    pub matched: u64,
    /// Of those, left out by the exclusion list.
    pub excluded: u64,
}

impl Selected {
    /// What `selection` found, in short.
    pub fn found(&self, selection: &Selection) -> SelectionFound {
        SelectionFound {
            description: describe(selection),
            mailboxes: self.mailboxes.len() as u64,
            excluded: self.excluded,
        }
    }
}

/// Why a selection cannot be resolved.
#[derive(Debug, thiserror::Error)]
pub enum SelectionError {
    #[error("no business unit named '{name}': the organization has {known}")]
    UnknownBusinessUnit { name: String, known: String },
    #[error("no team named '{0}': check the name in Dataverse (Settings > Security > Teams)")]
    UnknownTeam(String),
    #[error(
        "no security role named '{0}': check the name in Dataverse (Settings > Security > Security Roles)"
    )]
    UnknownRole(String),
    #[error(
        "the selection names no business unit, team, security role or mailbox state: give at least one (a \
         selection of every mailbox is written --mailbox-state any together with a business unit)"
    )]
    Unbounded,
    #[error("the selection found no mailbox ({0}): check the names, or widen the selection")]
    Empty(String),
    #[error("Dataverse: {0}")]
    Dataverse(#[from] DataverseError),
}

/// Whether `m` is in `state`.
pub fn in_state(m: &Mailbox, state: MailboxState) -> bool {
    match state {
        MailboxState::Any => true,
        MailboxState::NotApproved => !m.is_approved(),
        MailboxState::NotTested => m.test_outcome() != TestOutcome::Succeeded,
        MailboxState::TestFailed => matches!(m.test_outcome(), TestOutcome::Failed { .. }),
        MailboxState::NotDeployed => m.deployment_outcome() != DeploymentOutcome::Installed,
    }
}

/// The users of the business units, teams and roles `selection` names (None: it names none).
async fn users<D: DataverseOps>(
    dataverse: &D,
    selection: &Selection,
) -> Result<Option<HashSet<Uuid>>, SelectionError> {
    let mut users: Option<HashSet<Uuid>> = None;
    let mut narrow = |found: HashSet<Uuid>| {
        users = Some(match users.take() {
            Some(before) => before.intersection(&found).copied().collect(),
            None => found,
        });
    };
    if !selection.business_units.is_empty() {
        let units = dataverse.business_units().await?;
        let mut ids = Vec::new();
        for name in &selection.business_units {
            let found: Vec<Uuid> =
                units.iter().filter(|u| u.name.eq_ignore_ascii_case(name.trim())).map(|u| u.id).collect();
            if found.is_empty() {
                let known: BTreeSet<&str> = units.iter().map(|u| u.name.as_str()).collect();
                return Err(SelectionError::UnknownBusinessUnit {
                    name: name.clone(),
                    known: known.into_iter().collect::<Vec<_>>().join(", "),
                });
            }
            ids.extend(found);
        }
        let people = dataverse.users_in_units(&ids).await?;
        narrow(people.iter().filter(|u| !u.application).map(|u| u.id).collect());
    }
    for name in &selection.teams {
        let teams = dataverse.teams_named(name.trim()).await?;
        if teams.is_empty() {
            return Err(SelectionError::UnknownTeam(name.clone()));
        }
        let mut members = HashSet::new();
        for team in teams {
            members.extend(dataverse.team_members(team).await?);
        }
        narrow(members);
    }
    for name in &selection.security_roles {
        let roles = dataverse.roles_named(name.trim()).await?;
        if roles.is_empty() {
            return Err(SelectionError::UnknownRole(name.clone()));
        }
        let mut holders = HashSet::new();
        for (role, _unit) in roles {
            holders.extend(dataverse.role_holders(role).await?);
        }
        narrow(holders);
    }
    Ok(users)
}

/// Resolves `selection` now.
pub async fn select<D: DataverseOps>(
    dataverse: &D,
    selection: &Selection,
) -> Result<Selected, SelectionError> {
    if selection.is_empty() {
        return Err(SelectionError::Unbounded);
    }
    let mailboxes = match users(dataverse, selection).await? {
        Some(users) => {
            let users: Vec<Uuid> = users.into_iter().collect();
            if users.is_empty() { Vec::new() } else { dataverse.mailboxes_by_owners(&users).await? }
        }
        None => dataverse.all_mailboxes().await?,
    };
    let mut chosen: Vec<Mailbox> =
        mailboxes.into_iter().filter(|m| in_state(m, selection.mailbox_state)).collect();
    let matched = chosen.len() as u64;
    if !selection.exclude.is_empty() {
        let refs: Vec<&str> = selection.exclude.iter().map(String::as_str).collect();
        let excluded: HashSet<Uuid> = resolve(dataverse, &refs, &[])
            .await
            .map_err(|e| match e {
                crate::PipelineError::Dataverse(e) => SelectionError::Dataverse(e),
                other => SelectionError::Empty(other.to_string()),
            })?
            .by_id
            .into_keys()
            .collect();
        chosen.retain(|m| !excluded.contains(&m.id));
    }
    let excluded = matched - chosen.len() as u64;
    if chosen.is_empty() {
        return Err(SelectionError::Empty(describe(selection)));
    }
    chosen.sort_by(|a, b| {
        (a.email.as_deref().map(str::to_lowercase), a.id)
            .cmp(&(b.email.as_deref().map(str::to_lowercase), b.id))
    });
    Ok(Selected { mailboxes: chosen.iter().map(|m| m.id).collect(), matched, excluded })
}

/// The selection in words, as the command line gives it.
pub fn describe(selection: &Selection) -> String {
    let mut parts = Vec::new();
    parts.extend(selection.business_units.iter().map(|b| format!("business unit '{b}'")));
    parts.extend(selection.teams.iter().map(|t| format!("team '{t}'")));
    parts.extend(selection.security_roles.iter().map(|r| format!("security role '{r}'")));
    if selection.mailbox_state != MailboxState::Any {
        parts.push(format!("mailbox state {}", selection.mailbox_state));
    }
    if !selection.exclude.is_empty() {
        parts.push(format!("{} excluded", selection.exclude.len()));
    }
    parts.join(", ")
}
