//! `activator doctor`: checks that an environment has what the rollout needs, one finding per
//! line, each wrong one with what to do about it.

use crate::dataverse_client::{Dataverse, MAX_CONCURRENCY};
use crate::org::EmailProcessing;
use crate::request::WebApiRequest;
use crate::roles::APP_ROLE_NAME;
use serde::Deserialize;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Ok,
    /// Worth knowing; does not stop a rollout.
    Warn,
    /// The rollout cannot work until it is fixed.
    Fail,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub verdict: Verdict,
    pub check: String,
    pub detail: String,
    /// What to do, when the verdict is not Ok.
    pub remedy: Option<String>,
}

impl Finding {
    fn ok(check: impl Into<String>, detail: impl Into<String>) -> Self {
        Self { verdict: Verdict::Ok, check: check.into(), detail: detail.into(), remedy: None }
    }

    fn bad(
        verdict: Verdict,
        check: impl Into<String>,
        detail: impl Into<String>,
        remedy: impl Into<String>,
    ) -> Self {
        Self { verdict, check: check.into(), detail: detail.into(), remedy: Some(remedy.into()) }
    }
}

#[derive(Deserialize)]
struct Rows<T> {
    value: Vec<T>,
}

#[derive(Deserialize)]
struct RoleName {
    name: String,
}

/// Runs every check; stops early only when no application user can sign in.
pub async fn diagnose(dv: &Dataverse) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut org = None;
    let mut parallelism = 0u32;
    for lane in dv.lanes() {
        let who = format!("application user {}", lane.name);
        if let Err(e) = lane.conn.tokens().token().await {
            out.push(Finding::bad(Verdict::Fail, format!("token for {who}"), e.to_string(),
                "check the tenant (authority), client id and secret; the app registration needs a client secret that has not expired"));
            continue;
        }
        out.push(Finding::ok(format!("token for {who}"), "obtained"));
        match lane.conn.who_am_i().await {
            Ok(me) => {
                let dop = me.dop_hint.unwrap_or(1).clamp(1, MAX_CONCURRENCY);
                parallelism += dop;
                out.push(Finding::ok(format!("WhoAmI as {who}"), format!("user {} in organization {}", me.user_id, me.organization_id)));
                out.push(privileges(dv, &who, me.user_id).await);
                org.get_or_insert(me.organization_id);
            }
            Err(e) => out.push(Finding::bad(Verdict::Fail, format!("WhoAmI as {who}"), e.to_string(),
                "create an application user for this app registration in the environment (Power Platform admin center > Users > App users) and give it a security role")),
        }
    }
    let Some(org) = org else {
        return out;
    };
    out.push(match dv.email_processing(org).await {
        Ok(EmailProcessing::ServerSideSync) => Finding::ok("email processing", "server-side synchronization"),
        Ok(other) => Finding::bad(Verdict::Fail, "email processing", format!("{other:?}, not server-side synchronization"),
            "set Process Email Using to Server-Side Synchronization (System Settings > Email), or run the batch with configure_org"),
        Err(e) => Finding::bad(Verdict::Fail, "email processing", e.to_string(), "give the application user read access to the organization"),
    });
    out.push(app_role(dv).await);
    out.push(Finding::ok(
        "recommended parallelism",
        format!("{parallelism} concurrent requests across {} application user(s)", dv.lanes().len()),
    ));
    out
}

async fn privileges(dv: &Dataverse, who: &str, user: Uuid) -> Finding {
    let req =
        WebApiRequest::get("read own roles", format!("systemusers({user})/systemuserroles_association"))
            .query("$select", "name");
    let check = format!("privileges of {who}");
    match dv.execute(&req).await.and_then(|a| a.json::<Rows<RoleName>>()) {
        Ok(rows) if rows.value.iter().any(|r| r.name == "System Administrator") => Finding::bad(
            Verdict::Warn,
            check,
            "System Administrator: may write mailboxes and assign roles",
            "approving Exchange Online mailboxes also needs a Global or Exchange admin or the Delegated Mailbox Approver role, which the Web API cannot show; approvals refused for that are reported per mailbox",
        ),
        Ok(rows) => {
            let names: Vec<String> = rows.value.into_iter().map(|r| r.name).collect();
            Finding::bad(
                Verdict::Fail,
                check,
                format!("roles: {}", if names.is_empty() { "none".into() } else { names.join(", ") }),
                "give the application user the System Administrator role (approve email, write mailboxes, assign roles)",
            )
        }
        Err(e) => Finding::bad(
            Verdict::Fail,
            check,
            e.to_string(),
            "give the application user a security role that can read users and roles",
        ),
    }
}

async fn app_role(dv: &Dataverse) -> Finding {
    let check = format!("role \"{APP_ROLE_NAME}\"");
    let units = match dv.business_units().await {
        Ok(units) => units,
        Err(e) => {
            return Finding::bad(
                Verdict::Fail,
                check,
                e.to_string(),
                "give the application user read access to business units and roles",
            );
        }
    };
    let mut missing = Vec::new();
    for unit in &units {
        match dv.app_role_for_unit(unit.id).await {
            Ok(Some(_)) => {}
            Ok(None) => missing.push(unit.name.clone()),
            Err(e) => {
                return Finding::bad(
                    Verdict::Fail,
                    check,
                    e.to_string(),
                    "give the application user read access to roles",
                );
            }
        }
    }
    let install =
        "the role comes with Dynamics 365 App for Outlook (build 9.1.0.4206 or later): install or update it";
    if missing.is_empty() {
        Finding::ok(check, format!("present in all {} business units", units.len()))
    } else if missing.len() == units.len() {
        Finding::bad(Verdict::Fail, check, "missing in every business unit", install)
    } else {
        Finding::bad(
            Verdict::Warn,
            check,
            format!("missing in {}", missing.join(", ")),
            format!(
                "users of those units cannot get the role: {install}, or move them to another business unit"
            ),
        )
    }
}
