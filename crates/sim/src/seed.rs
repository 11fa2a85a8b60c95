//! Builds a deterministic organization from a seed: business units, roles, users, application
//! users, mailboxes and teams, with the profile's share of awkward cases.

use crate::case::Case;
use crate::org::{APP_ROLE_NAME, MailboxSim, Org, Row};
use crate::profile::Profile;
use crate::rng::Rng;
use serde_json::{Value, json};
use uuid::Uuid;

/// The time seeded rows say they were created and last modified.
pub(crate) const SEEDED_AT: &str = "2026-01-05T09:00:00Z";
const DOMAIN: &str = "contoso.example";
const CHILD_UNITS: [&str; 12] = [
    "Sales",
    "Service",
    "Marketing",
    "Finance",
    "Operations",
    "Europe",
    "Americas",
    "Asia Pacific",
    "Legal",
    "Research",
    "Support",
    "Partners",
];
const ROLE_NAMES: [&str; 4] = ["System Administrator", "Basic User", "Salesperson", APP_ROLE_NAME];
const FIRST: [&str; 16] = [
    "Ada", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kemi", "Liam", "Maya",
    "Nils", "Olga", "Priya",
];
const LAST: [&str; 16] = [
    "Adams", "Brooks", "Chen", "Dubois", "Evans", "Fischer", "Garcia", "Haddad", "Ivanova", "Jensen",
    "Kowalski", "Lopez", "Moreau", "Nakamura", "Okafor", "Patel",
];

/// One application user (client credentials) the org knows.
#[derive(Debug, Clone)]
pub struct AppUser {
    pub client_id: String,
}

