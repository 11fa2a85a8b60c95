//! Writes through the `systemuserroles_association` navigation property of a user: assign a
//! role (`POST .../$ref`) and remove one (`DELETE .../$ref`). Reads are in `nav`.

use crate::org::guid_of;
use crate::schema::{ROLES, SYSTEMUSERS};
use crate::webapi::error::WebApiError;
use crate::webapi::journal::Journal;
use crate::webapi::{Ctx, Outcome, Request};
use serde_json::Value;
use uuid::Uuid;

fn require_user(ctx: &Ctx<'_>, user: Uuid) -> Result<(), WebApiError> {
    match ctx.org.row("systemusers", &user) {
        Some(_) => Ok(()),
        None => Err(WebApiError::row_not_found(SYSTEMUSERS.logical, &user)),
    }
}

/// Reads the role id out of `{"@odata.id": ".../roles(<id>)"}` (absolute or relative).
fn role_from_body(body: &[u8]) -> Result<Uuid, WebApiError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| WebApiError::payload("systemuserroles_association", format!("Invalid JSON. {e}")))?;
    let id = value
        .get("@odata.id")
        .and_then(Value::as_str)
        .ok_or_else(|| WebApiError::bad_query("The request body must contain an '@odata.id' naming the role, e.g. {\"@odata.id\":\"<org>/api/data/v9.2/roles(<id>)\"}."))?;
    let key = id.rsplit_once("roles(").and_then(|(_, rest)| rest.strip_suffix(')')).ok_or_else(|| {
        WebApiError::bad_query(format!("The '@odata.id' value '{id}' does not name a role."))
    })?;
    Uuid::parse_str(key).map_err(|_| WebApiError::bad_query("Bad Request - Error in query syntax."))
}

pub fn associate(
    ctx: &mut Ctx<'_>,
    user: Uuid,
    req: &Request<'_>,
    journal: &mut Journal,
    label: &str,
) -> Result<Outcome, WebApiError> {
    require_user(ctx, user)?;
    let role = role_from_body(req.body)?;
    let role_row =
        ctx.org.row("roles", &role).ok_or_else(|| WebApiError::row_not_found(ROLES.logical, &role))?;
    let role_unit = guid_of(role_row, "_businessunitid_value");
    let user_unit = ctx.org.row("systemusers", &user).and_then(|u| guid_of(u, "_businessunitid_value"));
    if role_unit != user_unit {
        // Dataverse refuses roles of another business unit; its exact code is not documented.
        return Err(WebApiError::new(
            400,
            "0x80040227",
            format!(
                "The role {role} belongs to another business unit than the user {user}: assign the role of the user's own business unit."
            ),
        ));
    }
    if ctx.org.user_roles.get(&user).is_some_and(|r| r.contains(&role)) {
        return Err(WebApiError::duplicate_key());
    }
    journal.roles(ctx.org, user);
    let mailbox = ctx.org.user_mailbox.get(&user).copied();
    if let Some(m) = mailbox {
        journal.sim(ctx.org, m);
        ctx.org.count_write(m);
    }
    ctx.org.user_roles.entry(user).or_default().insert(role);
    Ok(Outcome::no_content(ctx.costs.associate, label.to_string()))
}

pub fn disassociate(
    ctx: &mut Ctx<'_>,
    user: Uuid,
    role: Option<Uuid>,
    req: &Request<'_>,
    journal: &mut Journal,
    label: &str,
) -> Result<Outcome, WebApiError> {
    require_user(ctx, user)?;
    // Either `.../systemuserroles_association(<role>)/$ref` or `.../$ref?$id=<role url>`.
    let role = match role {
        Some(r) => r,
        None => {
            let id = req
                .query
                .split('&')
                .find_map(|p| p.strip_prefix("$id="))
                .ok_or_else(|| WebApiError::bad_query("Name the role to remove: .../systemuserroles_association(<roleid>)/$ref or $id=<role URL>."))?;
            let id = crate::webapi::query::decode(id)?;
            role_from_body(serde_json::json!({"@odata.id": id}).to_string().as_bytes())?
        }
    };
    if !ctx.org.user_roles.get(&user).is_some_and(|r| r.contains(&role)) {
        return Err(WebApiError::row_not_found(ROLES.logical, &role));
    }
    journal.roles(ctx.org, user);
    if let Some(m) = ctx.org.user_mailbox.get(&user).copied() {
        journal.sim(ctx.org, m);
        ctx.org.count_write(m);
    }
    if let Some(roles) = ctx.org.user_roles.get_mut(&user) {
        roles.remove(&role);
    }
    Ok(Outcome::no_content(ctx.costs.disassociate, label.to_string()))
}
