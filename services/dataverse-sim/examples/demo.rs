//! `make demo`: a rollout of 2,000 mailboxes against a simulated org, awkward cases included.
//! Starts the simulator in this process, writes the mailbox list, runs `activator run` (the
//! binary beside this one) with its progress bars, then checks that every mailbox ended as its
//! seeded case says it should: exit 0 when the demo ran as designed (the awkward cases failing
//! with their remedies), 1 otherwise.

use anyhow::{Context, Result, bail};
use sim::{Profile, Range, SimConfig};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const MAILBOXES: usize = 2_000;
/// Dataverse's per-window budgets over a 60 s window instead of 300 s: five times the real
/// rate, so the demo takes about two minutes instead of ten.
const WINDOW_SECS: u64 = 60;

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
            eprintln!("the demo did not run as designed: {e:#}");
            1
        }
    });
}

/// `activator`, built beside this example (`target/<profile>/activator`).
fn activator_binary() -> Result<PathBuf> {
    let exe = std::env::current_exe().context("cannot find this program's path")?;
    let dir = exe.parent().and_then(Path::parent).context("this program is not in a target folder")?;
    let path = dir.join(format!("activator{}", std::env::consts::EXE_SUFFIX));
    if !path.is_file() {
        bail!("{} is missing: run the demo with `make demo`, which builds it first", path.display());
    }
    Ok(path)
}

async fn demo() -> Result<()> {
    let activator = activator_binary()?;
    let dir = PathBuf::from("target/demo-run");
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for old in ["state.db", "state.db-wal", "state.db-shm", "results.csv"] {
        let _ = std::fs::remove_file(dir.join(old));
    }
    let profile = Profile {
        window_secs: WINDOW_SECS,
        test_delay_ms: Range::new(2_000, 8_000),
        deploy_delay_ms: Range::new(1_000, 4_000),
        ..Profile::default()
    };
    let config = SimConfig { mailboxes: MAILBOXES, profile, ..SimConfig::default() };
    let running = sim::start(config, "127.0.0.1:0".parse()?).await.context("cannot start the simulator")?;
    let url = running.base_url.clone();
    let by_case = running.sim.mailboxes_by_case(None);

    // In id order: the awkward cases spread through the list, as in a real export.
    let mut case_of = BTreeMap::new();
    for (case, ids) in &by_case {
        for id in ids {
            case_of.insert(id.to_string(), case.to_string());
        }
    }
    let mut list = String::from("mailbox\n");
    for id in case_of.keys() {
        list.push_str(id);
        list.push('\n');
    }
    let csv = dir.join("mailboxes.csv");
    std::fs::write(&csv, list).with_context(|| format!("cannot write {}", csv.display()))?;
    let counts: Vec<String> = by_case.iter().map(|(c, ids)| format!("{c} {}", ids.len())).collect();
    println!(
        "simulated org at {url} (limits over a {WINDOW_SECS} s window); mailboxes by case: {}",
        counts.join(", ")
    );

    let client = sim::default_client();
    let command = || {
        let mut command = Command::new(&activator);
        command
            .env("ACTIVATOR_DATAVERSE_URL", &url)
            .env("ACTIVATOR_AUTHORITY", format!("{url}/demo-tenant"))
            .env("ACTIVATOR_CLIENT_ID", &client.id)
            .env("ACTIVATOR_CLIENT_SECRET", &client.secret)
            .env_remove("ACTIVATOR_STATE")
            .env_remove("ACTIVATOR_REDIS_URL");
        command
    };
    println!("planning (reads only): activator plan --csv {} --format summary", csv.display());
    let planned = command()
        .args(["plan", "--csv"])
        .arg(&csv)
        .args(["--format", "summary", "--window-secs", &WINDOW_SECS.to_string()])
        .status()
        .with_context(|| format!("cannot run {}", activator.display()))?;
    if !planned.success() {
        bail!("activator plan ended with {planned}");
    }

    let results = dir.join("results.csv");
    println!("\nrunning: activator run --csv {} --results {}\n", csv.display(), results.display());
    let status = command()
        .args(["run", "--csv"])
        .arg(&csv)
        .arg("--state")
        .arg(dir.join("state.db"))
        .arg("--results")
        .arg(&results)
        .args(["--window-secs", &WINDOW_SECS.to_string()])
        .status()
        .with_context(|| format!("cannot run {}", activator.display()))?;
    // 1: some mailboxes failed, as the awkward cases must.
    if !matches!(status.code(), Some(0 | 1)) {
        bail!("activator run ended with {status}");
    }
    check(&read_results(&results)?, &case_of)?;
    println!(
        "\nThe demo ran as designed: every mailbox that can be rolled out was, and each awkward case failed with its remedy (above)."
    );
    println!("Results CSV: {}", results.display());
    running.shutdown().await;
    Ok(())
}

/// Rows of the results CSV as maps from column name to value.
fn read_results(path: &Path) -> Result<Vec<BTreeMap<String, String>>> {
    let mut reader =
        csv::Reader::from_path(path).with_context(|| format!("cannot read {}", path.display()))?;
    let headers = reader.headers().context("the results CSV has no header")?.clone();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.with_context(|| format!("a row of {}", path.display()))?;
        rows.push(headers.iter().zip(record.iter()).map(|(h, v)| (h.to_string(), v.to_string())).collect());
    }
    Ok(rows)
}

fn check(rows: &[BTreeMap<String, String>], case_of: &BTreeMap<String, String>) -> Result<()> {
    let expected: BTreeMap<&str, &str> = EXPECTED_FAILURES.into_iter().collect();
    let field = |row: &BTreeMap<String, String>, name: &str| row.get(name).cloned().unwrap_or_default();
    let mut wrong = Vec::new();
    for row in rows {
        let mailbox = field(row, "mailbox");
        let case = case_of.get(&mailbox).map(String::as_str).unwrap_or("unknown");
        let want = match expected.get(case) {
            Some(code) => ("failed", *code),
            None => ("done", ""),
        };
        let got = (field(row, "state"), field(row, "error_code"));
        if (got.0.as_str(), got.1.as_str()) != want {
            wrong.push(format!("{mailbox} ({case}): {} {} (expected {} {})", got.0, got.1, want.0, want.1));
        }
    }
    if rows.len() != case_of.len() {
        wrong.push(format!("{} result rows for {} mailboxes", rows.len(), case_of.len()));
    }
    if !wrong.is_empty() {
        bail!("{} mailboxes did not end as expected:\n  {}", wrong.len(), wrong.join("\n  "));
    }
    Ok(())
}
