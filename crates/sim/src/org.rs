//! The simulated organization's data: tables of rows, per-mailbox simulation state, role and
//! team associations, and the clock of pending asynchronous processes.

use crate::case::Case;
use crate::profile::Range;
use crate::rng::Rng;
use serde_json::{Map, Value, json};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// A row as the Web API shows it: column name to JSON value.
pub type Row = Map<String, Value>;

/// Name of the security role the App for Outlook needs.
pub const APP_ROLE_NAME: &str = "Dynamics 365 App for Outlook User";

/// Which asynchronous process a pending completion belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Process {
    TestAndEnable,
    Deployment,
}

/// Simulation state of one mailbox that the Web API does not show.
#[derive(Debug, Clone, PartialEq)]
pub struct MailboxSim {
    pub case: Case,
    pub user: Uuid,
    /// Identifies the latest scheduled run of each process, so a superseded or rolled-back
    /// schedule never completes.
    pub test_token: u64,
    pub deploy_token: u64,
    pub test_due: Option<Instant>,
    pub deploy_due: Option<Instant>,
    /// Successful writes that concern this mailbox: PATCHes of it, of its user, and role
    /// assignments to its user.
    pub writes: u32,
    pub deleted: bool,
    /// The row as it was when deleted, for ground truth.
    pub last_row: Option<Row>,
    /// What the last Test & Enable reported, as mailbox alerts would (empty when it passed).
    pub alerts: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Pending {
    due: Instant,
    seq: u64,
    process: Process,
    mailbox: Uuid,
    token: u64,
}

/// The whole simulated organization.
#[derive(Debug, Clone)]
pub struct Org {
    tables: BTreeMap<&'static str, BTreeMap<Uuid, Row>>,
    pub mailboxes: HashMap<Uuid, MailboxSim>,
    pub user_roles: HashMap<Uuid, BTreeSet<Uuid>>,
    pub user_mailbox: HashMap<Uuid, Uuid>,
    /// Members (`systemuserid`) of each team.
    pub team_members: BTreeMap<Uuid, BTreeSet<Uuid>>,
    /// Application user (`systemuserid`) of each configured client id.
    pub app_users: BTreeMap<String, Uuid>,
    pub organization_id: Uuid,
    pub root_business_unit: Uuid,
    pub test_delay: Range,
    pub deploy_delay: Range,
    pending: BinaryHeap<Reverse<Pending>>,
    next_version: i64,
    seq: u64,
    rng: Rng,
}

impl Org {
    pub fn new(
        organization_id: Uuid,
        root_business_unit: Uuid,
        test_delay: Range,
        deploy_delay: Range,
        rng: Rng,
    ) -> Self {
        Self {
            tables: BTreeMap::new(),
            mailboxes: HashMap::new(),
            user_roles: HashMap::new(),
            user_mailbox: HashMap::new(),
            team_members: BTreeMap::new(),
            app_users: BTreeMap::new(),
            organization_id,
            root_business_unit,
            test_delay,
            deploy_delay,
            pending: BinaryHeap::new(),
            next_version: 1_000_000,
            seq: 0,
            rng,
        }
    }

    pub fn table(&self, set: &str) -> Option<&BTreeMap<Uuid, Row>> {
        self.tables.get(set)
    }

    pub fn row(&self, set: &str, id: &Uuid) -> Option<&Row> {
        self.tables.get(set)?.get(id)
    }

    pub fn row_mut(&mut self, set: &str, id: &Uuid) -> Option<&mut Row> {
        self.tables.get_mut(set)?.get_mut(id)
    }

    /// Inserts or replaces a row, giving it a fresh version.
    pub fn put_row(&mut self, set: &'static str, id: Uuid, mut row: Row) {
        self.next_version += 1;
        row.insert("versionnumber".into(), json!(self.next_version));
        self.tables.entry(set).or_default().insert(id, row);
    }

    /// Puts a row back exactly as it was (rollback), without a new version.
    pub fn restore_row(&mut self, set: &'static str, id: Uuid, row: Row) {
        self.tables.entry(set).or_default().insert(id, row);
    }

    pub fn remove_row(&mut self, set: &str, id: &Uuid) -> Option<Row> {
        self.tables.get_mut(set)?.remove(id)
    }

