//! `activator status [BATCH]`: one batch's progress as a table (state, mailboxes by state and
//! by step, rate, ETA, throttling), or without a batch id the batches, newest first.

use crate::args::ApiClientArgs;
use crate::text_table::{TextTable, duration};
use activator_core::{ItemState, Step};
use api_client::model::{BatchList, BatchView};
use api_client::{ApiClient, ApiClientError, decode};
use std::collections::BTreeSet;

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  activator status 0193d2c4-...   progress of one batch\n  \
activator status                the newest batches\n  activator status --json ID | jq .counts\n\n\
Exit status: 0 when the API answered, 2 when it could not be reached or answered an error.")]
pub struct Args {
    /// The batch to show (default: list the batches, newest first).
    #[arg(value_name = "BATCH")]
    batch: Option<String>,
    /// Print the API's JSON answer as it came.
    #[arg(long)]
    json: bool,
    /// With no BATCH: how many batches to list (1 to 200).
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u16).range(1..=200), value_name = "N")]
    limit: u16,
    /// With no BATCH: list the batches older than this one (the `next` id of the previous list).
    #[arg(long, value_name = "BATCH")]
    before: Option<String>,
    #[command(flatten)]
    api: ApiClientArgs,
}

pub async fn run(args: Args) -> i32 {
    let api = args.api.clone();
    super::with_client(&api, |client| status(client, args)).await
}

async fn status(client: ApiClient, args: Args) -> Result<i32, ApiClientError> {
    let (text, what) = match &args.batch {
        Some(id) => (client.get_text(&["v1", "batches", id], &[]).await?, "GET /v1/batches/{id}"),
        None => {
            let mut query = vec![("limit", args.limit.to_string())];
            query.extend(args.before.clone().map(|b| ("before", b)));
            (client.get_text(&["v1", "batches"], &query).await?, "GET /v1/batches")
        }
    };
    if args.json {
        println!("{}", text.trim_end());
        return Ok(0);
    }
    match &args.batch {
        Some(_) => print!("{}", render_batch(&decode::<BatchView>(what, &text)?)),
        None => print!("{}", render_list(&decode::<BatchList>(what, &text)?, args.limit)),
    }
    Ok(0)
}

/// States in the order an item goes through them, then any this client does not know.
fn state_order<'a>(names: impl Iterator<Item = &'a String>) -> Vec<String> {
    let seen: BTreeSet<&String> = names.collect();
    let mut out: Vec<String> =
        ItemState::ALL.iter().map(|s| s.name().to_string()).filter(|n| seen.contains(n)).collect();
    out.extend(seen.into_iter().filter(|n| n.parse::<ItemState>().is_err()).cloned());
    out
}

pub fn render_batch(v: &BatchView) -> String {
    let mut head = TextTable::new(&["batch", &v.id]);
    let mut field = |name: &str, value: String| head.row([name.to_string(), value]);
    field("state", v.state.clone());
    field("environment", v.environment.clone().unwrap_or_default());
    field("steps", v.steps.join(", "));
    if let Some(o) = v.options.as_ref().filter(|o| !o.is_null()) {
        field("options", o.to_string());
    }
    field("created", v.created_at.clone().unwrap_or_default());
    field("updated", v.updated_at.clone().unwrap_or_default());
    let share = if v.total == 0 { 100.0 } else { v.finished as f64 * 100.0 / v.total as f64 };
    field("finished", format!("{} of {} ({share:.1}%)", v.finished, v.total));
    field(
        "rate",
        match v.rate_per_sec {
            Some(r) => format!("{r:.2} mailboxes/s"),
            None => "none yet (no mailbox has finished)".into(),
        },
    );
    if let Some(eta) = v.eta_secs {
        field("ETA", duration(eta));
    }
    field("throttled", format!("{} mailboxes waiting out a 429 from Dataverse", v.throttled));
    field("not started", format!("{} mailboxes (they start as others finish)", v.not_started));
    let mut out = head.render();
    if let Some(r) = &v.paused_reason {
        out.push('\n');
        out.push_str(&super::watch::paused_lines(&v.id, r));
        out.push('\n');
    }

    let mut states = TextTable::new(&["state", ">mailboxes"]);
    let known: Vec<String> = ItemState::ALL.iter().map(|s| s.name().to_string()).collect();
    for name in state_order(known.iter().chain(v.counts.keys())) {
        states.row([name.clone(), v.counts.get(&name).copied().unwrap_or(0).to_string()]);
    }
    out.push('\n');
    out.push_str(&states.render());

    if !v.by_step.is_empty() {
        let columns = state_order(v.by_step.values().flat_map(|m| m.keys()));
        let mut header = vec!["step".to_string()];
        header.extend(columns.iter().map(|c| format!(">{c}")));
        let mut steps = TextTable::new(&header.iter().map(String::as_str).collect::<Vec<_>>());
        let mut names: Vec<&String> = v.by_step.keys().collect();
        names.sort_by_key(|n| (n.parse::<Step>().ok().map_or(usize::MAX, |s| s as usize), n.to_string()));
        for name in names {
            let m = &v.by_step[name];
            let cells = columns.iter().map(|c| m.get(c).copied().unwrap_or(0).to_string());
            steps.row(std::iter::once(name.clone()).chain(cells));
        }
        out.push('\n');
        out.push_str(&steps.render());
    }
    if v.failed() > 0 {
        out.push('\n');
        out.push_str(&super::failed_hint(v));
    }
    out
}

