//! `activator doctor` against a simulator process: passes on a ready org, fails naming the fix
//! when the org uses the Email Router.

use std::process::{Command, Output};

fn simulator(extra: &[&str]) -> (e2e::Running, String) {
    let mut args = vec!["--mailboxes", "200"];
    args.extend_from_slice(extra);
    e2e::start_simulator(&args)
}

fn doctor(url: &str, secret: &str) -> Output {
    let c = ("51f81489-12ee-4a9e-aaae-a2591f45987d", secret);
    Command::new(e2e::binary("activator"))
        .arg("doctor")
        .env("ACTIVATOR_DATAVERSE_URL", url)
        .env("ACTIVATOR_AUTHORITY", format!("{url}/contoso.onmicrosoft.com"))
        .env("ACTIVATOR_CLIENT_ID", c.0)
        .env("ACTIVATOR_CLIENT_SECRET", c.1)
        .output()
        .unwrap()
}

#[test]
fn doctor_passes_against_a_ready_simulator() {
    let (_sim, url) = simulator(&[]);
    let out = doctor(&url, "sim-secret");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("ok   email processing: server-side synchronization"), "{text}");
    assert!(text.contains("recommended parallelism: 16"), "{text}");
    assert!(text.trim_end().ends_with("ready"), "{text}");
}

#[test]
fn doctor_fails_naming_the_fix_when_the_org_uses_the_email_router() {
    let (_sim, url) = simulator(&["--email-router"]);
    let out = doctor(&url, "sim-secret");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let line = text.lines().find(|l| l.starts_with("FAIL email processing")).unwrap();
    assert!(line.contains("Server-Side Synchronization"), "{line}");
}

#[test]
fn doctor_reports_a_bad_secret_as_a_failed_token() {
    let (_sim, url) = simulator(&[]);
    let out = doctor(&url, "wrong");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.lines().any(|l| l.starts_with("FAIL token for application user")), "{text}");
    assert!(!text.contains("wrong"), "the secret must not be printed");
}

#[test]
fn doctor_without_configuration_says_what_to_set() {
    let out = Command::new(e2e::binary("activator"))
        .arg("doctor")
        .env_remove("ACTIVATOR_DATAVERSE_URL")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("ACTIVATOR_DATAVERSE_URL"));
}
