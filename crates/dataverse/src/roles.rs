//! Security roles: the "Dynamics 365 App for Outlook User" role found per business unit
//! (cached, as every user of a unit needs the same one), checked and assigned per user; and
//! the directory reads of roles by name and of the users holding a role.

use crate::dataverse_client::Dataverse;
use crate::error::DataverseError;
use crate::odata::{guids, literal};
use crate::request::WebApiRequest;
use crate::users::UserIdRow;
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Mutex;
use uuid::Uuid;

/// Name of the role the App for Outlook needs (exists from build 9.1.0.4206).
pub const APP_ROLE_NAME: &str = "Dynamics 365 App for Outlook User";

/// Role ids by business unit; `None` when the unit has no such role.
#[derive(Debug, Default)]
pub struct RoleCache {
    by_unit: Mutex<HashMap<Uuid, Option<Uuid>>>,
}

/// What assigning a role did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleAssignment {
    Assigned,
    /// The user held it already (Dataverse's duplicate key answer counts as done).
    AlreadyHeld,
}

#[derive(Deserialize)]
struct Rows<T> {
    value: Vec<T>,
}

#[derive(Deserialize)]
struct RoleRow {
    roleid: Uuid,
}

#[derive(Deserialize)]
struct RoleUnitRow {
    roleid: Uuid,
    #[serde(rename = "_businessunitid_value")]
    business_unit: Option<Uuid>,
}

#[derive(Deserialize)]
struct UserUnit {
    #[serde(rename = "_businessunitid_value")]
    business_unit: Option<Uuid>,
}

#[derive(Deserialize)]
struct UserUnitRow {
    systemuserid: Uuid,
    #[serde(rename = "_businessunitid_value")]
    business_unit: Option<Uuid>,
}

impl Dataverse {
    /// The business unit of a user.
    pub async fn user_business_unit(&self, user: Uuid) -> Result<Uuid, DataverseError> {
        let req = WebApiRequest::get("read user", format!("systemusers({user})"))
            .query("$select", "_businessunitid_value");
        let row: UserUnit = self.execute(&req).await?.json()?;
        row.business_unit.ok_or_else(|| DataverseError::Invalid {
            status: 200,
            code: String::new(),
            message: format!("user {user} has no business unit"),
        })
    }

    /// The business units of many users, read 100 at a time (`In` filter); users that do not
    /// exist, or have no unit, are absent.
    pub async fn users_business_units(&self, users: &[Uuid]) -> Result<HashMap<Uuid, Uuid>, DataverseError> {
        let select = "systemuserid,_businessunitid_value";
        let rows: Vec<UserUnitRow> =
            self.read_in("read users", "systemusers", select, "systemuserid", &guids(users)).await?;
        Ok(rows.into_iter().filter_map(|r| Some((r.systemuserid, r.business_unit?))).collect())
    }

    /// The role named `name` in business unit `unit`, or None when the unit lacks it.
    pub async fn role_in_unit(&self, name: &str, unit: Uuid) -> Result<Option<Uuid>, DataverseError> {
        let filter = format!("name eq {} and _businessunitid_value eq {unit}", literal(name));
        let req =
            WebApiRequest::get("find role", "roles").query("$select", "roleid").query("$filter", filter);
        let rows: Rows<RoleRow> = self.execute(&req).await?.json()?;
        Ok(rows.value.first().map(|r| r.roleid))
    }

    /// Every role named `name` (as given; Dataverse compares without case), one per business
    /// unit that has it: (role, business unit).
    pub async fn roles_named(&self, name: &str) -> Result<Vec<(Uuid, Uuid)>, DataverseError> {
        let filter = format!("name eq {}", literal(name));
        let select = "roleid,_businessunitid_value";
        let rows: Vec<RoleUnitRow> = self.read_all("read roles", "roles", select, Some(&filter)).await?;
        // Every role belongs to a business unit; a row without one is no role to assign.
        Ok(rows.into_iter().filter_map(|r| Some((r.roleid, r.business_unit?))).collect())
    }

    /// The users that hold the role directly (not through a team), every page.
    pub async fn role_holders(&self, role: Uuid) -> Result<Vec<Uuid>, DataverseError> {
        let path = format!("roles({role})/systemuserroles_association");
        let rows: Vec<UserIdRow> = self.read_all("read role holders", &path, "systemuserid", None).await?;
        Ok(rows.into_iter().map(|r| r.systemuserid).collect())
    }

    /// The App for Outlook role of a business unit, read once per unit.
    pub async fn app_role_for_unit(&self, unit: Uuid) -> Result<Option<Uuid>, DataverseError> {
        if let Some(cached) = self.roles.by_unit.lock().map_or(None, |m| m.get(&unit).copied()) {
            return Ok(cached);
        }
        let role = self.role_in_unit(APP_ROLE_NAME, unit).await?;
        if let Ok(mut m) = self.roles.by_unit.lock() {
            m.insert(unit, role);
        }
        Ok(role)
    }

    /// Whether the user holds the role directly (a role held through a team does not count).
    pub async fn user_has_role(&self, user: Uuid, role: Uuid) -> Result<bool, DataverseError> {
        let req =
            WebApiRequest::get("check role", format!("systemusers({user})/systemuserroles_association"))
                .query("$select", "roleid")
                .query("$filter", format!("roleid eq {role}"));
        // One check per mailbox: batched with the others under way.
        let rows: Rows<RoleRow> = self.read_batched(&req).await?.json()?;
        Ok(!rows.value.is_empty())
    }

    /// Assigns the role to the user; a duplicate is already done.
    pub async fn assign_role(&self, user: Uuid, role: Uuid) -> Result<RoleAssignment, DataverseError> {
        let body = json!({"@odata.id": self.url(&format!("roles({role})"))});
        let req = WebApiRequest::post(
            "assign role",
            format!("systemusers({user})/systemuserroles_association/$ref"),
            body,
        );
        match self.write(&req).await {
            Ok(_) => Ok(RoleAssignment::Assigned),
            Err(DataverseError::AlreadyDone { .. }) => Ok(RoleAssignment::AlreadyHeld),
            Err(e) => Err(e),
        }
    }
}
