//! Reads, writes, associations and bad input of the Web API.

use crate::common::{TestSim, config, fast_profile, start};
use serde_json::{Value, json};
use std::collections::HashSet;

async fn sim(n: usize) -> TestSim {
    start(config(n, fast_profile())).await
}

async fn first_mailbox(t: &TestSim, case: &str) -> String {
    t.ids(case).await.into_iter().next().unwrap()
}

#[tokio::test]
async fn who_am_i_names_the_application_user_and_hints_parallelism() {
    let t = sim(10).await;
    let resp = t.get("WhoAmI").send().await.unwrap();
    assert_eq!(resp.headers()["x-ms-dop-hint"], "16");
    let body: Value = resp.json().await.unwrap();
    for key in ["UserId", "BusinessUnitId", "OrganizationId"] {
        assert!(uuid::Uuid::parse_str(body[key].as_str().unwrap()).is_ok(), "{key}");
    }
    let (status, org) =
        t.get_json(&format!("organizations({})", body["OrganizationId"].as_str().unwrap())).await;
    assert_eq!(status, 200);
    assert_eq!(org["emailconnectionchannel"], 0);
}

#[tokio::test]
async fn one_mailbox_with_select_returns_those_columns_key_and_etag() {
    let t = sim(20).await;
    let id = first_mailbox(&t, "normal").await;
    let (status, row) =
        t.get_json(&format!("mailboxes({id})?$select=emailaddress,emailrouteraccessapproval")).await;
    assert_eq!(status, 200);
    let keys: HashSet<&str> = row.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        HashSet::from([
            "@odata.context",
            "@odata.etag",
            "emailaddress",
            "emailrouteraccessapproval",
            "mailboxid"
        ])
    );
    assert_eq!(row["mailboxid"], id.as_str());
}

#[tokio::test]
async fn paging_over_6000_rows_returns_every_row_exactly_once() {
    let t = sim(6000).await;
    let mut seen = HashSet::new();
    let mut pages = 0;
    let mut url = t.api("mailboxes?$select=mailboxid");
    loop {
        let resp = t
            .http
            .get(&url)
            .bearer_auth(&t.token)
            .header("Prefer", "odata.maxpagesize=700")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let body: Value = resp.json().await.unwrap();
        let rows = body["value"].as_array().unwrap();
        assert!(rows.len() <= 700);
        for r in rows {
            assert!(seen.insert(r["mailboxid"].as_str().unwrap().to_string()), "row returned twice");
        }
        pages += 1;
        match body["@odata.nextLink"].as_str() {
            Some(next) => url = next.to_string(),
            None => break,
        }
    }
    assert_eq!(seen.len(), 6000);
    assert_eq!(pages, 9);
}

#[tokio::test]
async fn default_page_is_5000_rows() {
    let t = sim(5200).await;
    let (_, body) = t.get_json("mailboxes?$select=name").await;
    assert_eq!(body["value"].as_array().unwrap().len(), 5000);
    assert!(body["@odata.nextLink"].is_string());
}

