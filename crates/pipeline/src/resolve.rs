//! Finding the mailboxes a list names, in bulk (100 per request): by mailbox id, by email
//! address, by user principal name or systemuser id (the user's default mailbox).

use crate::dataverse_ops::DataverseOps;
use crate::error::PipelineError;
use activator_core::mailbox_list::MailboxRef;
use dataverse::Mailbox;
use std::collections::HashMap;
use uuid::Uuid;

/// The mailboxes found for a list of references.
#[derive(Debug, Default)]
pub struct Resolved {
    pub by_id: HashMap<Uuid, Mailbox>,
    /// Reference key (see [`MailboxRef::key`]) → mailbox id.
    by_key: HashMap<String, Uuid>,
}

impl Resolved {
    /// The mailbox `reference` names, if it was found.
    pub fn get(&self, reference: &str) -> Option<&Mailbox> {
        let key = MailboxRef::parse(reference).map(|r| r.key()).unwrap_or_else(|_| reference.to_lowercase());
        self.by_key.get(&key).and_then(|id| self.by_id.get(id))
    }

    /// The mailbox of an item: by its resolved id when it has one, else by its reference.
    pub fn of(&self, mailbox_id: Option<Uuid>, reference: &str) -> Option<&Mailbox> {
        match mailbox_id {
            Some(id) => self.by_id.get(&id),
            None => self.get(reference),
        }
    }
}

/// Reads the mailboxes `references` name (ids of mailboxes already known may be given in
/// `known_ids`, and are read by id).
pub async fn resolve<D: DataverseOps>(
    dataverse: &D,
    references: &[&str],
    known_ids: &[Uuid],
) -> Result<Resolved, PipelineError> {
    let mut ids: Vec<Uuid> = known_ids.to_vec();
    let (mut emails, mut upns, mut users) = (Vec::new(), Vec::new(), Vec::new());
    let mut wanted: Vec<(String, MailboxRef)> = Vec::new();
    for reference in references {
        let Ok(r) = MailboxRef::parse(reference) else { continue };
        match &r {
            MailboxRef::MailboxId(id) => ids.push(*id),
            MailboxRef::Email(e) => emails.push(e.to_lowercase()),
            MailboxRef::UserPrincipalName(u) => upns.push(u.to_lowercase()),
            MailboxRef::SystemUserId(u) => users.push(*u),
        }
        wanted.push((r.key(), r));
    }
    // A user's mailbox is the user's default mailbox.
    let mut default_mailbox: HashMap<String, Uuid> = HashMap::new();
    if !upns.is_empty() {
        for u in dataverse.users_by_upns(&upns).await? {
            if let (Some(upn), Some(m)) = (&u.upn, u.default_mailbox) {
                default_mailbox.insert(MailboxRef::UserPrincipalName(upn.clone()).key(), m);
                ids.push(m);
            }
        }
    }
    if !users.is_empty() {
        for u in dataverse.users_by_ids(&users).await? {
            if let Some(m) = u.default_mailbox {
                default_mailbox.insert(MailboxRef::SystemUserId(u.id).key(), m);
                ids.push(m);
            }
        }
    }
    ids.sort_unstable();
    ids.dedup();
    let mut rows = if ids.is_empty() { Vec::new() } else { dataverse.mailboxes_by_ids(&ids).await? };
    if !emails.is_empty() {
        rows.extend(dataverse.mailboxes_by_emails(&emails).await?);
    }
    let mut out = Resolved::default();
    let mut by_email: HashMap<String, Uuid> = HashMap::new();
    for m in rows {
        if let Some(email) = &m.email {
            by_email.entry(email.to_lowercase()).or_insert(m.id);
        }
        out.by_id.insert(m.id, m);
    }
    for (key, r) in wanted {
        let id = match r {
            MailboxRef::MailboxId(id) => Some(id),
            MailboxRef::Email(e) => by_email.get(&e.to_lowercase()).copied(),
            MailboxRef::UserPrincipalName(_) | MailboxRef::SystemUserId(_) => {
                default_mailbox.get(&key).copied()
            }
        };
        if let Some(id) = id.filter(|id| out.by_id.contains_key(id)) {
            out.by_key.insert(key, id);
        }
    }
    Ok(out)
}