pub fn render_list(list: &BatchList, limit: u16) -> String {
    if list.batches.is_empty() {
        return "no batches\n".into();
    }
    let mut t =
        TextTable::new(&["batch", "state", ">finished", ">total", ">failed", "environment", "created"]);
    for b in &list.batches {
        t.row([
            b.id.clone(),
            b.state.clone(),
            b.finished.to_string(),
            b.total.to_string(),
            b.failed().to_string(),
            b.environment.clone().unwrap_or_default(),
            b.created_at.clone().unwrap_or_default(),
        ]);
    }
    let mut out = t.render();
    if let Some(next) = &list.next {
        out.push_str(&format!("older batches: activator status --limit {limit} --before {next}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view() -> BatchView {
        serde_json::from_value(serde_json::json!({
            "id": "b1", "environment": "default", "steps": ["approve", "deploy_app"], "state": "running",
            "total": 10, "created_at": "2026-11-28T13:05:00Z", "updated_at": "2026-11-28T13:06:00Z",
            "counts": {"pending": 3, "waiting": 2, "done": 4, "failed": 1},
            "by_step": {"deploy_app": {"done": 4}, "approve": {"pending": 3, "waiting": 2, "failed": 1}},
            "finished": 5, "rate_per_sec": 0.5, "eta_secs": 10.0, "throttled": 2
        }))
        .expect("a view")
    }

    #[test]
    fn a_batch_shows_its_state_counts_steps_rate_and_eta() {
        let text = render_batch(&view());
        let expected = "\
batch        b1
state        running
environment  default
steps        approve, deploy_app
created      2026-11-28T13:05:00Z
updated      2026-11-28T13:06:00Z
finished     5 of 10 (50.0%)
rate         0.50 mailboxes/s
ETA          10s
throttled    2 mailboxes waiting out a 429 from Dataverse
not started  0 mailboxes (they start as others finish)

state      mailboxes
pending            3
queued             0
running            0
waiting            2
verifying          0
done               4
failed             1
skipped            0
cancelled          0

step        pending  waiting  done  failed
approve           3        2     0       1
deploy_app        0        0     4       0

1 mailboxes failed: `activator failures b1` lists them, `activator retry b1` runs them again.
";
        assert_eq!(text, expected);
    }

    #[test]
    fn the_list_is_a_row_per_batch_and_says_how_to_see_older_ones() {
        let list = BatchList { batches: vec![view()], next: Some("b0".into()) };
        let text = render_list(&list, 1);
        assert_eq!(
            text,
            "batch  state    finished  total  failed  environment  created\n\
             b1     running         5     10       1  default      2026-11-28T13:05:00Z\n\
             older batches: activator status --limit 1 --before b0\n"
        );
        assert_eq!(render_list(&BatchList::default(), 50), "no batches\n");
    }
}
