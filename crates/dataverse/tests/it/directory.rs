//! The directory reads (users, business units, teams, roles, mailboxes by owner, organization
//! settings) against the simulator's ground truth, with paging and chunked `In` filters.

use dataverse::{Credential, Dataverse, DataverseOptions, EmailProcessing, OrgSettings, Secret, User};
use serde_json::Value;
use sim::{Costs, Profile, RunningSim, SimConfig};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use uuid::Uuid;

/// Rows per page in these tests, so that most reads take several pages.
const SMALL_PAGE: usize = 300;

async fn simulator(mailboxes: usize) -> RunningSim {
    let profile = Profile { costs: Costs::zero(), ..Profile::default() };
    let config = SimConfig { mailboxes, seed: 23, clients: Vec::new(), profile };
    sim::start(config, "127.0.0.1:0".parse().unwrap()).await.unwrap()
}

fn client(running: &RunningSim, page_size: usize) -> Dataverse {
    let c = sim::default_client();
    let credential = Credential {
        authority: format!("{}/tenant", running.base_url),
        client_id: c.id,
        client_secret: Secret::new(c.secret),
    };
    let options = DataverseOptions { batching: None, page_size, ..DataverseOptions::default() };
    Dataverse::new(&running.base_url, vec![credential], options).unwrap()
}

async fn sim_json(running: &RunningSim, path: &str) -> Value {
    reqwest::get(format!("{}/_sim/{path}", running.base_url)).await.unwrap().json().await.unwrap()
}

/// Successful requests the simulator counted under `label` (`retrieve_multiple systemusers`).
async fn requests(running: &RunningSim, label: &str) -> u64 {
    sim_json(running, "stats").await["requests"][label]["200"].as_u64().unwrap_or(0)
}

fn guid(v: &Value) -> Option<Uuid> {
    v.as_str().map(|s| s.parse().unwrap())
}

/// One seeded mailbox's user as the simulator's ground truth has it.
#[derive(Debug, Clone)]
struct Truth {
    mailbox: Uuid,
    user: User,
    roles: BTreeSet<String>,
    teams: BTreeSet<String>,
}

/// The ground truth of every seeded mailbox (`GET /_sim/mailboxes/{id}`), by user.
async fn ground_truth(running: &RunningSim) -> BTreeMap<Uuid, Truth> {
    let by_case = sim_json(running, "mailboxes").await;
    let ids: Vec<String> = by_case
        .as_object()
        .unwrap()
        .values()
        .flat_map(|ids| ids.as_array().unwrap().iter().map(|id| id.as_str().unwrap().to_string()))
        .collect();
    let http = reqwest::Client::new();
    let mut out = BTreeMap::new();
    for chunk in ids.chunks(50) {
        let reads = chunk.iter().map(|id| {
            let url = format!("{}/_sim/mailboxes/{id}", running.base_url);
            let http = http.clone();
            async move { http.get(url).send().await.unwrap().json::<Value>().await.unwrap() }
        });
        for t in futures_util::future::join_all(reads).await {
            let u = &t["user"];
            let names =
                |v: &Value| v.as_array().unwrap().iter().map(|n| n.as_str().unwrap().to_string()).collect();
            let user = User {
                id: guid(&u["systemuserid"]).unwrap(),
                name: u["fullname"].as_str().unwrap().to_string(),
                upn: u["domainname"].as_str().map(str::to_string),
                email: u["internalemailaddress"].as_str().map(str::to_string),
                business_unit: guid(&u["_businessunitid_value"]),
                disabled: u["isdisabled"].as_bool().unwrap(),
                default_mailbox: guid(&u["_defaultmailbox_value"]),
                application: !u["applicationid"].is_null(),
            };
            let truth = Truth {
                mailbox: guid(&t["mailboxid"]).unwrap(),
                user,
                roles: names(&t["user_roles"]),
                teams: names(&t["user_teams"]),
            };
            out.insert(truth.user.id, truth);
        }
    }
    out
}

fn by_id(users: Vec<User>) -> BTreeMap<Uuid, User> {
    let count = users.len();
    let map: BTreeMap<Uuid, User> = users.into_iter().map(|u| (u.id, u)).collect();
    assert_eq!(map.len(), count, "no user twice");
    map
}

fn sorted(mut ids: Vec<Uuid>) -> Vec<Uuid> {
    ids.sort();
    ids
}

