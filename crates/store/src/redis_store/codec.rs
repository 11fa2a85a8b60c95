//! How batches, items and counters are written in Redis, and read back.
//!
//! Items are JSON without `batch` and `index` (the key and the member say those). The
//! transition script decodes and re-encodes them with Redis's cjson, whose numbers keep 14
//! significant digits: times are therefore limited to ±[`MAX_TIME`] ms (until the year 5138).

use crate::error::StoreError;
use crate::model::{Batch, BatchId, Item, ItemError, Millis, Progress};
use activator_core::{BatchState, ItemState, Step};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The largest time (in ms, either sign) that survives a round trip through Lua's cjson.
pub(super) const MAX_TIME: Millis = 99_999_999_999_999;

pub(super) fn check_time(what: &str, t: Millis) -> Result<(), StoreError> {
    if t.abs() > MAX_TIME {
        return Err(StoreError::Invalid(format!(
            "{what} {t} is out of range: times are milliseconds since 1970 within ±{MAX_TIME}"
        )));
    }
    Ok(())
}

/// An item as written when its batch is created.
#[derive(Serialize)]
pub(super) struct NewItem<'a> {
    pub mailbox: &'a str,
    pub mailbox_id: Option<Uuid>,
    pub state: ItemState,
    pub step: Option<Step>,
    pub attempts: u32,
    pub due_at: Option<Millis>,
    pub error: Option<&'a ItemError>,
    pub updated_at: Millis,
    pub started: bool,
}

/// The fields a transition replaces; `mailbox_id` only when given.
#[derive(Serialize)]
pub(super) struct Patch<'a> {
    pub state: ItemState,
    pub step: Option<Step>,
    pub attempts: u32,
    pub due_at: Option<Millis>,
    pub error: Option<&'a ItemError>,
    pub updated_at: Millis,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mailbox_id: Option<Uuid>,
}

#[derive(Deserialize)]
struct StoredItem {
    mailbox: String,
    mailbox_id: Option<Uuid>,
    state: ItemState,
    step: Option<Step>,
    attempts: u32,
    due_at: Option<Millis>,
    error: Option<ItemError>,
    updated_at: Millis,
    /// Absent in items written before items had it: those count as started.
    #[serde(default = "started_by_default")]
    started: bool,
}

fn started_by_default() -> bool {
    true
}

pub(super) fn decode_item(batch: BatchId, index: u32, json: &str) -> Result<Item, StoreError> {
    let s: StoredItem = serde_json::from_str(json)?;
    Ok(Item {
        batch,
        index,
        mailbox: s.mailbox,
        mailbox_id: s.mailbox_id,
        state: s.state,
        step: s.step,
        attempts: s.attempts,
        due_at: s.due_at,
        error: s.error,
        updated_at: s.updated_at,
        started: s.started,
    })
}

/// The fields of a batch that never change, as the `batch` field of its meta hash.
#[derive(Serialize, Deserialize)]
pub(super) struct FixedBatch {
    pub id: BatchId,
    pub idempotency_key: Option<String>,
    pub environment: String,
    pub steps: Vec<Step>,
    pub options: serde_json::Value,
    pub total: u64,
    pub created_at: Millis,
}

/// The meta hash fields read to make a [`Batch`], in this order.
pub(super) const META_FIELDS: [&str; 5] = ["batch", "state", "updated_at", "paused_reason", "canary_done"];

/// A batch from the values of [`META_FIELDS`]; `None` when the batch does not exist.
pub(super) fn decode_batch(values: &[Option<String>]) -> Result<Option<Batch>, StoreError> {
    let [Some(fixed), Some(state), Some(updated_at), paused_reason, canary_done] = values else {
        return Ok(None);
    };
    let f: FixedBatch = serde_json::from_str(fixed)?;
    let state: BatchState = state.parse().map_err(corrupt)?;
    let updated_at: Millis = updated_at.parse().map_err(|e| corrupt(format!("updated_at: {e}")))?;
    Ok(Some(Batch {
        id: f.id,
        idempotency_key: f.idempotency_key,
        environment: f.environment,
        steps: f.steps,
        options: f.options,
        state,
        total: f.total,
        created_at: f.created_at,
        updated_at,
        paused_reason: paused_reason.as_deref().map(serde_json::from_str).transpose()?,
        canary_done: canary_done.as_deref() == Some("1"),
    }))
}

/// The counter field of items in `state` (and at `step`, when given).
pub(super) fn count_field(step: Option<Step>, state: ItemState) -> String {
    match step {
        Some(step) => format!("{}|{}", step.name(), state.name()),
        None => state.name().to_string(),
    }
}

/// Progress from the counts hash; zero counts are left out.
pub(super) fn decode_progress(fields: Vec<(String, i64)>) -> Result<Progress, StoreError> {
    let mut p = Progress::default();
    for (field, n) in fields {
        let n = u64::try_from(n).map_err(|_| corrupt(format!("counter {field} is negative ({n})")))?;
        if field == "total" {
            p.total = n;
        } else if field == "not_started" {
            p.not_started = n;
        } else if n == 0 {
            continue;
        } else if let Some((step, state)) = field.split_once('|') {
            let step: Step = step.parse().map_err(corrupt)?;
            let state: ItemState = state.parse().map_err(corrupt)?;
            p.by_step.entry(step).or_default().insert(state, n);
        } else {
            p.by_state.insert(field.parse().map_err(corrupt)?, n);
        }
    }
    Ok(p)
}

pub(super) fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("stored data could not be read: {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_skips_zero_counts() {
        let p = decode_progress(vec![
            ("total".into(), 3),
            ("pending".into(), 2),
            ("queued".into(), 0),
            ("done".into(), 1),
            ("approve|pending".into(), 2),
            ("approve|queued".into(), 0),
        ])
        .expect("valid counters");
        assert_eq!(p.total, 3);
        assert_eq!(p.by_state.len(), 2);
        assert_eq!(p.by_step[&Step::Approve].len(), 1);
        assert!(decode_progress(vec![("nonsense".into(), 1)]).is_err());
        assert!(decode_progress(vec![("pending".into(), -1)]).is_err());
    }

    #[test]
    fn times_beyond_cjson_precision_are_refused() {
        assert!(check_time("now", 1_800_000_000_000).is_ok());
        assert!(check_time("now", -MAX_TIME).is_ok());
        assert!(matches!(check_time("now", MAX_TIME + 1), Err(StoreError::Invalid(_))));
    }
}
