//! `make demo`: a rollout of 2,000 mailboxes against a local `dataverse-sim`, awkward cases
//! included. Starts the simulator, writes the mailbox list, runs `activator run` with its
//! progress bars, then checks every mailbox ended as its seeded case says it should: exit 0
//! when the demo ran as designed (the awkward cases failing with their remedies), 1 otherwise.

use e2e::{activator, mailboxes_by_case, read_results, start_simulator};
use std::collections::BTreeMap;
use std::path::PathBuf;

const MAILBOXES: &str = "2000";
/// A 60 s window with Dataverse's per-window budgets: five times the real rate, so the demo
/// takes about a minute instead of five.
const WINDOW: &str = "60";

/// Seeded cases that cannot succeed, and the error code each must end with.
const EXPECTED_FAILURES: [(&str, &str); 7] = [
    ("approval_needs_admin", "0x80040220"),
    ("approval_rejected", "approval_rejected"),
    ("inactive_mailbox", "mailbox_inactive"),
    ("other_org", "other_organization"),
    ("user_disabled", "test_failed"),
    ("deleted_mid_run", "mailbox_not_found"),
    ("no_role_in_business_unit", "role_missing_in_business_unit"),
];

#[tokio::main]
async fn main() {
    std::process::exit(match demo().await {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("demo did not run as designed: {e}");
            1
        }
    });
}

async fn demo() -> Result<(), String> {
    let dir = PathBuf::from("target/demo");
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    for old in ["state.db", "state.db-wal", "state.db-shm", "results.csv"] {
        let _ = std::fs::remove_file(dir.join(old));
    }
    println!("starting dataverse-sim with {MAILBOXES} mailboxes (limits window {WINDOW} s)…");
    let (_sim, url) = start_simulator(&[
        "--mailboxes",
        MAILBOXES,
        "--window-secs",
        WINDOW,
        "--test-delay-ms",
        "2000..8000",
        "--deploy-delay-ms",
        "1000..4000",
    ]);
    let by_case = mailboxes_by_case(&url).await;
    let mut list = String::from("mailbox\n");
    let mut case_of = BTreeMap::new();
    for (case, ids) in &by_case {
        for id in ids {
            list.push_str(id);
            list.push('\n');
            case_of.insert(id.clone(), case.clone());
        }
    }
    let csv = dir.join("mailboxes.csv");
    std::fs::write(&csv, list).map_err(|e| format!("cannot write {}: {e}", csv.display()))?;
    let counts: Vec<String> = by_case.iter().map(|(c, ids)| format!("{c} {}", ids.len())).collect();
    println!("simulator at {url}; mailboxes by case: {}", counts.join(", "));
    let results = dir.join("results.csv");
    println!("running: activator run --csv {} --results {}\n", csv.display(), results.display());
    let status = activator(&url)
        .args(["run", "--csv"])
        .arg(&csv)
        .arg("--state")
        .arg(dir.join("state.db"))
        .arg("--results")
        .arg(&results)
        .args(["--window-secs", WINDOW])
        .status()
        .map_err(|e| format!("cannot run activator: {e}"))?;
    if status.code() != Some(1) && status.code() != Some(0) {
        return Err(format!("activator run ended with {status}"));
    }
    check(&read_results(&results), &case_of)?;
    println!(
        "\nThe demo ran as designed: every mailbox that can be rolled out was, and each awkward case failed with its remedy (above)."
    );
    println!("Results CSV: {}", results.display());
    Ok(())
}

fn check(rows: &[BTreeMap<String, String>], case_of: &BTreeMap<String, String>) -> Result<(), String> {
    let expected: BTreeMap<&str, &str> = EXPECTED_FAILURES.into_iter().collect();
    let mut wrong = Vec::new();
    for row in rows {
        let case = case_of.get(&row["mailbox"]).map(String::as_str).unwrap_or("unknown");
        let want = match expected.get(case) {
            Some(code) => ("failed", *code),
            None => ("done", ""),
        };
        if (row["state"].as_str(), row["error_code"].as_str()) != want {
            wrong.push(format!(
                "{} ({case}): {} {} (expected {} {})",
                row["mailbox"], row["state"], row["error_code"], want.0, want.1
            ));
        }
    }
    if rows.len() != case_of.len() {
        wrong.push(format!("{} result rows for {} mailboxes", rows.len(), case_of.len()));
    }
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(format!("{} mailboxes did not end as expected:\n  {}", wrong.len(), wrong.join("\n  ")))
    }
}
