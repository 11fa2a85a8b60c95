//! Who may write `emailrouteraccessapproval` (on `mailboxes` and `systemusers`), and whether the
//! write counts as approved by a Microsoft 365 administrator (`isemailaddressapprovedbyo365admin`),
//! by the approval mode in force.

use crate::case::Case;
use crate::org::guid_of;
use crate::schema::Table;
use crate::variants::ApprovalMode;
use crate::webapi::Ctx;
use crate::webapi::error::WebApiError;
use serde_json::{Map, Value};

/// The column a PATCH approves (1), sets pending (2) or rejects (3) with.
pub const APPROVAL: &str = "emailrouteraccessapproval";
/// Read-only: whether a Microsoft 365 (Global or Exchange) administrator approved the address.
pub const ADMIN_APPROVED: &str = "isemailaddressapprovedbyo365admin";

const NEEDS_ADMIN: &str = "Approving email addresses of Exchange Online mailboxes needs a System Administrator who is also a Global or Exchange administrator, or holds the Delegated Mailbox Approver role.";
const APP_USER: &str =
    "An application user is neither: have a Microsoft 365 administrator approve the address.";

/// Whether the caller is an application user (client credentials).
fn caller_is_application_user(ctx: &Ctx<'_>) -> bool {
    ctx.org.row("systemusers", &ctx.caller).and_then(|u| guid_of(u, "applicationid")).is_some()
}

/// Checks a PATCH that writes the approval column. Refuses it (403) when the mode says the caller
/// may not approve; otherwise gives the value `isemailaddressapprovedbyo365admin` takes, or None
/// when it keeps its value.
pub fn effect(
    ctx: &Ctx<'_>,
    table: &Table,
    changes: &Map<String, Value>,
    case: Option<Case>,
) -> Result<Option<bool>, WebApiError> {
    let Some(value) = changes.get(APPROVAL) else {
        return Ok(None);
    };
    let approves = value.as_i64() == Some(1);
    let refuse = |detail: &str| {
        Err(WebApiError::privilege(&ctx.caller, "prvApproveRejectEmailAddress", table.logical, detail))
    };
    match ctx.variants.approval_mode {
        ApprovalMode::Any if case == Some(Case::ApprovalNeedsAdmin) => refuse(NEEDS_ADMIN),
        ApprovalMode::AdminOnly if caller_is_application_user(ctx) => {
            refuse(&format!("{NEEDS_ADMIN} {APP_USER}"))
        }
        ApprovalMode::AdminOnly if case == Some(Case::ApprovalNeedsAdmin) => refuse(NEEDS_ADMIN),
        ApprovalMode::Any | ApprovalMode::AdminOnly => Ok(Some(approves)),
        // Accepted without effect: an approval never counts as an administrator's, and any other
        // value withdraws one.
        ApprovalMode::Silent => Ok((!approves).then_some(false)),
    }
}
