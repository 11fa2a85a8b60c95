//! The `dataverse-sim` binary as a user runs it: flags, the ready line, a token and a request.

use serde_json::Value;
use std::process::Command;

#[tokio::test]
async fn binary_prints_its_url_and_serves_the_configured_client_and_limits() {
    let (_child, url) = e2e::start_simulator(&[
        "--mailboxes",
        "30",
        "--seed",
        "5",
        "--client",
        "app-1:pw-1",
        "--max-requests",
        "2",
        "--window-secs",
        "60",
        "--test-delay-ms",
        "10..20",
        "--case",
        "other_org=0.1",
        "--cost",
        "update=1",
    ]);
    let http = reqwest::Client::new();
    let token = &token(&http, &url, "app-1", "pw-1").await;
    let who = format!("{url}/api/data/v9.2/WhoAmI");
    for expected in [200, 200, 429] {
        assert_eq!(http.get(&who).bearer_auth(token).send().await.unwrap().status(), expected);
    }
    let cases: Value =
        http.get(format!("{url}/_sim/mailboxes?case=other_org")).send().await.unwrap().json().await.unwrap();
    assert_eq!(cases["other_org"].as_array().unwrap().len(), 3);
}

#[test]
fn bad_flags_fail_with_a_message_naming_the_fix() {
    let out = Command::new(e2e::binary("dataverse-sim")).args(["--case", "bogus=0.1"]).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown case 'bogus'") && err.contains("other_org"), "{err}");
    let out = Command::new(e2e::binary("dataverse-sim")).args(["--test-delay-ms", "9..1"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("MIN above MAX"));
}

#[test]
fn profile_file_is_read_and_its_mistakes_reported() {
    let dir = std::env::temp_dir().join(format!("sim-profile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, "max_requets = 5\n").unwrap();
    let out = Command::new(e2e::binary("dataverse-sim"))
        .args(["--profile", bad.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("max_requets"));
    let good = dir.join("good.toml");
    std::fs::write(&good, "max_requests = 1\nwindow_secs = 60\n").unwrap();
    let (_child, url) = e2e::start_simulator(&["--profile", good.to_str().unwrap(), "--mailboxes", "3"]);
    let stats = get_json_blocking(&format!("{url}/_sim/stats"));
    assert_eq!(stats["limits"]["max_requests"], 1);
}

/// An access token of the application user `id`.
async fn token(http: &reqwest::Client, url: &str, id: &str, secret: &str) -> String {
    let answer: Value = http
        .post(format!("{url}/tenant/oauth2/v2.0/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret),
            ("scope", "https://o.crm.dynamics.com/.default"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["access_token"].as_str().unwrap().to_string()
}

/// A GET from a synchronous test, on a throwaway runtime.
fn get_json_blocking(url: &str) -> Value {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async { reqwest::get(url).await.unwrap().json().await.unwrap() })
}

/// Started with `--public-url`, the simulator says where it listens and under which address,
/// writes the public one into `@odata.nextLink`, and stops on SIGTERM as a container would be.
#[tokio::test]
async fn a_public_url_goes_into_next_links_and_sigterm_stops_it() {
    let mut cmd = Command::new(e2e::binary("dataverse-sim"));
    cmd.args(["--listen", "127.0.0.1:0", "--mailboxes", "3", "--public-url", "http://simulator:8090/"]);
    let (mut child, said) = e2e::spawn_announcing(cmd, "dataverse-sim listening on ");
    let (url, public) = said.split_once(" as ").unwrap_or_else(|| panic!("no public URL in {said:?}"));
    assert_eq!(public, "http://simulator:8090");
    let http = reqwest::Client::new();
    let token = token(&http, url, "51f81489-12ee-4a9e-aaae-a2591f45987d", "sim-secret").await;
    let page: Value = http
        .get(format!("{url}/api/data/v9.2/mailboxes?$select=mailboxid"))
        .bearer_auth(token)
        .header("Prefer", "odata.maxpagesize=1")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let next = page["@odata.nextLink"].as_str().unwrap_or_else(|| panic!("no next link in {page}"));
    assert!(next.starts_with("http://simulator:8090/api/data/v9.2/mailboxes"), "{next}");

    let pid = child.0.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let status =
        e2e::wait_for("dataverse-sim to stop on SIGTERM", std::time::Duration::from_secs(10), || {
            std::future::ready(child.0.try_wait().unwrap())
        })
        .await;
    assert!(status.success(), "{status}");
}

#[test]
fn a_public_url_must_be_http_with_a_host() {
    for bad in ["simulator:8090", "http://", "ftp://simulator"] {
        let out = Command::new(e2e::binary("dataverse-sim")).args(["--public-url", bad]).output().unwrap();
        assert!(!out.status.success(), "{bad} accepted");
        assert!(String::from_utf8_lossy(&out.stderr).contains("e.g. http://simulator:8090"), "{bad}");
    }
}