    /// Marks a row changed now: new version number and `modifiedon`.
    pub fn touch(&mut self, set: &str, id: &Uuid) {
        self.next_version += 1;
        let version = self.next_version;
        if let Some(row) = self.row_mut(set, id) {
            row.insert("versionnumber".into(), json!(version));
            row.insert("modifiedon".into(), json!(now_utc()));
        }
    }

    /// Schedules the completion of a process for a mailbox after a delay drawn from the profile;
    /// any earlier schedule of the same process is superseded.
    pub fn schedule(&mut self, process: Process, mailbox: Uuid, now: Instant) {
        let range = match process {
            Process::TestAndEnable => self.test_delay,
            Process::Deployment => self.deploy_delay,
        };
        let due = now + Duration::from_millis(self.rng.range(range.min, range.max));
        self.seq += 1;
        let token = self.seq;
        let Some(sim) = self.mailboxes.get_mut(&mailbox) else {
            return;
        };
        match process {
            Process::TestAndEnable => {
                sim.test_token = token;
                sim.test_due = Some(due);
            }
            Process::Deployment => {
                sim.deploy_token = token;
                sim.deploy_due = Some(due);
            }
        }
        self.pending.push(Reverse(Pending { due, seq: token, process, mailbox, token }));
    }

    /// Cancels a scheduled process (its flag was cleared by a write).
    pub fn cancel(&mut self, process: Process, mailbox: Uuid) {
        if let Some(sim) = self.mailboxes.get_mut(&mailbox) {
            match process {
                Process::TestAndEnable => {
                    sim.test_token = 0;
                    sim.test_due = None;
                }
                Process::Deployment => {
                    sim.deploy_token = 0;
                    sim.deploy_due = None;
                }
            }
        }
    }

    /// Completes every process due by `now`. Called before any access to the data, so results
    /// appear exactly when due without a background task.
    pub fn advance(&mut self, now: Instant) {
        while let Some(Reverse(next)) = self.pending.peek().copied() {
            if next.due > now {
                break;
            }
            self.pending.pop();
            let current = self.mailboxes.get(&next.mailbox).is_some_and(|sim| match next.process {
                Process::TestAndEnable => sim.test_token == next.token,
                Process::Deployment => sim.deploy_token == next.token,
            });
            if current {
                self.cancel(next.process, next.mailbox);
                match next.process {
                    Process::TestAndEnable => self.complete_test(next.mailbox),
                    Process::Deployment => self.complete_deployment(next.mailbox),
                }
            }
        }
    }

    /// How many processes are still waiting to complete.
    pub fn pending_count(&self) -> usize {
        self.mailboxes
            .values()
            .map(|s| usize::from(s.test_due.is_some()) + usize::from(s.deploy_due.is_some()))
            .sum()
    }

    /// Whether the user holds the App for Outlook role of its own business unit.
    pub fn user_has_app_role(&self, user: &Uuid) -> bool {
        let Some(roles) = self.user_roles.get(user) else {
            return false;
        };
        roles.iter().any(|r| {
            self.row("roles", r).and_then(|row| row.get("name")).and_then(Value::as_str)
                == Some(APP_ROLE_NAME)
        })
    }

    /// Counts a successful write against the mailbox it concerns.
    pub fn count_write(&mut self, mailbox: Uuid) {
        if let Some(sim) = self.mailboxes.get_mut(&mailbox) {
            sim.writes += 1;
        }
    }
}

/// The current time as Dataverse writes it (`2026-01-01T00:00:00Z`).
pub fn now_utc() -> String {
    let now = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or_else(|_| time::OffsetDateTime::now_utc());
    now.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_string())
}

/// Reads a GUID column of a row.
pub fn guid_of(row: &Row, column: &str) -> Option<Uuid> {
    row.get(column).and_then(Value::as_str).and_then(|s| Uuid::parse_str(s).ok())
}

pub fn int_of(row: &Row, column: &str) -> i64 {
    row.get(column).and_then(Value::as_i64).unwrap_or(0)
}

pub fn bool_of(row: &Row, column: &str) -> bool {
    row.get(column).and_then(Value::as_bool).unwrap_or(false)
}
