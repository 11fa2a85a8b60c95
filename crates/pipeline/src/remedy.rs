//! What a mailbox's failure means to the admin: a stable code, the message, and what to do
//! next. Codes are ours (snake case) where the failure is ours to name, Dataverse's where it
//! gave one.

use activator_core::Step;
use dataverse::{DataverseError, Mailbox};
use store::ItemError;

pub const APPROVAL_NEEDS_ADMIN: &str = "Approval needs an Exchange or Global admin, or the Delegated Mailbox \
Approver role: have such an admin approve the mailbox in Dataverse, or give the application user that role, then retry";

fn error(code: &str, message: impl Into<String>, remedy: impl Into<String>) -> ItemError {
    ItemError { code: code.into(), message: message.into(), remedy: Some(remedy.into()) }
}

/// A permanent or exhausted Dataverse failure of `step`.
pub fn from_dataverse(step: Step, e: &DataverseError) -> ItemError {
    let code = if e.code().is_empty() { kind(e).to_string() } else { e.code().to_string() };
    let remedy = match e {
        DataverseError::PrivilegeDenied { .. } if step == Step::Approve => APPROVAL_NEEDS_ADMIN.to_string(),
        DataverseError::PrivilegeDenied { remedy, .. } => remedy.clone(),
        DataverseError::NotFound { .. } => {
            "The mailbox (or its user) no longer exists in Dataverse: remove it from the list".into()
        }
        DataverseError::Unauthorized { .. } => {
            "Check the client id and secret, and that the application user exists in the environment; \
             then retry the failed mailboxes"
                .into()
        }
        DataverseError::Throttled { .. } => {
            "Dataverse kept throttling: retry the failed mailboxes later, or add application users to the \
             environment to raise the limits"
                .into()
        }
        DataverseError::Transient { .. } | DataverseError::Conflict { .. } => {
            "Dataverse failed every attempt: check its service health, then retry the failed mailboxes".into()
        }
        DataverseError::Invalid { .. } | DataverseError::AlreadyDone { .. } => {
            "Dataverse refused the request: report this with the message".into()
        }
    };
    ItemError { code, message: e.to_string(), remedy: Some(remedy) }
}

fn kind(e: &DataverseError) -> &'static str {
    match e {
        DataverseError::Throttled { .. } => "throttled",
        DataverseError::Unauthorized { .. } => "unauthorized",
        DataverseError::PrivilegeDenied { .. } => "privilege_denied",
        DataverseError::NotFound { .. } => "not_found",
        DataverseError::AlreadyDone { .. } => "already_done",
        DataverseError::Conflict { .. } => "conflict",
        DataverseError::Transient { .. } => "transient",
        DataverseError::Invalid { .. } => "invalid",
    }
}

pub fn mailbox_not_found(reference: &str) -> ItemError {
    error(
        "mailbox_not_found",
        format!("no mailbox '{reference}' in this environment"),
        "Check the id or email address in the list; the mailbox may have been deleted",
    )
}

pub fn mailbox_deleted() -> ItemError {
    error(
        "mailbox_not_found",
        "the mailbox was deleted from Dataverse during the rollout",
        "Remove it from the list, or recreate the user's mailbox and retry",
    )
}

pub fn approval_rejected() -> ItemError {
    error(
        "approval_rejected",
        "an admin rejected this mailbox's email address",
        "Approve it in Dataverse (Settings > Email Configuration > Mailboxes > Approve Email) if the rejection \
         was a mistake, then retry",
    )
}

pub fn org_not_server_side_sync(found: &str) -> ItemError {
    error(
        "org_not_server_side_sync",
        format!("the organization processes email by {found}, not server-side synchronization"),
        "Set Email processing to Server-Side Synchronization in System Settings > Email, or run again with \
         configure_org (--configure-org)",
    )
}

pub fn role_missing_in_unit() -> ItemError {
    error(
        "role_missing_in_business_unit",
        "the user's business unit has no 'Dynamics 365 App for Outlook User' role",
        "The role exists from build 9.1.0.4206: check the environment's version, or move the user to a \
         business unit that has it, then retry",
    )
}

pub fn mailbox_without_user() -> ItemError {
    error(
        "mailbox_without_user",
        "the mailbox does not belong to a user (a queue mailbox?)",
        "App for Outlook is for users' mailboxes: remove this one from the list",
    )
}

pub fn timed_out(step: Step, after_secs: u64) -> ItemError {
    let what = if step == Step::DeployApp { "The app deployment" } else { "Test & Enable" };
    error(
        "timed_out",
        format!("{what} did not finish within {after_secs} s"),
        "Dataverse may still be working on it: retry the mailbox later (it is checked before anything is \
         sent again), or raise the timeout",
    )
}

/// Why a finished Test & Enable failed, from the mailbox's status columns.
pub fn test_failed(mailbox: &Mailbox) -> ItemError {
    let failed = |s: i64| s == 2;
    if mailbox.state != 0 {
        return error(
            "mailbox_inactive",
            "Test & Enable failed: the mailbox record is inactive",
            "Activate the mailbox record in Dataverse, then retry",
        );
    }
    if failed(mailbox.act_status) && !failed(mailbox.incoming_status) && !failed(mailbox.outgoing_status) {
        return error(
            "other_organization",
            "appointments, contacts and tasks failed: the mailbox is tied to another organization",
            "Mailbox is tied to another organization: rerun with `--overwrite-primary-org`, or set ACT sync \
             to None in the other organization",
        );
    }
    let which: Vec<&str> = [
        (mailbox.incoming_status, "incoming email"),
        (mailbox.outgoing_status, "outgoing email"),
        (mailbox.act_status, "appointments, contacts and tasks"),
    ]
    .into_iter()
    .filter(|(s, _)| failed(*s))
    .map(|(_, n)| n)
    .collect();
    error(
        "test_failed",
        format!("Test & Enable failed for {}", which.join(", ")),
        "Open the mailbox's alerts in Dataverse; common causes are a disabled user, a user without an \
         Exchange Online licence, or a wrong email address. Fix it, then retry",
    )
}

pub fn deployment_failed(message: &str) -> ItemError {
    error(
        "deployment_failed",
        message,
        "Make the user eligible (approved and tested mailbox, App for Outlook role, enabled user), then retry",
    )
}