fn row(pairs: Vec<(&str, Value)>) -> Row {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// The application id of a client: its id when it is a GUID, else one derived from it.
fn application_id(client_id: &str) -> Uuid {
    Uuid::parse_str(client_id).unwrap_or_else(|_| Rng::derive(0, client_id).uuid())
}

/// Seeds an organization with `mailboxes` user mailboxes.
pub fn seed_org(mailboxes: usize, seed: u64, profile: &Profile, clients: &[AppUser]) -> Org {
    let mut rng = Rng::derive(seed, "org");
    let org_id = rng.uuid();
    let root_bu = rng.uuid();
    let mut org = Org::new(
        org_id,
        root_bu,
        profile.test_delay_ms,
        profile.deploy_delay_ms,
        Rng::derive(seed, "processes"),
    );

    org.put_row(
        "organizations",
        org_id,
        row(vec![
            ("organizationid", json!(org_id)),
            ("name", json!("Contoso (simulated)")),
            ("emailconnectionchannel", json!(profile.email_connection_channel)),
            ("requireapprovalforuseremail", json!(true)),
            ("requireapprovalforqueueemail", json!(true)),
            ("_defaultemailserverprofileid_value", json!(rng.uuid())),
            ("modifiedon", json!(SEEDED_AT)),
        ]),
    );

    let case_counts = profile.cases.counts(mailboxes);
    let needs_roleless_unit = case_counts.iter().any(|(c, n)| *c == Case::NoRoleInBusinessUnit && *n > 0);
    let child_count = (mailboxes / 1000).clamp(1, CHILD_UNITS.len());
    let mut units = vec![(root_bu, "Contoso".to_string(), None)];
    for name in CHILD_UNITS.iter().take(child_count) {
        units.push((rng.uuid(), name.to_string(), Some(root_bu)));
    }
    let roleless_unit = needs_roleless_unit.then(|| rng.uuid());
    if let Some(id) = roleless_unit {
        units.push((id, "Contractors".to_string(), Some(root_bu)));
    }

    // Roles are per business unit; a child unit's copy points at the root unit's role.
    let mut root_roles: Vec<Uuid> = Vec::new();
    let mut unit_roles: Vec<Vec<(String, Uuid)>> = Vec::new();
    for (bu, name, parent) in &units {
        org.put_row(
            "businessunits",
            *bu,
            row(vec![
                ("businessunitid", json!(bu)),
                ("name", json!(name)),
                ("_parentbusinessunitid_value", json!(parent)),
                ("isdisabled", json!(false)),
                ("modifiedon", json!(SEEDED_AT)),
            ]),
        );
        let mut roles = Vec::new();
        for (i, role_name) in ROLE_NAMES.iter().enumerate() {
            if Some(*bu) == roleless_unit && *role_name == APP_ROLE_NAME {
                continue;
            }
            let role_id = rng.uuid();
            let parent_role = root_roles.get(i).copied().unwrap_or(role_id);
            if *bu == root_bu {
                root_roles.push(role_id);
            }
            org.put_row(
                "roles",
                role_id,
                row(vec![
                    ("roleid", json!(role_id)),
                    ("name", json!(role_name)),
                    ("_businessunitid_value", json!(bu)),
                    ("_parentrootroleid_value", json!(parent_role)),
                    ("modifiedon", json!(SEEDED_AT)),
                ]),
            );
            roles.push((role_name.to_string(), role_id));
        }
        unit_roles.push(roles);
    }
    let role_in =
        |unit: usize, name: &str| unit_roles[unit].iter().find(|(n, _)| n == name).map(|(_, id)| *id);

    for client in clients {
        let user_id = Rng::derive(seed, &format!("app-user:{}", client.client_id)).uuid();
        org.put_row(
            "systemusers",
            user_id,
            row(vec![
                ("systemuserid", json!(user_id)),
                ("fullname", json!(format!("# {}", client.client_id))),
                ("firstname", json!("#")),
                ("lastname", json!(client.client_id)),
                ("internalemailaddress", json!(format!("app-{}@{DOMAIN}", org.app_users.len()))),
                ("domainname", json!(format!("app-{}@{DOMAIN}", org.app_users.len()))),
                ("applicationid", json!(application_id(&client.client_id))),
                ("_businessunitid_value", json!(root_bu)),
                ("_defaultmailbox_value", Value::Null),
                ("isdisabled", json!(false)),
                ("accessmode", json!(4)),
                ("emailrouteraccessapproval", json!(0)),
                ("isemailaddressapprovedbyo365admin", json!(false)),
                ("modifiedon", json!(SEEDED_AT)),
            ]),
        );
        org.user_roles.entry(user_id).or_default().extend(role_in(0, "System Administrator"));
        org.app_users.insert(client.client_id.clone(), user_id);
    }

    let mut cases: Vec<Case> = Vec::with_capacity(mailboxes);
    for (case, count) in &case_counts {
        cases.extend(std::iter::repeat_n(*case, *count));
    }
    cases.resize(mailboxes, Case::Normal);
    rng.shuffle(&mut cases);

    let regular_units = 1 + child_count;
    let mut regular_users = Vec::with_capacity(mailboxes);
    for (i, case) in cases.into_iter().enumerate() {
        let user_id = rng.uuid();
        let mailbox_id = rng.uuid();
        regular_users.push(user_id);
        let unit = match (case, roleless_unit) {
            (Case::NoRoleInBusinessUnit, Some(_)) => units.len() - 1,
            _ => i % regular_units,
        };
        let bu = units[unit].0;
        let first = *rng.pick(&FIRST);
        let last = *rng.pick(&LAST);
        let email = format!("{}.{}.{:05}@{DOMAIN}", first.to_lowercase(), last.to_lowercase(), i + 1);
        let fullname = format!("{first} {last}");
        org.put_row(
            "systemusers",
            user_id,
            row(vec![
                ("systemuserid", json!(user_id)),
                ("fullname", json!(fullname)),
                ("firstname", json!(first)),
                ("lastname", json!(last)),
                ("internalemailaddress", json!(email)),
                ("domainname", json!(email)),
                ("applicationid", Value::Null),
                ("_businessunitid_value", json!(bu)),
                ("_defaultmailbox_value", json!(mailbox_id)),
                ("isdisabled", json!(case == Case::UserDisabled)),
                ("accessmode", json!(0)),
                ("emailrouteraccessapproval", json!(if case == Case::AlreadyTested { 1 } else { 2 })),
                ("isemailaddressapprovedbyo365admin", json!(case == Case::AlreadyTested)),
                ("modifiedon", json!(SEEDED_AT)),
            ]),
        );
        let roles = org.user_roles.entry(user_id).or_default();
        roles.extend(role_in(unit, "Basic User"));
        roles.extend(role_in(unit, "Salesperson"));
        if case == Case::AlreadyTested {
            roles.extend(role_in(unit, APP_ROLE_NAME));
        }
        org.put_row("mailboxes", mailbox_id, mailbox_row(mailbox_id, user_id, bu, &fullname, &email, case));
        org.user_mailbox.insert(user_id, mailbox_id);
        org.mailboxes.insert(
            mailbox_id,
            MailboxSim {
                case,
                user: user_id,
                test_token: 0,
                deploy_token: 0,
                test_due: None,
                deploy_due: None,
                writes: 0,
                deleted: false,
                last_row: None,
                alerts: Vec::new(),
            },
        );
    }
    crate::teams::seed_teams(&mut org, seed, &regular_users);
    org
}

fn mailbox_row(id: Uuid, user: Uuid, bu: Uuid, name: &str, email: &str, case: Case) -> Row {
    let tested = case == Case::AlreadyTested;
    let approval = match case {
        Case::AlreadyApproved | Case::AlreadyTested => 1,
        Case::ApprovalRejected => 3,
        _ => 2,
    };
    // Seeded approvals were made by a Microsoft 365 administrator.
    let admin_approved = approval == 1;
    let status = if tested { 1 } else { 0 };
    let inactive = case == Case::InactiveMailbox;
    row(vec![
        ("mailboxid", json!(id)),
        ("name", json!(name)),
        ("emailaddress", json!(email)),
        ("_regardingobjectid_value", json!(user)),
        ("_ownerid_value", json!(user)),
        ("_owningbusinessunit_value", json!(bu)),
        ("emailrouteraccessapproval", json!(approval)),
        ("isemailaddressapprovedbyo365admin", json!(admin_approved)),
        ("incomingemaildeliverymethod", json!(2)),
        ("outgoingemaildeliverymethod", json!(2)),
        ("actdeliverymethod", json!(1)),
        ("incomingemailstatus", json!(status)),
        ("outgoingemailstatus", json!(status)),
        ("actstatus", json!(status)),
        ("mailboxstatus", json!(status)),
        ("testemailconfigurationscheduled", json!(false)),
        ("testmailboxaccesscompletedon", if tested { json!(SEEDED_AT) } else { Value::Null }),
        ("testandenablelastattemptedon", if tested { json!(SEEDED_AT) } else { Value::Null }),
        ("enabledforincomingemail", json!(tested)),
        ("enabledforoutgoingemail", json!(tested)),
        ("enabledforact", json!(tested)),
        ("orgmarkedasprimaryforexchangesync", json!(false)),
        ("isactsyncorgflagset", json!(false)),
        ("officeappsdeploymentscheduled", json!(false)),
        ("officeappsdeploymentstatus", json!(0)),
        ("officeappsdeploymentcompleteon", Value::Null),
        ("officeappsdeploymenterror", Value::Null),
        ("statecode", json!(if inactive { 1 } else { 0 })),
        ("statuscode", json!(if inactive { 2 } else { 1 })),
        ("modifiedon", json!(SEEDED_AT)),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::org::{bool_of, int_of};

    fn clients() -> Vec<AppUser> {
        vec![AppUser { client_id: "app".into() }]
    }

    #[test]
    fn same_seed_gives_the_same_org() {
        let p = Profile::default();
        let a = seed_org(300, 9, &p, &clients());
        let b = seed_org(300, 9, &p, &clients());
        assert_eq!(a.table("mailboxes"), b.table("mailboxes"));
        assert_eq!(a.table("systemusers"), b.table("systemusers"));
        let c = seed_org(300, 10, &p, &clients());
        assert_ne!(a.table("mailboxes"), c.table("mailboxes"));
    }

    #[test]
    fn every_business_unit_but_contractors_has_the_app_role() {
        let org = seed_org(2000, 1, &Profile::default(), &clients());
        let units = org.table("businessunits").expect("units");
        let roles = org.table("roles").expect("roles");
        for (bu, unit) in units {
            let has =
                roles.values().any(|r| r["name"] == APP_ROLE_NAME && r["_businessunitid_value"] == json!(bu));
            assert_eq!(has, unit["name"] != "Contractors", "unit {}", unit["name"]);
        }
    }

    #[test]
    fn case_counts_and_columns_match_the_profile() {
        let org = seed_org(2000, 3, &Profile::default(), &clients());
        let count = |case| org.mailboxes.values().filter(|m| m.case == case).count();
        assert_eq!(count(Case::AlreadyApproved), 100);
        assert_eq!(count(Case::OtherOrg), 40);
        assert_eq!(org.table("mailboxes").map(|t| t.len()), Some(2000));
        for (id, sim) in &org.mailboxes {
            let row = org.row("mailboxes", id).expect("row");
            match sim.case {
                Case::ApprovalRejected => assert_eq!(int_of(row, "emailrouteraccessapproval"), 3),
                Case::InactiveMailbox => assert_eq!(int_of(row, "statecode"), 1),
                Case::AlreadyTested => {
                    assert_eq!(int_of(row, "mailboxstatus"), 1);
                    assert!(org.user_has_app_role(&sim.user));
                    assert!(bool_of(row, "isemailaddressapprovedbyo365admin"));
                }
                Case::AlreadyApproved => assert!(bool_of(row, "isemailaddressapprovedbyo365admin")),
                Case::Normal => {
                    assert_eq!(int_of(row, "emailrouteraccessapproval"), 2);
                    assert!(!bool_of(row, "isemailaddressapprovedbyo365admin"));
                }
                _ => {}
            }
        }
    }
}
