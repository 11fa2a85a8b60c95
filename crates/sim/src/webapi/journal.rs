//! Undo log for `$batch` change sets: every write records what it is about to change so a
//! failed change set can be rolled back as one.

use crate::org::{MailboxSim, Org, Row};
use std::collections::BTreeSet;
use uuid::Uuid;

#[derive(Debug)]
enum Before {
    Row(&'static str, Uuid, Option<Row>),
    Sim(Uuid, Option<MailboxSim>),
    Roles(Uuid, Option<BTreeSet<Uuid>>),
}

/// What a sequence of writes changed, in order.
#[derive(Debug, Default)]
pub struct Journal {
    entries: Vec<Before>,
}

impl Journal {
    pub fn row(&mut self, org: &Org, set: &'static str, id: Uuid) {
        self.entries.push(Before::Row(set, id, org.row(set, &id).cloned()));
    }

    pub fn sim(&mut self, org: &Org, id: Uuid) {
        self.entries.push(Before::Sim(id, org.mailboxes.get(&id).cloned()));
    }

    pub fn roles(&mut self, org: &Org, user: Uuid) {
        self.entries.push(Before::Roles(user, org.user_roles.get(&user).cloned()));
    }

    /// Puts back everything recorded, newest first.
    pub fn roll_back(self, org: &mut Org) {
        for before in self.entries.into_iter().rev() {
            match before {
                Before::Row(set, id, Some(row)) => org.restore_row(set, id, row),
                Before::Row(set, id, None) => {
                    org.remove_row(set, &id);
                }
                Before::Sim(id, Some(sim)) => {
                    org.mailboxes.insert(id, sim);
                }
                Before::Sim(id, None) => {
                    org.mailboxes.remove(&id);
                }
                Before::Roles(user, Some(roles)) => {
                    org.user_roles.insert(user, roles);
                }
                Before::Roles(user, None) => {
                    org.user_roles.remove(&user);
                }
            }
        }
    }
}