#[tokio::test]
async fn filter_by_in_on_ids_and_by_lookup_and_top() {
    let t = sim(200).await;
    let ids: Vec<String> = t.ids("normal").await.into_iter().take(3).collect();
    let values: Vec<String> = ids.iter().map(|i| format!("'{i}'")).collect();
    let filter =
        format!("Microsoft.Dynamics.CRM.In(PropertyName='mailboxid',PropertyValues=[{}])", values.join(","));
    let (status, body) = t.get_json(&format!("mailboxes?$select=mailboxid&$filter={filter}")).await;
    assert_eq!(status, 200, "{body}");
    let got: HashSet<String> = body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["mailboxid"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(got, ids.iter().cloned().collect());

    let truth = t.truth(&ids[0]).await;
    let user = truth["user"]["systemuserid"].as_str().unwrap();
    let (_, body) =
        t.get_json(&format!("mailboxes?$select=mailboxid&$filter=_regardingobjectid_value eq {user}")).await;
    assert_eq!(body["value"][0]["mailboxid"], ids[0].as_str());

    let (_, body) = t
        .get_json("mailboxes?$select=name&$filter=emailrouteraccessapproval eq 2 and statecode eq 0&$top=5")
        .await;
    assert_eq!(body["value"].as_array().unwrap().len(), 5);
    assert!(body["@odata.nextLink"].is_null());
    let (_, body) = t
        .get_json(
            "mailboxes?$select=name&$filter=emailrouteraccessapproval eq 3 or emailrouteraccessapproval ne 3",
        )
        .await;
    assert_eq!(body["value"].as_array().unwrap().len(), 200);
}

#[tokio::test]
async fn app_role_is_found_by_name_in_the_users_business_unit() {
    let t = sim(50).await;
    let id = first_mailbox(&t, "normal").await;
    let truth = t.truth(&id).await;
    let bu = truth["user"]["_businessunitid_value"].as_str().unwrap();
    let filter = format!("name eq 'Dynamics 365 App for Outlook User' and _businessunitid_value eq {bu}");
    let (status, body) = t.get_json(&format!("roles?$select=roleid&$filter={filter}")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["value"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn role_assignment_check_assign_duplicate_and_remove() {
    let t = sim(50).await;
    let id = first_mailbox(&t, "normal").await;
    let truth = t.truth(&id).await;
    let user = truth["user"]["systemuserid"].as_str().unwrap().to_string();
    let bu = truth["user"]["_businessunitid_value"].as_str().unwrap();
    let (_, roles) = t.get_json(&format!("roles?$select=roleid&$filter=name eq 'Dynamics 365 App for Outlook User' and _businessunitid_value eq {bu}")).await;
    let role = roles["value"][0]["roleid"].as_str().unwrap().to_string();
    let check =
        format!("systemusers({user})/systemuserroles_association?$select=roleid&$filter=roleid eq {role}");
    assert_eq!(t.get_json(&check).await.1["value"].as_array().unwrap().len(), 0);

    let assign = t.api(&format!("systemusers({user})/systemuserroles_association/$ref"));
    let body = json!({"@odata.id": t.api(&format!("roles({role})"))});
    let resp = t.http.post(&assign).bearer_auth(&t.token).json(&body).send().await.unwrap();
    assert_eq!(resp.status(), 204);
    assert_eq!(t.get_json(&check).await.1["value"].as_array().unwrap().len(), 1);
    assert_eq!(t.truth(&id).await["has_app_role"], true);

    let resp = t.http.post(&assign).bearer_auth(&t.token).json(&body).send().await.unwrap();
    assert_eq!(resp.status(), 412);
    let err: Value = resp.json().await.unwrap();
    assert_eq!(err["error"]["code"], "0x80040237");

    let remove = t.api(&format!("systemusers({user})/systemuserroles_association({role})/$ref"));
    assert_eq!(t.http.delete(&remove).bearer_auth(&t.token).send().await.unwrap().status(), 204);
    assert_eq!(t.truth(&id).await["has_app_role"], false);
}

#[tokio::test]
async fn patch_honours_if_match_and_return_representation() {
    let t = sim(20).await;
    let id = first_mailbox(&t, "normal").await;
    let (_, row) = t.get_json(&format!("mailboxes({id})?$select=name")).await;
    let etag = row["@odata.etag"].as_str().unwrap().to_string();
    let resp = t
        .http
        .patch(t.api(&format!("mailboxes({id})?$select=emailrouteraccessapproval")))
        .bearer_auth(&t.token)
        .header("If-Match", &etag)
        .header("Prefer", "return=representation")
        .json(&json!({"emailrouteraccessapproval": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["emailrouteraccessapproval"], 1);
    assert_ne!(body["@odata.etag"], etag.as_str());
    let stale = t
        .http
        .patch(t.api(&format!("mailboxes({id})")))
        .bearer_auth(&t.token)
        .header("If-Match", &etag)
        .json(&json!({"name": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 412);
    let star = t
        .http
        .patch(t.api(&format!("mailboxes({id})")))
        .bearer_auth(&t.token)
        .header("If-Match", "*")
        .json(&json!({"name": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(star.status(), 204);
    assert!(star.headers()["odata-entityid"].to_str().unwrap().ends_with(&format!("mailboxes({id})")));
}

#[tokio::test]
async fn org_email_processing_can_be_read_and_set() {
    let t = sim(5).await;
    let (_, who) = t.get_json("WhoAmI").await;
    let org = format!("organizations({})", who["OrganizationId"].as_str().unwrap());
    assert_eq!(t.patch(&org, json!({"emailconnectionchannel": 1})).await.status(), 204);
    assert_eq!(
        t.get_json(&format!("{org}?$select=emailconnectionchannel")).await.1["emailconnectionchannel"],
        1
    );
}

async fn error_of(resp: reqwest::Response) -> (u16, String, String) {
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.unwrap();
    (
        status,
        body["error"]["code"].as_str().unwrap().to_string(),
        body["error"]["message"].as_str().unwrap().to_string(),
    )
}

#[tokio::test]
async fn bad_input_gets_dataverse_answers() {
    let t = sim(10).await;
    let id = first_mailbox(&t, "normal").await;
    let (s, code, msg) = error_of(t.get("accounts").send().await.unwrap()).await;
    assert_eq!(
        (s, code.as_str(), msg.as_str()),
        (404, "0x8006088a", "Resource not found for the segment 'accounts'.")
    );
    let (s, code, msg) = error_of(t.get("mailboxes?$select=bogus").send().await.unwrap()).await;
    assert_eq!((s, code.as_str()), (400, "0x0"));
    assert_eq!(msg, "Could not find a property named 'bogus' on type 'Microsoft.Dynamics.CRM.mailbox'.");
    let (s, _, _) = error_of(t.get("mailboxes(not-a-guid)").send().await.unwrap()).await;
    assert_eq!(s, 400);
    let (s, code, _) =
        error_of(t.get(&format!("mailboxes?$filter=mailboxid eq '{id}'")).send().await.unwrap()).await;
    assert_eq!((s, code.as_str()), (400, "0x80060888"));
    let missing = uuid::Uuid::from_u128(1);
    let (s, code, msg) = error_of(t.get(&format!("mailboxes({missing})")).send().await.unwrap()).await;
    assert_eq!((s, code.as_str()), (404, "0x80040217"));
    assert!(msg.contains(&missing.to_string()));
    let resp = t
        .http
        .patch(t.api(&format!("mailboxes({id})")))
        .bearer_auth(&t.token)
        .header("Content-Type", "application/json")
        .body("{oops")
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(resp).await.1, "0x80048d19");
    let (s, code, _) = error_of(t.patch(&format!("mailboxes({id})"), json!({"nosuchcolumn": 1})).await).await;
    assert_eq!((s, code.as_str()), (400, "0x80048d19"));
    let (s, code, _) =
        error_of(t.http.post(t.api("WhoAmI")).bearer_auth(&t.token).send().await.unwrap()).await;
    assert_eq!((s, code.as_str()), (404, ""));
}
