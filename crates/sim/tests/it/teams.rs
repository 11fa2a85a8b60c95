//! Teams and the N:N navigation properties read from either side: a team's members, a user's
//! teams, and the holders of a role.

use crate::common::{TestSim, config, fast_profile, start};
use serde_json::{Value, json};
use std::collections::BTreeSet;

fn ids(rows: &[Value], key: &str) -> BTreeSet<String> {
    rows.iter().map(|r| r[key].as_str().unwrap().to_string()).collect()
}

async fn team_id(t: &TestSim, name: &str) -> String {
    let (status, body) = t.get_json(&format!("teams?$select=teamid&$filter=name eq '{name}'")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["value"].as_array().unwrap().len(), 1, "{name}");
    body["value"][0]["teamid"].as_str().unwrap().to_string()
}

async fn root_unit(t: &TestSim) -> String {
    let (_, who) = t.get_json("WhoAmI").await;
    who["BusinessUnitId"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn three_owner_teams_are_seeded_in_the_root_unit() {
    let t = start(config(400, fast_profile())).await;
    let root = root_unit(&t).await;
    let (status, body) = t.get_json("teams?$select=name,teamtype,_businessunitid_value").await;
    assert_eq!(status, 200, "{body}");
    let teams = body["value"].as_array().unwrap();
    let names: BTreeSet<&str> = teams.iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, BTreeSet::from(["Empty Team", "Pilot Users", "Sales Team"]));
    for team in teams {
        assert_eq!(team["teamtype"], 0);
        assert_eq!(team["_businessunitid_value"], root.as_str());
        assert!(team["teamid"].is_string() && team["@odata.etag"].is_string());
    }
    let pilot = team_id(&t, "Pilot Users").await;
    let (status, row) = t.get_json(&format!("teams({pilot})?$select=name,modifiedon")).await;
    assert_eq!(status, 200);
    assert_eq!(row["name"], "Pilot Users");
    let (_, owners) = t.get_json("teams?$select=teamid&$filter=teamtype eq 0").await;
    assert_eq!(owners["value"].as_array().unwrap().len(), 3);
    let (status, _) = t.get_json("teams?$select=bogus").await;
    assert_eq!(status, 400);

    let stats = t.stats().await;
    assert_eq!(stats["teams"]["Pilot Users"], 20, "5% of 400 users");
    assert_eq!(stats["teams"]["Empty Team"], 0);
}

#[tokio::test]
async fn team_members_page_and_match_the_users_teams() {
    let t = start(config(400, fast_profile())).await;
    let pilot = team_id(&t, "Pilot Users").await;
    let path = format!("teams({pilot})/teammembership_association?$select=systemuserid,fullname");
    let (members, pages) = t.get_all(&path, 7).await;
    assert_eq!(members.len(), 20);
    assert_eq!(pages, 3);
    let member_ids = ids(&members, "systemuserid");
    assert_eq!(member_ids.len(), 20, "no member twice");

    // The other direction: each member's teams include the pilot team.
    for user in member_ids.iter().take(5) {
        let (teams, _) =
            t.get_all(&format!("systemusers({user})/teammembership_association?$select=teamid"), 1).await;
        assert!(ids(&teams, "teamid").contains(&pilot), "{user}");
    }
    // A user's mailbox's ground truth names its teams.
    let user = member_ids.iter().next().unwrap();
    let (_, row) = t.get_json(&format!("systemusers({user})?$select=_defaultmailbox_value")).await;
    let truth = t.truth(row["_defaultmailbox_value"].as_str().unwrap()).await;
    assert!(truth["user_teams"].as_array().unwrap().contains(&json!("Pilot Users")), "{truth}");

    // $filter and $top work on the membership.
    let (_, one) = t
        .get_json(&format!(
            "teams({pilot})/teammembership_association?$select=systemuserid&$filter=systemuserid eq {user}"
        ))
        .await;
    assert_eq!(ids(one["value"].as_array().unwrap(), "systemuserid"), BTreeSet::from([user.clone()]));
    let (_, top) =
        t.get_json(&format!("teams({pilot})/teammembership_association?$select=systemuserid&$top=2")).await;
    assert_eq!(top["value"].as_array().unwrap().len(), 2);
    assert!(top["@odata.nextLink"].is_null());

    let empty = team_id(&t, "Empty Team").await;
    let (rows, pages) =
        t.get_all(&format!("teams({empty})/teammembership_association?$select=systemuserid"), 5).await;
    assert_eq!((rows.len(), pages), (0, 1));
    let missing = uuid::Uuid::from_u128(9);
    let (status, err) = t.get_json(&format!("teams({missing})/teammembership_association")).await;
    assert_eq!((status, err["error"]["code"].as_str()), (404, Some("0x80040217")));
}

#[tokio::test]
async fn sales_team_holds_the_users_of_the_sales_unit() {
    let t = start(config(300, fast_profile())).await;
    let (_, units) = t.get_json("businessunits?$select=businessunitid&$filter=name eq 'Sales'").await;
    let sales = units["value"][0]["businessunitid"].as_str().unwrap().to_string();
    let (in_unit, _) = t
        .get_all(&format!("systemusers?$select=systemuserid&$filter=_businessunitid_value eq {sales}"), 5000)
        .await;
    let team = team_id(&t, "Sales Team").await;
    let (members, pages) = t
        .get_all(
            &format!("teams({team})/teammembership_association?$select=systemuserid,_businessunitid_value"),
            40,
        )
        .await;
    assert!(!members.is_empty());
    assert_eq!(pages, members.len().div_ceil(40));
    assert_eq!(ids(&members, "systemuserid"), ids(&in_unit, "systemuserid"));
    assert!(members.iter().all(|m| m["_businessunitid_value"] == sales.as_str()));
}

async fn role_id(t: &TestSim, name: &str, unit: &str) -> String {
    let (_, roles) = t
        .get_json(&format!(
            "roles?$select=roleid&$filter=name eq '{name}' and _businessunitid_value eq {unit}"
        ))
        .await;
    roles["value"][0]["roleid"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn role_holders_from_the_role_side_match_the_user_side() {
    let t = start(config(60, fast_profile())).await;
    let root = root_unit(&t).await;
    let basic = role_id(&t, "Basic User", &root).await;
    let holders_path = format!("roles({basic})/systemuserroles_association?$select=systemuserid,fullname");
    let (holders, pages) = t.get_all(&holders_path, 4).await;
    assert_eq!(pages, holders.len().div_ceil(4));
    let holders = ids(&holders, "systemuserid");

    // Every user of the root unit, asked from its own side.
    let (users, _) = t
        .get_all(&format!("systemusers?$select=systemuserid&$filter=_businessunitid_value eq {root}"), 5000)
        .await;
    let mut expected = BTreeSet::new();
    for user in ids(&users, "systemuserid") {
        let (_, roles) = t
            .get_json(&format!(
                "systemusers({user})/systemuserroles_association?$select=roleid&$filter=roleid eq {basic}"
            ))
            .await;
        if !roles["value"].as_array().unwrap().is_empty() {
            expected.insert(user);
        }
    }
    assert!(!expected.is_empty());
    assert_eq!(holders, expected);

    // The application user holds System Administrator and nothing else holds it in the root unit.
    let (_, who) = t.get_json("WhoAmI").await;
    let me = who["UserId"].as_str().unwrap().to_string();
    let admin = role_id(&t, "System Administrator", &root).await;
    let (admins, _) =
        t.get_all(&format!("roles({admin})/systemuserroles_association?$select=systemuserid"), 10).await;
    assert_eq!(ids(&admins, "systemuserid"), BTreeSet::from([me.clone()]));

    // $filter and $top on the role side.
    let someone = holders.iter().next().unwrap();
    let (_, one) = t
        .get_json(&format!("roles({basic})/systemuserroles_association?$select=systemuserid&$filter=systemuserid eq {someone}"))
        .await;
    assert_eq!(one["value"].as_array().unwrap().len(), 1);
    let (_, none) = t
        .get_json(&format!(
            "roles({basic})/systemuserroles_association?$select=systemuserid&$filter=systemuserid eq {me}"
        ))
        .await;
    assert_eq!(none["value"].as_array().unwrap().len(), 0);
    let (_, top) =
        t.get_json(&format!("roles({basic})/systemuserroles_association?$select=systemuserid&$top=3")).await;
    assert_eq!(top["value"].as_array().unwrap().len(), 3);
    assert!(top["@odata.nextLink"].is_null());

    // A role assigned from the user side shows on the role side.
    let app_role = role_id(&t, "Dynamics 365 App for Outlook User", &root).await;
    let (before, _) =
        t.get_all(&format!("roles({app_role})/systemuserroles_association?$select=systemuserid"), 50).await;
    let someone = holders.difference(&ids(&before, "systemuserid")).next().cloned().unwrap();
    let body = json!({"@odata.id": t.api(&format!("roles({app_role})"))});
    let url = t.api(&format!("systemusers({someone})/systemuserroles_association/$ref"));
    assert_eq!(t.http.post(url).bearer_auth(&t.token).json(&body).send().await.unwrap().status(), 204);
    let (after, _) =
        t.get_all(&format!("roles({app_role})/systemuserroles_association?$select=systemuserid"), 50).await;
    assert!(ids(&after, "systemuserid").contains(&someone));

    let stats = t.stats().await;
    assert!(
        stats["requests"]["retrieve_multiple roles/systemuserroles_association"]["200"].as_u64() > Some(0)
    );
    // Associating from the role side is not served.
    let url = t.api(&format!("roles({app_role})/systemuserroles_association/$ref"));
    let body = json!({"@odata.id": t.api(&format!("systemusers({someone})"))});
    assert_eq!(t.http.post(url).bearer_auth(&t.token).json(&body).send().await.unwrap().status(), 501);
}
