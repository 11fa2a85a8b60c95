//! A rollout plan as `activator plan` and `activator submit --plan` print it: a readable
//! summary on a terminal (prerequisites, outcomes, reasons with their remedies, business
//! units, the estimate, and the mailboxes that will fail), JSON, or CSV with a row a mailbox.

use crate::text_table::{TextTable, duration};
use activator_core::{PlannedOutcome, RolloutPlan};
use std::fmt::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PlanFormat {
    /// A summary, and the mailboxes that will fail.
    Table,
    /// The whole plan: `mailboxes`, `totals`, `estimate`, `prerequisites`.
    Json,
    /// A row per mailbox: mailbox, mailbox_id, outcome, business_unit, one column per step,
    /// reason, remedy, detail.
    Csv,
    /// One line: the outcomes, the requests, execution time and duration.
    Summary,
}

/// Mailboxes that will fail listed in the table; the CSV has them all.
const SHOWN_FAILURES: usize = 25;

pub fn render(plan: &RolloutPlan, format: PlanFormat) -> String {
    match format {
        PlanFormat::Json => serde_json::to_string_pretty(plan).unwrap_or_default() + "\n",
        PlanFormat::Csv => csv(plan),
        PlanFormat::Table => table(plan),
        PlanFormat::Summary => plan_line(plan) + "\n",
    }
}

/// One line: what the rollout would do and take.
pub fn plan_line(plan: &RolloutPlan) -> String {
    let n = |o: PlannedOutcome| plan.totals.by_outcome.get(o.name()).copied().unwrap_or(0);
    format!(
        "plan: {} mailboxes: {} will activate, {} already done, {} will fail; about {} requests and {:.0} s of \
         execution, {} with {} application user(s)",
        plan.totals.mailboxes,
        n(PlannedOutcome::WillActivate),
        n(PlannedOutcome::AlreadyDone),
        n(PlannedOutcome::WillFail),
        plan.estimate.requests,
        plan.estimate.execution_secs,
        duration(plan.estimate.duration_secs),
        plan.estimate.application_users
    )
}

fn table(plan: &RolloutPlan) -> String {
    let mut out = String::new();
    let p = &plan.prerequisites;
    let _ = writeln!(out, "environment {}: steps {}", plan.environment, step_names(plan).join(", "));
    if let Some(found) = &plan.selection {
        let _ = writeln!(out, "selection ({}): {}", found.description, found_line(found));
    }
    let sync = match &p.email_processing {
        None => "yes".to_string(),
        Some(other) => format!("NO ({other})"),
    };
    let _ = writeln!(out, "server-side synchronization: {sync}");
    let _ = writeln!(
        out,
        "email approval required: users {}, queues {}",
        yes_no(p.approval_required_for_users),
        yes_no(p.approval_required_for_queues)
    );
    let _ = writeln!(out, "approvals written by {} (allowed: {})", p.approver, p.approver_allowed);
    for note in &p.notes {
        let _ = writeln!(out, "  note: {note}");
    }
    out.push('\n');
    let mut outcomes = TextTable::new(&["outcome", ">mailboxes"]);
    for o in PlannedOutcome::ALL {
        outcomes.row([
            o.name().to_string(),
            plan.totals.by_outcome.get(o.name()).copied().unwrap_or(0).to_string(),
        ]);
    }
    out.push_str(&outcomes.render());
    if !plan.totals.by_reason.is_empty() {
        let mut reasons = TextTable::new(&["will fail with", ">mailboxes", "remedy"]);
        for (code, n) in &plan.totals.by_reason {
            let remedy = plan
                .mailboxes
                .iter()
                .find(|m| m.reason.as_ref() == Some(code))
                .and_then(|m| m.remedy.clone());
            reasons.row([code.clone(), n.to_string(), remedy.unwrap_or_default()]);
        }
        out.push('\n');
        out.push_str(&reasons.render());
    }
    let mut units = TextTable::new(&["business unit", ">will activate", ">already done", ">will fail"]);
    for (unit, by) in &plan.totals.by_business_unit {
        let n = |o: PlannedOutcome| by.get(o.name()).copied().unwrap_or(0).to_string();
        units.row([
            unit.clone(),
            n(PlannedOutcome::WillActivate),
            n(PlannedOutcome::AlreadyDone),
            n(PlannedOutcome::WillFail),
        ]);
    }
    out.push('\n');
    out.push_str(&units.render());
    let e = &plan.estimate;
    out.push('\n');
    let _ = writeln!(out, "estimate: {} requests, {:.0} s of execution time", e.requests, e.execution_secs);
    let by_users: Vec<String> =
        e.duration_secs_by_users.iter().map(|(n, s)| format!("{n} user(s) {}", duration(*s))).collect();
    let _ = writeln!(
        out,
        "duration: {} with {} application user(s) ({}); the limits allow {}",
        duration(e.duration_secs),
        e.application_users,
        by_users.join(", "),
        duration(e.limits_allow_secs)
    );
    let _ = writeln!(out, "  ({})", e.basis);
    let failing: Vec<_> = plan.mailboxes.iter().filter(|m| m.outcome == PlannedOutcome::WillFail).collect();
    if !failing.is_empty() {
        let mut t = TextTable::new(&["mailbox", "reason", "detail"]);
        for m in failing.iter().take(SHOWN_FAILURES) {
            t.row([
                m.mailbox.clone(),
                m.reason.clone().unwrap_or_default(),
                m.detail.clone().unwrap_or_default(),
            ]);
        }
        out.push('\n');
        out.push_str(&t.render());
        if failing.len() > SHOWN_FAILURES {
            let _ = writeln!(
                out,
                "... and {} more (--format csv lists every mailbox)",
                failing.len() - SHOWN_FAILURES
            );
        }
    }
    out.push('\n');
    out.push_str(&plan_line(plan));
    out.push('\n');
    out
}

fn csv(plan: &RolloutPlan) -> String {
    let steps = step_names(plan);
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["mailbox", "mailbox_id", "outcome", "business_unit"];
    header.extend(steps.iter().map(String::as_str));
    header.extend(["reason", "remedy", "detail"]);
    let _ = w.write_record(&header);
    for m in &plan.mailboxes {
        let mut row = vec![
            m.mailbox.clone(),
            m.mailbox_id.clone().unwrap_or_default(),
            m.outcome.name().to_string(),
            m.business_unit.clone().unwrap_or_default(),
        ];
        for step in &steps {
            let need = m.steps.get(step).map(|n| serde_json::to_value(n).ok());
            row.push(need.flatten().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default());
        }
        row.extend([
            m.reason.clone().unwrap_or_default(),
            m.remedy.clone().unwrap_or_default(),
            m.detail.clone().unwrap_or_default(),
        ]);
        let _ = w.write_record(&row);
    }
    w.into_inner().map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default()
}

fn step_names(plan: &RolloutPlan) -> Vec<String> {
    plan.steps.iter().map(|s| s.name().to_string()).collect()
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

/// `120 mailboxes (3 left out)`.
pub fn found_line(found: &activator_core::SelectionFound) -> String {
    let left_out = if found.excluded > 0 { format!(" ({} left out)", found.excluded) } else { String::new() };
    format!("{} mailboxes{left_out}", found.mailboxes)
}
