//! Teams of the seeded org and who belongs to them (`teammembership_association`), and the
//! reverse look-ups of the N:N relationships: a team's members, a user's teams, a role's holders.
//!
//! Three owner teams are seeded in the root business unit, deterministic from the seed:
//! "Pilot Users" (about 5% of the regular users), "Sales Team" (the users of the business unit
//! "Sales", or about 10% of the users when it has none) and "Empty Team" (no members).

use crate::org::{Org, Row, guid_of};
use crate::rng::Rng;
use crate::seed::SEEDED_AT;
use serde_json::json;
use std::collections::BTreeSet;
use uuid::Uuid;

pub const PILOT_TEAM: &str = "Pilot Users";
pub const SALES_TEAM: &str = "Sales Team";
pub const EMPTY_TEAM: &str = "Empty Team";

/// `teamtype` of an owner team.
pub const OWNER: i64 = 0;

/// About `share` of `users` (at least one when there are any), drawn with `rng`.
fn sample(rng: &mut Rng, users: &[Uuid], share: f64) -> BTreeSet<Uuid> {
    if users.is_empty() {
        return BTreeSet::new();
    }
    let count = ((users.len() as f64 * share).round() as usize).clamp(1, users.len());
    let mut shuffled = users.to_vec();
    rng.shuffle(&mut shuffled);
    shuffled.into_iter().take(count).collect()
}

/// Seeds the teams; `users` are the regular (not application) users in seeding order.
pub fn seed_teams(org: &mut Org, seed: u64, users: &[Uuid]) {
    let mut rng = Rng::derive(seed, "teams");
    let sales_unit = org.table("businessunits").and_then(|units| {
        units.iter().find(|(_, row)| row.get("name") == Some(&json!("Sales"))).map(|(id, _)| *id)
    });
    let in_sales: BTreeSet<Uuid> = users
        .iter()
        .copied()
        .filter(|u| {
            sales_unit.is_some()
                && org.row("systemusers", u).and_then(|r| guid_of(r, "_businessunitid_value")) == sales_unit
        })
        .collect();
    let pilot = sample(&mut rng, users, 0.05);
    let sales = if in_sales.is_empty() { sample(&mut rng, users, 0.10) } else { in_sales };
    let root = org.root_business_unit;
    for (name, members) in [(PILOT_TEAM, pilot), (SALES_TEAM, sales), (EMPTY_TEAM, BTreeSet::new())] {
        let id = rng.uuid();
        let row: Row = [
            ("teamid", json!(id)),
            ("name", json!(name)),
            ("_businessunitid_value", json!(root)),
            ("teamtype", json!(OWNER)),
            ("modifiedon", json!(SEEDED_AT)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        org.put_row("teams", id, row);
        org.team_members.insert(id, members);
    }
}

impl Org {
    /// The members of a team (empty for an unknown team).
    pub fn members_of(&self, team: &Uuid) -> BTreeSet<Uuid> {
        self.team_members.get(team).cloned().unwrap_or_default()
    }

    /// The teams a user belongs to.
    pub fn teams_of(&self, user: &Uuid) -> BTreeSet<Uuid> {
        self.team_members.iter().filter(|(_, members)| members.contains(user)).map(|(t, _)| *t).collect()
    }

    /// The users that hold a role directly (not through a team).
    pub fn holders_of(&self, role: &Uuid) -> BTreeSet<Uuid> {
        self.user_roles.iter().filter(|(_, roles)| roles.contains(role)).map(|(u, _)| *u).collect()
    }

    /// Names of the teams a user belongs to, in key order of the teams.
    pub fn team_names_of(&self, user: &Uuid) -> Vec<String> {
        self.teams_of(user)
            .iter()
            .filter_map(|t| self.row("teams", t)?.get("name")?.as_str().map(str::to_string))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use crate::case::CaseShares;
    use crate::profile::Profile;
    use crate::seed::{AppUser, seed_org};
    use crate::teams::{EMPTY_TEAM, PILOT_TEAM, SALES_TEAM};
    use serde_json::json;

    fn team_sizes(mailboxes: usize, seed: u64) -> Vec<(String, usize)> {
        let profile = Profile { cases: CaseShares::none(), ..Profile::default() };
        let org = seed_org(mailboxes, seed, &profile, &[AppUser { client_id: "app".into() }]);
        let mut sizes: Vec<(String, usize)> = org
            .table("teams")
            .map(|t| {
                t.iter()
                    .map(|(id, row)| {
                        (row["name"].as_str().unwrap_or("").to_string(), org.members_of(id).len())
                    })
                    .collect()
            })
            .unwrap_or_default();
        sizes.sort();
        sizes
    }

    #[test]
    fn teams_are_deterministic_and_sized_from_the_users() {
        let sizes = team_sizes(400, 3);
        assert_eq!(sizes, team_sizes(400, 3));
        let size = |name: &str| sizes.iter().find(|(n, _)| n == name).map(|(_, s)| *s);
        assert_eq!(size(PILOT_TEAM), Some(20));
        assert_eq!(size(EMPTY_TEAM), Some(0));
        // Under 2,000 mailboxes users alternate between the root unit and "Sales".
        assert_eq!(size(SALES_TEAM), Some(200));
    }

    #[test]
    fn sales_team_holds_exactly_the_users_of_sales() {
        let org = seed_org(100, 1, &Profile::default(), &[]);
        let units = org.table("businessunits").expect("units");
        let sales = units.iter().find(|(_, r)| r["name"] == "Sales").map(|(id, _)| *id).expect("Sales");
        let team = org.table("teams").and_then(|t| t.iter().find(|(_, r)| r["name"] == SALES_TEAM));
        let (team, row) = team.expect("Sales Team");
        assert_eq!(row["_businessunitid_value"], json!(org.root_business_unit));
        for member in org.members_of(team) {
            let user = org.row("systemusers", &member).expect("user");
            assert_eq!(user["_businessunitid_value"], json!(sales));
            assert!(org.team_names_of(&member).contains(&SALES_TEAM.to_string()));
        }
    }
}
