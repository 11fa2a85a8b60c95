//! Updates (`PATCH`) with type checks, `If-Match`, `Prefer: return=representation`, and the
//! side effects that start Test & Enable and App for Outlook deployment.

use crate::case::Case;
use crate::org::{Process, Row, int_of};
use crate::schema::{ColType, Table};
use crate::webapi::approval;
use crate::webapi::error::WebApiError;
use crate::webapi::journal::Journal;
use crate::webapi::query::{self, Prefer};
use crate::webapi::read::{etag, project};
use crate::webapi::{Ctx, Outcome, Request};
use serde_json::{Map, Value, json};
use uuid::Uuid;

/// Checks a JSON value against a column type, naming the problem as OData does.
fn type_error(value: &Value, ty: ColType) -> Option<String> {
    let ok = match ty {
        ColType::Bool => value.is_boolean(),
        ColType::Int => value.is_i64(),
        ColType::String => value.is_string(),
        ColType::Guid => value.as_str().is_some_and(|s| Uuid::parse_str(s).is_ok()),
        ColType::DateTime => value.as_str().is_some_and(|s| {
            time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).is_ok()
        }),
    };
    if ok || value.is_null() {
        return None;
    }
    let edm = match ty {
        ColType::Bool => "Edm.Boolean",
        ColType::Int => "Edm.Int32",
        ColType::String => "Edm.String",
        ColType::Guid => "Edm.Guid",
        ColType::DateTime => "Edm.DateTimeOffset",
    };
    Some(format!("Cannot convert the literal '{value}' to the expected type '{edm}'."))
}

/// Reads and validates a PATCH body: only known columns of the right type and range. Read-only
/// columns are dropped, as Dataverse ignores attributes not valid for update.
fn read_body(table: &Table, body: &[u8]) -> Result<Map<String, Value>, WebApiError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| WebApiError::payload(table.set, format!("Invalid JSON. {e}")))?;
    let Value::Object(map) = value else {
        return Err(WebApiError::payload(table.set, "The request body must be a JSON object."));
    };
    let mut changes = Map::new();
    for (name, value) in map {
        if name.starts_with("@odata.") {
            continue;
        }
        if name.contains("@odata.bind") {
            return Err(WebApiError::not_implemented("setting lookups with @odata.bind"));
        }
        let col = table.column(&name).ok_or_else(|| {
            WebApiError::payload(
                table.set,
                format!("The property '{name}' does not exist on type 'Microsoft.Dynamics.CRM.{}'. Make sure to only use property names that are defined by the type or mark the type as open type.", table.logical),
            )
        })?;
        if let Some(msg) = type_error(&value, col.ty) {
            return Err(WebApiError::payload(table.set, msg));
        }
        if let (Some(allowed), Some(v)) = (col.allowed, value.as_i64())
            && !allowed.contains(&v)
        {
            return Err(WebApiError::out_of_range(col.name, table.logical, v, allowed));
        }
        if col.writable {
            changes.insert(name, value);
        }
    }
    Ok(changes)
}

fn check_if_match(req: &Request<'_>, row: &Row) -> Result<(), WebApiError> {
    match req.header("if-match").map(str::trim) {
        None | Some("*") => Ok(()),
        Some(tag) if tag == etag(row) => Ok(()),
        Some(_) => Err(WebApiError::version_mismatch()),
    }
}

/// The mailbox a write to this row concerns, for counting writes per mailbox.
fn mailbox_of(ctx: &Ctx<'_>, table: &Table, id: Uuid) -> Option<Uuid> {
    match table.set {
        "mailboxes" => Some(id),
        "systemusers" => ctx.org.user_mailbox.get(&id).copied(),
        _ => None,
    }
}

