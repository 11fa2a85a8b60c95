//! How the asynchronous processes end: Test & Enable and App for Outlook deployment.
//!
//! Outcomes follow the mailbox's data at completion time (approval, state, the user, the org
//! override for ACT sync), so a client that fixes a cause and runs the step again sees it pass.

use crate::case::Case;
use crate::org::{Org, Row, bool_of, int_of, now_utc};
use crate::webapi::approval::ADMIN_APPROVED;
use serde_json::{Value, json};
use uuid::Uuid;

const NOT_RUN: i64 = 0;
const SUCCESS: i64 = 1;
const FAILURE: i64 = 2;

impl Org {
    pub(crate) fn complete_test(&mut self, id: Uuid) {
        let Some(sim) = self.mailboxes.get(&id).cloned() else {
            return;
        };
        let Some(row) = self.row("mailboxes", &id).cloned() else {
            return;
        };
        let user_ok = self.row("systemusers", &sim.user).is_some_and(|u| !bool_of(u, "isdisabled"));
        let approved = int_of(&row, "emailrouteraccessapproval") == 1;
        let admin_approved = bool_of(&row, ADMIN_APPROVED);
        let active = int_of(&row, "statecode") == 0;
        let basic_ok = approved && admin_approved && active && user_ok;
        let status_for = |used: bool, ok: bool| match (used, ok) {
            (false, _) => NOT_RUN,
            (true, true) => SUCCESS,
            (true, false) => FAILURE,
        };
        let uses_incoming = int_of(&row, "incomingemaildeliverymethod") == 2;
        let uses_outgoing = int_of(&row, "outgoingemaildeliverymethod") == 2;
        let uses_act = int_of(&row, "actdeliverymethod") == 1;
        let incoming = status_for(uses_incoming, basic_ok);
        let outgoing = status_for(uses_outgoing, basic_ok);
        let primary_here = bool_of(&row, "orgmarkedasprimaryforexchangesync");
        let other_org = sim.case == Case::OtherOrg && !primary_here;
        let act_ok = basic_ok && !other_org;
        let act = status_for(uses_act, act_ok);
        let alerts = test_alerts(
            &row,
            Checks { approved, admin_approved, active, user_ok, other_org },
            [uses_incoming, uses_outgoing, uses_act],
        );
        let statuses = [incoming, outgoing, act];
        let overall = if statuses.contains(&FAILURE) {
            FAILURE
        } else if statuses.contains(&SUCCESS) {
            SUCCESS
        } else {
            NOT_RUN
        };
        let now = now_utc();
        if let Some(row) = self.row_mut("mailboxes", &id) {
            row.insert("incomingemailstatus".into(), json!(incoming));
            row.insert("outgoingemailstatus".into(), json!(outgoing));
            row.insert("actstatus".into(), json!(act));
            row.insert("mailboxstatus".into(), json!(overall));
            row.insert("enabledforincomingemail".into(), json!(incoming == SUCCESS));
            row.insert("enabledforoutgoingemail".into(), json!(outgoing == SUCCESS));
            row.insert("enabledforact".into(), json!(act == SUCCESS));
            if act == SUCCESS && sim.case == Case::OtherOrg {
                row.insert("isactsyncorgflagset".into(), json!(true));
            }
            row.insert("testemailconfigurationscheduled".into(), json!(false));
            row.insert("testmailboxaccesscompletedon".into(), json!(now));
        }
        if let Some(sim) = self.mailboxes.get_mut(&id) {
            sim.alerts = alerts;
        }
        self.touch("mailboxes", &id);
    }

    pub(crate) fn complete_deployment(&mut self, id: Uuid) {
        let Some(sim) = self.mailboxes.get(&id).cloned() else {
            return;
        };
        let Some(row) = self.row("mailboxes", &id).cloned() else {
            return;
        };
        let user_ok = self.row("systemusers", &sim.user).is_some_and(|u| !bool_of(u, "isdisabled"));
        let mut missing = Vec::new();
        if !user_ok {
            missing.push("the user is disabled");
        }
        if !self.user_has_app_role(&sim.user) {
            missing.push("the user lacks the Dynamics 365 App for Outlook User role");
        }
        if int_of(&row, "emailrouteraccessapproval") != 1 {
            missing.push("the mailbox email address is not approved");
        }
        if int_of(&row, "incomingemailstatus") != SUCCESS || int_of(&row, "outgoingemailstatus") != SUCCESS {
            missing.push("the mailbox has not passed Test & Enable");
        }
        let (status, error) = if missing.is_empty() {
            (1, Value::Null)
        } else {
            (
                2,
                json!(format!(
                    "The user is not eligible for Dynamics 365 App for Outlook: {}.",
                    missing.join("; ")
                )),
            )
        };
        let now = now_utc();
        if let Some(row) = self.row_mut("mailboxes", &id) {
            row.insert("officeappsdeploymentstatus".into(), json!(status));
            row.insert("officeappsdeploymenterror".into(), error);
            row.insert("officeappsdeploymentscheduled".into(), json!(false));
            row.insert("officeappsdeploymentcompleteon".into(), json!(now));
        }
        self.touch("mailboxes", &id);
    }
}

/// What Test & Enable found about a mailbox.
#[derive(Debug, Clone, Copy)]
struct Checks {
    approved: bool,
    admin_approved: bool,
    active: bool,
    user_ok: bool,
    other_org: bool,
}

/// The alerts a failed Test & Enable leaves, in the manner of Dataverse's mailbox alerts (the
/// wording is the simulator's). `used`: incoming, outgoing, ACT use server-side sync.
fn test_alerts(row: &Row, c: Checks, used: [bool; 3]) -> Vec<String> {
    let name = row.get("name").and_then(Value::as_str).unwrap_or("(unnamed)");
    let mut alerts = Vec::new();
    if !c.approved {
        alerts.push(format!(
            "Email won't be processed for the mailbox {name}: its email address is not approved. Approve the email address, then test the mailbox again."
        ));
    } else if !c.admin_approved {
        let what = [
            "Incoming email can't be received",
            "Outgoing email can't be sent",
            "Appointments, contacts, and tasks can't be synchronized",
        ];
        for (what, used) in what.iter().zip(used) {
            if used {
                alerts.push(format!(
                    "{what} for the mailbox {name}: its email address must be approved by a Microsoft 365 administrator (Global or Exchange administrator). The mailbox won't be synchronized until then."
                ));
            }
        }
    }
    if !c.active {
        alerts.push(format!("The mailbox {name} is inactive: activate it, then test it again."));
    }
    if !c.user_ok {
        alerts.push(format!("The owner of the mailbox {name} is a disabled user: email can't be processed."));
    }
    if c.other_org && used[2] {
        alerts.push(format!(
            "Appointments, contacts, and tasks of the mailbox {name} are synchronized with another organization: mark this organization as primary for Exchange synchronization."
        ));
    }
    alerts
}