#[tokio::test]
async fn org_settings_reads_the_seeded_values() {
    let running = simulator(10).await;
    let dv = client(&running, SMALL_PAGE);
    let org = dv.connect().await.unwrap().organization_id;
    let settings = dv.org_settings(org).await.unwrap();
    assert_eq!(
        settings,
        OrgSettings {
            email_processing: EmailProcessing::ServerSideSync,
            require_approval_for_users: true,
            require_approval_for_queues: true,
        }
    );
}

#[tokio::test]
async fn the_page_size_is_dataverse_s_largest_unless_set_smaller() {
    let running = simulator(10).await;
    assert_eq!(client(&running, DataverseOptions::default().page_size).page_size(), 5000);
    assert_eq!(client(&running, 0).page_size(), 1);
    assert_eq!(client(&running, 9000).page_size(), 5000);
}

#[tokio::test]
async fn users_and_business_units_match_the_ground_truth_page_after_page() {
    let running = simulator(2000).await;
    let truth = ground_truth(&running).await;
    let dv = client(&running, SMALL_PAGE);

    let units = dv.business_units().await.unwrap();
    let names: BTreeSet<&str> = units.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(names, BTreeSet::from(["Contoso", "Sales", "Service", "Contractors"]));
    let unit_named = |name: &str| units.iter().find(|u| u.name == name).unwrap().id;

    // Every unit: every regular user as seeded, and the application user in the root unit.
    let all = by_id(dv.users_in_units(&units.iter().map(|u| u.id).collect::<Vec<_>>()).await.unwrap());
    assert_eq!(all.len(), truth.len() + 1);
    for t in truth.values() {
        assert_eq!(all[&t.user.id], t.user);
    }
    let apps: Vec<&User> = all.values().filter(|u| u.application).collect();
    assert_eq!(apps.len(), 1);
    assert_eq!(apps[0].business_unit, Some(unit_named("Contoso")));
    assert_eq!(apps[0].default_mailbox, None);
    assert!(truth.values().any(|t| t.user.disabled), "the user_disabled case reads as disabled");

    // One unit: exactly its users, in pages of 300.
    let sales = unit_named("Sales");
    let before = requests(&running, "retrieve_multiple systemusers").await;
    let in_sales = by_id(dv.users_in_units(&[sales]).await.unwrap());
    let pages = requests(&running, "retrieve_multiple systemusers").await - before;
    let expected: BTreeSet<Uuid> =
        truth.values().filter(|t| t.user.business_unit == Some(sales)).map(|t| t.user.id).collect();
    assert!(expected.len() > SMALL_PAGE, "{} users span pages", expected.len());
    assert_eq!(in_sales.keys().copied().collect::<BTreeSet<_>>(), expected);
    assert_eq!(pages as usize, expected.len().div_ceil(SMALL_PAGE), "every page once");
    assert!(dv.users_in_units(&[Uuid::from_u128(3)]).await.unwrap().is_empty());
}

#[tokio::test]
async fn users_are_read_by_ids_and_upns_a_hundred_at_a_time() {
    let running = simulator(400).await;
    let truth = ground_truth(&running).await;
    let dv = client(&running, SMALL_PAGE);

    let mut ids: Vec<Uuid> = truth.keys().copied().take(249).collect();
    ids.push(Uuid::from_u128(9));
    let before = requests(&running, "retrieve_multiple systemusers").await;
    let got = by_id(dv.users_by_ids(&ids).await.unwrap());
    let after = requests(&running, "retrieve_multiple systemusers").await;
    assert_eq!(after - before, 3, "250 ids in chunks of 100");
    assert_eq!(got.len(), 249, "every existing id once, the unknown one absent");
    for id in &ids[..249] {
        assert_eq!(got[id], truth[id].user);
    }
    // The same ids again (and an id twice) are asked for once.
    let twice: Vec<Uuid> = ids[..2].iter().chain(&ids[..2]).copied().collect();
    assert_eq!(dv.users_by_ids(&twice).await.unwrap().len(), 2);
    assert!(dv.users_by_ids(&[]).await.unwrap().is_empty());

    // UPNs compare without case; a quote is escaped, not a broken filter.
    let some: Vec<&Truth> = truth.values().skip(7).take(120).collect();
    let mut upns: Vec<String> = some.iter().map(|t| t.user.upn.clone().unwrap().to_uppercase()).collect();
    upns.push("o'neil@contoso.example".into());
    let got = by_id(dv.users_by_upns(&upns).await.unwrap());
    assert_eq!(got.keys().copied().collect::<BTreeSet<_>>(), some.iter().map(|t| t.user.id).collect());
}

