//! Collection-valued navigation properties of the N:N relationships the simulator serves, read
//! from either side: `systemuserroles_association` (systemuser ↔ role) and
//! `teammembership_association` (systemuser ↔ team). Each read is an ordinary collection read of
//! the related table, limited to the related rows: `$select`, `$filter`, `$top` and paging work
//! as on the table itself.

use crate::schema::{ROLES, SYSTEMUSERS, TEAMS, Table};
use crate::webapi::error::WebApiError;
use crate::webapi::read::retrieve_multiple;
use crate::webapi::{Ctx, Outcome, Request};
use uuid::Uuid;

pub const USER_ROLES: &str = "systemuserroles_association";
pub const TEAM_MEMBERSHIP: &str = "teammembership_association";

/// A navigation property of one table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NavProp {
    pub name: &'static str,
    /// The table on the other side.
    pub target: &'static Table,
}

/// The navigation property `name` of the table `set`, when the simulator serves it.
pub fn property(set: &str, name: &str) -> Option<NavProp> {
    let target: &'static Table = match (set, name) {
        ("systemusers", USER_ROLES) => &ROLES,
        ("roles", USER_ROLES) => &SYSTEMUSERS,
        ("systemusers", TEAM_MEMBERSHIP) => &TEAMS,
        ("teams", TEAM_MEMBERSHIP) => &SYSTEMUSERS,
        _ => return None,
    };
    let name = if name == USER_ROLES { USER_ROLES } else { TEAM_MEMBERSHIP };
    Some(NavProp { name, target })
}

/// How reads and writes through a navigation property are counted in statistics: the property's
/// name from the user side (`systemuserroles_association`), qualified by the entity set from the
/// other side (`roles/systemuserroles_association`).
pub fn label_name(source: &Table, nav: NavProp) -> String {
    if source.set == "systemusers" { nav.name.to_string() } else { format!("{}/{}", source.set, nav.name) }
}

/// `GET {set}({id})/{nav}`: the related rows of one row.
pub fn list(
    ctx: &mut Ctx<'_>,
    source: &Table,
    id: Uuid,
    nav: NavProp,
    req: &Request<'_>,
    label: &str,
) -> Result<Outcome, WebApiError> {
    if ctx.org.row(source.set, &id).is_none() {
        return Err(WebApiError::row_not_found(source.logical, &id));
    }
    let related = match (source.set, nav.name) {
        ("systemusers", USER_ROLES) => ctx.org.user_roles.get(&id).cloned().unwrap_or_default(),
        ("roles", USER_ROLES) => ctx.org.holders_of(&id),
        ("systemusers", _) => ctx.org.teams_of(&id),
        _ => ctx.org.members_of(&id),
    };
    retrieve_multiple(ctx, nav.target, req, Some(&related), label)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_sides_of_each_relationship_are_served() {
        assert_eq!(property("systemusers", USER_ROLES).map(|n| n.target.set), Some("roles"));
        assert_eq!(property("roles", USER_ROLES).map(|n| n.target.set), Some("systemusers"));
        assert_eq!(property("systemusers", TEAM_MEMBERSHIP).map(|n| n.target.set), Some("teams"));
        assert_eq!(property("teams", TEAM_MEMBERSHIP).map(|n| n.target.set), Some("systemusers"));
        assert_eq!(property("mailboxes", USER_ROLES), None);
        assert_eq!(property("teams", USER_ROLES), None);
    }
}
