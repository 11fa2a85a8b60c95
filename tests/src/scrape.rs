//! Reading a process's `/metrics` in tests: one scrape checked for the exposition format and
//! promtool's rules, sums over label sets, and the mailbox ends the step counters report.

use activator_core::Step;
use metrics::exposition::{self, Exposition};
use std::io::Write;
use std::process::{Command, Stdio};

pub async fn get(url: &str) -> reqwest::Response {
    reqwest::get(url).await.unwrap_or_else(|e| panic!("GET {url}: {e}"))
}

/// One scrape of `/metrics`, checked for the format and naming rules.
pub async fn scrape(base: &str) -> (String, Exposition) {
    let answer = get(&format!("{base}/metrics")).await;
    assert_eq!(answer.status(), 200);
    let content_type = answer.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
    assert!(content_type.starts_with("text/plain; version=0.0.4"), "{content_type}");
    let text = answer.text().await.unwrap_or_else(|e| panic!("/metrics body: {e}"));
    let exp =
        exposition::check(&text).unwrap_or_else(|p| panic!("/metrics breaks the format: {p:#?}\n{text}"));
    (text, exp)
}

/// Runs `promtool check metrics` on `text` when promtool is on PATH; without it, fails when
/// ACTIVATOR_REQUIRE_PROMTOOL=1 and says the check was skipped otherwise.
pub fn promtool_check(text: &str) {
    let spawned = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let required = std::env::var("ACTIVATOR_REQUIRE_PROMTOOL").is_ok_and(|v| v == "1");
            assert!(!required, "ACTIVATOR_REQUIRE_PROMTOOL=1 but promtool is not on PATH");
            eprintln!("promtool is not on PATH: `promtool check metrics` was NOT run on /metrics");
            return;
        }
        Err(e) => panic!("cannot run promtool: {e}"),
    };
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(text.as_bytes()).unwrap_or_else(|e| panic!("promtool stdin: {e}"));
    }
    let out = child.wait_with_output().unwrap_or_else(|e| panic!("promtool: {e}"));
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && said.trim().is_empty(), "promtool check metrics: {said}\n{text}");
    eprintln!("promtool check metrics: no problems");
}

pub fn sum(exp: &Exposition, family: &str, labels: &[(&str, &str)]) -> f64 {
    exp.family(family).map_or(0.0, |f| f.sum(labels))
}

/// Mailboxes whose steps the counters say ended: the number that failed (at any step), and the
/// number that got past the last step.
pub fn counted_ends(exp: &Exposition) -> (f64, f64) {
    let steps = "activator_mailbox_steps_total";
    let failed = sum(exp, steps, &[("outcome", "failed")]) + sum(exp, steps, &[("outcome", "timed_out")]);
    let last = Step::DeployApp.name();
    let past_last: f64 = ["done", "verified", "already_done"]
        .iter()
        .map(|outcome| sum(exp, steps, &[("step", last), ("outcome", outcome)]))
        .sum();
    (failed, past_last)
}
