//! Turning model values into column values and rows back into the model.

use crate::error::StoreError;
use crate::model::{Batch, Item, ItemError};
use activator_core::{BatchState, ItemState, Step};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;
use std::str::FromStr;
use uuid::Uuid;

/// The columns of `batches` that [`batch_from_row`] reads, as a literal for `concat!`.
macro_rules! batch_columns {
    () => {
        "id, idempotency_key, environment, steps, options, state, total, created_at, updated_at, paused_reason, \
         canary_done"
    };
}
pub(super) use batch_columns;

/// The columns of `items` that [`item_from_row`] reads, as a literal for `concat!`.
macro_rules! item_columns {
    () => {
        "batch, idx, mailbox, mailbox_id, state, step, attempts, due_at, error, updated_at, started"
    };
}
pub(super) use item_columns;

/// The value of an id column.
pub(super) fn id(id: Uuid) -> Vec<u8> {
    id.as_bytes().to_vec()
}

/// The value of a `step` column of `items` (NULL for none).
pub(super) fn step(step: Option<Step>) -> Option<&'static str> {
    step.map(Step::name)
}

/// The value of the `step` column of `counts` ('' for none).
pub(super) fn count_step(step: Option<Step>) -> &'static str {
    step.map_or("", Step::name)
}

/// The value of an `error` column.
pub(super) fn error(error: Option<&ItemError>) -> Result<Option<String>, StoreError> {
    error.map(serde_json::to_string).transpose().map_err(StoreError::from)
}

/// A value read back that does not parse: the file was changed by something else.
pub(super) fn corrupt(what: &str, detail: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("stored {what} could not be read: {detail}"))
}

pub(super) fn parse_id(bytes: &[u8]) -> Result<Uuid, StoreError> {
    Uuid::from_slice(bytes).map_err(|e| corrupt("id", e))
}

pub(super) fn parse<T: FromStr<Err = String>>(what: &str, s: &str) -> Result<T, StoreError> {
    s.parse().map_err(|e: String| corrupt(what, e))
}

pub(super) fn parse_step(s: Option<&str>) -> Result<Option<Step>, StoreError> {
    s.filter(|s| !s.is_empty()).map(|s| parse::<Step>("step", s)).transpose()
}

fn non_negative<T: TryFrom<i64>>(what: &str, n: i64) -> Result<T, StoreError> {
    T::try_from(n).map_err(|_| corrupt(what, format!("{n} is out of range")))
}

pub(super) fn batch_from_row(row: &SqliteRow) -> Result<Batch, StoreError> {
    let steps: String = row.try_get("steps")?;
    let options: String = row.try_get("options")?;
    let state: String = row.try_get("state")?;
    let paused_reason: Option<String> = row.try_get("paused_reason")?;
    let canary_done: i64 = row.try_get("canary_done")?;
    Ok(Batch {
        id: parse_id(row.try_get("id")?)?,
        idempotency_key: row.try_get("idempotency_key")?,
        environment: row.try_get("environment")?,
        steps: serde_json::from_str(&steps)?,
        options: serde_json::from_str(&options)?,
        state: parse::<BatchState>("batch state", &state)?,
        total: non_negative("batch total", row.try_get("total")?)?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        paused_reason: paused_reason.as_deref().map(serde_json::from_str).transpose()?,
        canary_done: canary_done != 0,
    })
}

pub(super) fn item_from_row(row: &SqliteRow) -> Result<Item, StoreError> {
    let mailbox_id: Option<&[u8]> = row.try_get("mailbox_id")?;
    let state: String = row.try_get("state")?;
    let step: Option<String> = row.try_get("step")?;
    let error: Option<String> = row.try_get("error")?;
    let started: i64 = row.try_get("started")?;
    Ok(Item {
        batch: parse_id(row.try_get("batch")?)?,
        index: non_negative("item index", row.try_get("idx")?)?,
        mailbox: row.try_get("mailbox")?,
        mailbox_id: mailbox_id.map(parse_id).transpose()?,
        state: parse::<ItemState>("item state", &state)?,
        step: parse_step(step.as_deref())?,
        attempts: non_negative("item attempts", row.try_get("attempts")?)?,
        due_at: row.try_get("due_at")?,
        error: error.as_deref().map(serde_json::from_str).transpose()?,
        updated_at: row.try_get("updated_at")?,
        started: started != 0,
    })
}

/// A `limit` as SQLite takes it.
pub(super) fn limit(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}