pub fn update(
    ctx: &mut Ctx<'_>,
    table: &'static Table,
    id: Uuid,
    req: &Request<'_>,
    journal: &mut Journal,
    label: &str,
) -> Result<Outcome, WebApiError> {
    let opts = query::parse(req.query, table)?;
    let prefer = Prefer::parse(req.headers_named("prefer"))?;
    // Dataverse would create a missing row (upsert) unless `If-Match: *` is sent; the simulator
    // never creates rows and answers 404 either way.
    let row = ctx.org.row(table.set, &id).ok_or_else(|| WebApiError::row_not_found(table.logical, &id))?;
    check_if_match(req, row)?;
    let changes = read_body(table, req.body)?;
    let mailbox = mailbox_of(ctx, table, id);
    let case = mailbox.and_then(|m| ctx.org.mailboxes.get(&m)).map(|s| s.case);
    let admin_approved = approval::effect(ctx, table, &changes, case)?;

    journal.row(ctx.org, table.set, id);
    if let Some(m) = mailbox {
        journal.sim(ctx.org, m);
    }
    apply(ctx, table, id, &changes);
    if let (Some(approved), Some(row)) = (admin_approved, ctx.org.row_mut(table.set, &id)) {
        row.insert(approval::ADMIN_APPROVED.into(), json!(approved));
    }
    if let Some(m) = mailbox {
        ctx.org.count_write(m);
    }
    let deleted_now = table.set == "mailboxes"
        && ctx.org.mailboxes.get(&id).is_some_and(|s| s.case == Case::DeletedMidRun && !s.deleted);

    let entity_id = format!("{}/{}({id})", ctx.base, table.set);
    let outcome = if prefer.return_representation {
        let row = ctx.org.row(table.set, &id).cloned().unwrap_or_default();
        let mut body = project(&row, table, opts.select.as_deref());
        if let Value::Object(map) = &mut body {
            map.insert(
                "@odata.context".into(),
                json!(format!("{}/$metadata#{}/$entity", ctx.base, table.set)),
            );
        }
        Outcome::json(200, &body, ctx.costs.update, label.to_string())
            .with_header("Preference-Applied", "return=representation".into())
    } else {
        Outcome::no_content(ctx.costs.update, label.to_string())
    };
    if deleted_now {
        // The mailbox disappears right after its first successful write.
        let last = ctx.org.remove_row("mailboxes", &id);
        if let Some(sim) = ctx.org.mailboxes.get_mut(&id) {
            sim.deleted = true;
            sim.last_row = last;
            sim.test_token = 0;
            sim.deploy_token = 0;
            sim.test_due = None;
            sim.deploy_due = None;
        }
    }
    Ok(outcome.with_header("OData-EntityId", entity_id))
}

fn apply(ctx: &mut Ctx<'_>, table: &Table, id: Uuid, changes: &Map<String, Value>) {
    let now = ctx.now;
    let mut start = Vec::new();
    if let Some(row) = ctx.org.row_mut(table.set, &id) {
        for (k, v) in changes {
            row.insert(k.clone(), v.clone());
        }
        if table.set == "mailboxes" {
            if let Some(Value::Bool(on)) = changes.get("testemailconfigurationscheduled") {
                start.push((Process::TestAndEnable, *on));
                if *on {
                    // A new run starts from "Not Run"; clients must wait for the flag to clear
                    // and `testmailboxaccesscompletedon` to move rather than trust old statuses.
                    for c in ["incomingemailstatus", "outgoingemailstatus", "actstatus", "mailboxstatus"] {
                        row.insert(c.into(), json!(0));
                    }
                    row.insert("testandenablelastattemptedon".into(), json!(crate::org::now_utc()));
                }
            }
            if let Some(Value::Bool(on)) = changes.get("officeappsdeploymentscheduled") {
                start.push((Process::Deployment, *on));
                if *on && int_of(row, "officeappsdeploymentstatus") != 1 {
                    row.insert("officeappsdeploymenterror".into(), Value::Null);
                }
            }
        }
    }
    ctx.org.touch(table.set, &id);
    for (process, on) in start {
        if on {
            ctx.org.schedule(process, id, now);
        } else {
            ctx.org.cancel(process, id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::MAILBOXES;

    #[test]
    fn body_checks_names_types_and_ranges() {
        let err = read_body(&MAILBOXES, br#"{"bogus":1}"#).expect_err("unknown");
        assert!(err.message.contains("The property 'bogus' does not exist"), "{}", err.message);
        let err = read_body(&MAILBOXES, br#"{"testemailconfigurationscheduled":"yes"}"#).expect_err("type");
        assert!(err.message.contains("Edm.Boolean"), "{}", err.message);
        let err = read_body(&MAILBOXES, br#"{"emailrouteraccessapproval":9}"#).expect_err("range");
        assert_eq!(err.code, "0x8004431a");
        assert_eq!(read_body(&MAILBOXES, b"{not json").expect_err("json").code, "0x80048d19");
    }

    #[test]
    fn read_only_columns_are_ignored() {
        let changes =
            read_body(&MAILBOXES, br#"{"mailboxstatus":1,"emailrouteraccessapproval":1}"#).expect("ok");
        assert!(!changes.contains_key("mailboxstatus"));
        assert_eq!(changes.get("emailrouteraccessapproval"), Some(&json!(1)));
    }
}
