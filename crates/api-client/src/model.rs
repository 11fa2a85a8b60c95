//! The JSON the API answers (api-contract v1), read tolerantly: unknown fields are ignored,
//! and states and steps are kept as the API names them, so a newer server with a state this
//! client does not know still works; they are turned into the domain types only for display.

use activator_core::{ItemState, Progress, Step};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// Progress of one batch.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct BatchView {
    pub id: String,
    pub environment: Option<String>,
    pub steps: Vec<String>,
    pub options: Option<Value>,
    pub state: String,
    pub total: u64,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
    /// Mailboxes by state.
    pub counts: BTreeMap<String, u64>,
    /// Mailboxes by the step they are at, then by state; only non-zero entries.
    pub by_step: BTreeMap<String, BTreeMap<String, u64>>,
    /// done + failed + skipped + cancelled.
    pub finished: u64,
    /// Finished mailboxes per second since the batch was created; none before the first.
    pub rate_per_sec: Option<f64>,
    pub eta_secs: Option<f64>,
    /// Mailboxes now waiting out a 429 from Dataverse.
    pub throttled: u64,
    /// Pending mailboxes not started yet.
    pub not_started: u64,
    /// Why the batch paused itself, when it did.
    pub paused_reason: Option<PausedReason>,
}

/// Why a batch paused itself (canary, breaker, prerequisite), and what to do.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct PausedReason {
    pub by: String,
    pub code: String,
    pub step: Option<String>,
    pub message: String,
    pub remedy: String,
    pub failed: u64,
    pub of: u64,
}

impl BatchView {
    pub fn count(&self, state: ItemState) -> u64 {
        self.counts.get(state.name()).copied().unwrap_or(0)
    }

    pub fn failed(&self) -> u64 {
        self.count(ItemState::Failed)
    }

    /// The requested steps this client knows, in rollout order.
    pub fn known_steps(&self) -> Vec<Step> {
        let mut steps: Vec<Step> = self.steps.iter().filter_map(|s| s.parse().ok()).collect();
        steps.sort();
        steps.dedup();
        steps
    }

    /// The counts as `activator run` keeps them, for the same bars and summary line.
    pub fn progress(&self) -> Progress {
        let states = |m: &BTreeMap<String, u64>| -> BTreeMap<ItemState, u64> {
            m.iter().filter_map(|(k, n)| Some((k.parse::<ItemState>().ok()?, *n))).collect()
        };
        Progress {
            total: self.total,
            by_state: states(&self.counts),
            by_step: self
                .by_step
                .iter()
                .filter_map(|(k, m)| Some((k.parse::<Step>().ok()?, states(m))))
                .collect(),
            not_started: self.not_started,
        }
    }
}

/// The answer to `POST /v1/batches`.
#[derive(Debug, Clone, Deserialize)]
pub struct Submitted {
    pub batch: BatchView,
    /// False when the idempotency key had already created this batch.
    #[serde(default = "yes")]
    pub created: bool,
    #[serde(default)]
    pub duplicates: Vec<Duplicate>,
    /// What the selection found, when the batch was made from one.
    #[serde(default)]
    pub selection: Option<activator_core::SelectionFound>,
}

fn yes() -> bool {
    true
}

/// A mailbox listed more than once; it is kept once.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Duplicate {
    /// 0-based position in the JSON array.
    pub index: Option<u64>,
    /// 1-based line of the CSV.
    pub row: Option<u64>,
    pub value: Option<Value>,
    /// Where it was first listed, counted like `index` or `row`.
    pub first: Option<u64>,
}

/// `GET /v1/batches`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct BatchList {
    pub batches: Vec<BatchView>,
    pub next: Option<String>,
}

/// One page of `GET /v1/batches/{id}/mailboxes`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct MailboxPage {
    pub mailboxes: Vec<MailboxView>,
    #[serde(deserialize_with = "string_or_number")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct MailboxView {
    pub index: u64,
    pub mailbox: String,
    pub mailbox_id: Option<String>,
    pub state: String,
    pub step: Option<String>,
    pub attempts: u64,
    pub error: Option<MailboxError>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct MailboxError {
    pub code: String,
    pub message: String,
    pub remedy: Option<String>,
}

/// The answer to a control request (pause, resume, cancel, retry).
#[derive(Debug, Clone, Deserialize)]
pub struct Controlled {
    pub batch: BatchView,
    #[serde(default)]
    pub retried: Option<u64>,
}

/// The body of every error answer.
#[derive(Debug, Clone, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
    pub problems: Vec<Problem>,
}

/// One thing wrong with a request.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Problem {
    pub field: Option<String>,
    /// 0-based position in a JSON array.
    pub index: Option<u64>,
    /// 1-based line of a CSV.
    pub row: Option<u64>,
    pub value: Option<Value>,
    pub reason: String,
}

/// A cursor the contract gives as a string; a number is taken too.
fn string_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(other) => Some(other.to_string()),
    })
}

/// A value as the API gave it, for people: a string in double quotes, anything else as JSON.
pub fn show_value(v: &Value) -> String {
    match v {
        Value::String(s) => format!("\"{s}\""),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_view_with_unknown_fields_states_and_steps_is_read_and_converted() {
        let view: BatchView = serde_json::from_value(serde_json::json!({
            "id": "b1", "state": "running", "total": 5, "new_field": [1],
            "steps": ["deploy_app", "approve", "teleport"],
            "counts": {"done": 2, "failed": 1, "pending": 2, "levitating": 7},
            "by_step": {"approve": {"pending": 2}, "teleport": {"running": 1}},
            "finished": 3, "rate_per_sec": null, "eta_secs": 12.5, "throttled": 1
        }))
        .expect("reads");
        assert_eq!(view.known_steps(), vec![Step::Approve, Step::DeployApp]);
        let p = view.progress();
        assert_eq!((p.total, p.count(ItemState::Done), p.finished()), (5, 2, 3));
        assert_eq!(p.by_step.len(), 1);
        assert_eq!(view.failed(), 1);
    }

    #[test]
    fn a_cursor_may_be_a_string_a_number_or_null() {
        let page = |v: Value| serde_json::from_value::<MailboxPage>(v).expect("reads").next_cursor;
        assert_eq!(page(serde_json::json!({"mailboxes": [], "next_cursor": "12"})), Some("12".into()));
        assert_eq!(page(serde_json::json!({"mailboxes": [], "next_cursor": 12})), Some("12".into()));
        assert_eq!(page(serde_json::json!({"mailboxes": [], "next_cursor": null})), None);
        assert_eq!(page(serde_json::json!({"mailboxes": []})), None);
    }
}
