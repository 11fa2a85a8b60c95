//! Which mailboxes a command works on: a list (CSV as admins export it), or a selection by
//! tenant query (business units, teams, security roles, mailbox state), minus a list to leave
//! out. Bad rows are reported with their line; an empty result is an error.

use activator_core::mailbox_list::{MailboxList, MailboxRef, read_list};
use activator_core::{MailboxState, Selection};
use anyhow::{Context, Result, bail};
use pipeline::DataverseOps;
use pipeline::selection::{describe, select};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// The ids of the selection options (for clap's requires and conflicts).
pub const SELECTION: [&str; 4] = ["business_unit", "team", "security_role", "mailbox_state"];

#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Mailboxes: a list, or a selection (options of a selection combine with AND)")]
pub struct InputArgs {
    /// CSV of the mailboxes: a header row, then mailbox ids, email addresses, user principal
    /// names or systemuser ids (`,`, `;` or tab; UTF-8 or UTF-16 with a BOM).
    #[arg(long, value_name = "MAILBOXES.csv", required_unless_present_any = SELECTION, conflicts_with_all = SELECTION)]
    pub csv: Option<PathBuf>,
    /// Reject the whole list when any row is not a mailbox (default: skip such rows, listing them).
    #[arg(long, requires = "csv")]
    pub strict: bool,
    #[command(flatten)]
    pub selection: SelectionArgs,
}

/// A selection of mailboxes by tenant query.
#[derive(Debug, Clone, clap::Args)]
pub struct SelectionArgs {
    /// The users of this business unit (repeatable: any of them).
    #[arg(long, value_name = "NAME")]
    pub business_unit: Vec<String>,
    /// The members of this Dataverse team (repeatable: members of all of them).
    #[arg(long, value_name = "NAME")]
    pub team: Vec<String>,
    /// The users holding this security role (repeatable: all of them).
    #[arg(long, value_name = "NAME")]
    pub security_role: Vec<String>,
    /// Only mailboxes that are: not-approved, not-tested, test-failed, not-deployed, or any.
    #[arg(long, value_name = "STATE")]
    pub mailbox_state: Option<MailboxState>,
    /// A list (CSV) of mailboxes to leave out.
    #[arg(long, value_name = "FILE.csv")]
    pub exclude: Option<PathBuf>,
}

impl SelectionArgs {
    /// The mailboxes to leave out; None when the list cannot be used (said on stderr).
    pub fn excluded(&self) -> Result<Option<Vec<String>>> {
        match &self.exclude {
            Some(path) => Ok(read_path(path, false)?.map(|list| list.mailboxes)),
            None => Ok(Some(Vec::new())),
        }
    }

    /// The selection these options make, leaving out `exclude`; an error when it would take
    /// every mailbox of the organization.
    pub fn selection(&self, exclude: Vec<String>) -> Result<Selection> {
        let selection = Selection {
            business_units: self.business_unit.clone(),
            teams: self.team.clone(),
            security_roles: self.security_role.clone(),
            mailbox_state: self.mailbox_state.unwrap_or_default(),
            exclude,
        };
        if selection.is_empty() {
            bail!(
                "--mailbox-state any alone would take every mailbox of the organization: add --business-unit, \
                 --team or --security-role, or give a list"
            );
        }
        Ok(selection)
    }

    /// Whether any option of a selection is given.
    pub fn given(&self) -> bool {
        !self.business_unit.is_empty()
            || !self.team.is_empty()
            || !self.security_role.is_empty()
            || self.mailbox_state.is_some()
    }
}

/// Where the mailboxes come from.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    List(Vec<String>),
    Select(Selection),
}

impl InputArgs {
    /// The list read (bad rows reported on stderr), or the selection asked for; None when the
    /// input cannot be used (say why, exit 2).
    pub fn read(&self) -> Result<Option<Input>> {
        let Some(exclude) = self.selection.excluded()? else { return Ok(None) };
        if let Some(path) = &self.csv {
            let Some(list) = read_path(path, self.strict)? else { return Ok(None) };
            let key = |m: &str| MailboxRef::parse(m).map(|r| r.key()).unwrap_or_else(|_| m.to_lowercase());
            let excluded: HashSet<String> = exclude.iter().map(|m| key(m)).collect();
            let keep: Vec<String> =
                list.mailboxes.into_iter().filter(|m| !excluded.contains(&key(m))).collect();
            if keep.is_empty() {
                eprintln!("{}: every mailbox of the list is excluded: nothing to do", path.display());
                return Ok(None);
            }
            return Ok(Some(Input::List(keep)));
        }
        Ok(Some(Input::Select(self.selection.selection(exclude)?)))
    }
}

impl Input {
    /// The mailbox references to work on: the list's, or the selection's resolved now (said on
    /// stdout: what it found and left out).
    pub async fn mailboxes<D: DataverseOps>(&self, dataverse: &D) -> Result<Vec<String>> {
        match self {
            Input::List(list) => Ok(list.clone()),
            Input::Select(selection) => {
                let selected = select(dataverse, selection).await?;
                eprintln!(
                    "selection ({}): {} mailboxes{}",
                    describe(selection),
                    selected.mailboxes.len(),
                    if selected.excluded > 0 {
                        format!(" ({} left out)", selected.excluded)
                    } else {
                        String::new()
                    }
                );
                Ok(selected.mailboxes.iter().map(ToString::to_string).collect())
            }
        }
    }

    /// The selection, when there is one.
    pub fn selection(&self) -> Option<&Selection> {
        match self {
            Input::List(_) => None,
            Input::Select(s) => Some(s),
        }
    }
}

/// Reads the list at `path`, reporting its column and every row not taken; None when it
/// cannot be used.
pub fn read_path(path: &Path, strict: bool) -> Result<Option<MailboxList>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let list = match read_list(&bytes) {
        Ok(list) => list,
        Err(e) => {
            eprintln!("error: {}: {e}", path.display());
            return Ok(None);
        }
    };
    Ok(report_rows(path, &list, strict).then_some(list))
}

/// Prints the column used and the rows not taken; false when the list cannot be used.
fn report_rows(path: &Path, list: &MailboxList, strict: bool) -> bool {
    let column = &list.column;
    let others: Vec<String> = column.others.iter().map(|o| format!("'{o}'")).collect();
    eprintln!(
        "{}: column '{}' ({}){}",
        path.display(),
        column.header,
        column.kind,
        if others.is_empty() { String::new() } else { format!("; also found: {}", others.join(", ")) }
    );
    for p in &list.invalid {
        let skipped = if strict { "" } else { " (skipped)" };
        eprintln!("{}:{}: '{}': {}{skipped}", path.display(), p.line, p.value, p.reason);
    }
    if !list.duplicates.is_empty() {
        eprintln!(
            "{}: {} duplicate rows kept once (first at line {})",
            path.display(),
            list.duplicates.len(),
            list.duplicates[0].line
        );
    }
    if strict && !list.invalid.is_empty() {
        eprintln!(
            "{} rows are not mailboxes and --strict is on: nothing was started. Fix the rows above.",
            list.invalid.len()
        );
        return false;
    }
    if list.mailboxes.is_empty() {
        eprintln!(
            "{} lists no mailboxes in column '{}': give one mailbox id, email address, user principal name or \
             systemuser id per row under the header.",
            path.display(),
            column.header
        );
        return false;
    }
    true
}