#[tokio::test]
async fn mailboxes_are_found_by_their_owners() {
    let running = simulator(400).await;
    let truth = ground_truth(&running).await;
    let dv = client(&running, SMALL_PAGE);
    let owners: Vec<Uuid> = truth.keys().copied().take(230).collect();
    let before = requests(&running, "retrieve_multiple mailboxes").await;
    let mailboxes = dv.mailboxes_by_owners(&owners).await.unwrap();
    assert_eq!(requests(&running, "retrieve_multiple mailboxes").await - before, 3);
    let found: HashMap<Uuid, Uuid> = mailboxes.iter().map(|m| (m.owner.unwrap(), m.id)).collect();
    assert_eq!(found.len(), owners.len());
    for owner in &owners {
        assert_eq!(found[owner], truth[owner].mailbox);
        assert_eq!(truth[owner].user.default_mailbox, Some(truth[owner].mailbox));
    }
    assert!(mailboxes.iter().all(|m| !m.etag.is_empty()), "rows come with their etags");
}

#[tokio::test]
async fn teams_and_their_members_match_the_ground_truth() {
    let running = simulator(2000).await;
    let truth = ground_truth(&running).await;
    let dv = client(&running, SMALL_PAGE);
    for name in ["Pilot Users", "Sales Team", "Empty Team"] {
        let teams = dv.teams_named(name).await.unwrap();
        assert_eq!(teams.len(), 1, "{name}");
        let members = sorted(dv.team_members(teams[0]).await.unwrap());
        let expected: Vec<Uuid> =
            truth.values().filter(|t| t.teams.contains(name)).map(|t| t.user.id).collect();
        assert_eq!(members, sorted(expected), "{name}");
    }
    let sales_team = dv.teams_named("sales team").await.unwrap();
    assert_eq!(sales_team, dv.teams_named("Sales Team").await.unwrap(), "names compare without case");
    let before = requests(&running, "retrieve_multiple teams/teammembership_association").await;
    let members = dv.team_members(sales_team[0]).await.unwrap();
    let pages = requests(&running, "retrieve_multiple teams/teammembership_association").await - before;
    assert!(members.len() > SMALL_PAGE);
    assert_eq!(pages as usize, members.len().div_ceil(SMALL_PAGE));
    assert!(dv.teams_named("No Such Team").await.unwrap().is_empty());
    assert!(dv.teams_named("O'Brien's Team").await.unwrap().is_empty());
    let unknown = dv.team_members(Uuid::from_u128(4)).await;
    assert!(matches!(unknown, Err(dataverse::DataverseError::NotFound { .. })), "{unknown:?}");
}

#[tokio::test]
async fn roles_by_name_and_their_holders_match_the_ground_truth() {
    let running = simulator(2000).await;
    let truth = ground_truth(&running).await;
    let dv = client(&running, SMALL_PAGE);
    let units: HashMap<Uuid, String> =
        dv.business_units().await.unwrap().into_iter().map(|u| (u.id, u.name)).collect();

    for name in ["System Administrator", "Basic User", "Salesperson", dataverse::APP_ROLE_NAME] {
        let roles = dv.roles_named(name).await.unwrap();
        let mut in_units: Vec<&str> = roles.iter().map(|(_, unit)| units[unit].as_str()).collect();
        in_units.sort();
        let mut expected = vec!["Contoso", "Contractors", "Sales", "Service"];
        if name == dataverse::APP_ROLE_NAME {
            expected.retain(|u| *u != "Contractors");
        }
        assert_eq!(in_units, expected, "{name}: one role per unit that has it");
        if name == "System Administrator" {
            continue;
        }
        for (role, unit) in roles {
            let holders = sorted(dv.role_holders(role).await.unwrap());
            let expected: Vec<Uuid> = truth
                .values()
                .filter(|t| t.user.business_unit == Some(unit) && t.roles.contains(name))
                .map(|t| t.user.id)
                .collect();
            assert_eq!(holders, sorted(expected), "{name} in {}", units[&unit]);
        }
    }
    // Basic User of the root unit: every regular user of the unit, over several pages.
    let root = units.iter().find(|(_, n)| *n == "Contoso").map(|(id, _)| *id).unwrap();
    let (basic, _) =
        dv.roles_named("Basic User").await.unwrap().into_iter().find(|(_, u)| *u == root).unwrap();
    let label = "retrieve_multiple roles/systemuserroles_association";
    let before = requests(&running, label).await;
    let holders = dv.role_holders(basic).await.unwrap();
    assert!(holders.len() > SMALL_PAGE);
    assert_eq!((requests(&running, label).await - before) as usize, holders.len().div_ceil(SMALL_PAGE));
    assert!(dv.roles_named("Nobody's Role").await.unwrap().is_empty());
}
