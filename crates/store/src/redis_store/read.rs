//! Reading batches, items and progress.

use super::codec::{META_FIELDS, corrupt, decode_batch, decode_item, decode_progress};
use super::keys::{id_of_order_member, member, parse_member};
use super::{RedisStore, scripts};
use crate::batch_store::StoreResult;
use crate::error::StoreError;
use crate::model::{Batch, BatchId, DueSummary, Item, Millis, OUTCOMES_KEPT, Progress};
use activator_core::{ItemState, Step};
use redis::AsyncCommands;
use std::collections::HashMap;

/// Items read per HMGET when paging through a batch.
const READ_CHUNK: usize = 1_000;
/// The most rows asked of Redis at once (keeps the numbers in scripts exact).
const MAX_LIMIT: usize = 10_000_000;

pub(super) async fn batch(store: &RedisStore, id: BatchId) -> StoreResult<Option<Batch>> {
    let values: Vec<Option<String>> = store.conn().hmget(store.keys.of(id).meta, &META_FIELDS[..]).await?;
    decode_batch(&values)
}

pub(super) async fn list_batches(
    store: &RedisStore,
    before: Option<BatchId>,
    limit: usize,
) -> StoreResult<Vec<Batch>> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    let mut conn = store.conn();
    let after_member = match before {
        None => String::new(),
        Some(before) => {
            let order: Option<String> = conn.hget(store.keys.of(before).meta, "order").await?;
            match order {
                Some(order) => order,
                None => return Ok(Vec::new()),
            }
        }
    };
    let members: Vec<String> = scripts::LIST_BATCHES
        .key(store.keys.batches())
        .arg(after_member)
        .arg(limit.min(MAX_LIMIT))
        .invoke_async(&mut conn)
        .await?;
    if members.is_empty() {
        return Ok(Vec::new());
    }
    let mut pipe = redis::pipe();
    for m in &members {
        let id = id_of_order_member(m).ok_or_else(|| corrupt(format!("batch list member '{m}'")))?;
        pipe.cmd("HMGET").arg(store.keys.of(id).meta).arg(&META_FIELDS[..]);
    }
    let metas: Vec<Vec<Option<String>>> = pipe.query_async(&mut conn).await?;
    let mut batches = Vec::with_capacity(metas.len());
    for values in metas {
        // A batch still being created is listed but has no meta yet: leave it out.
        if let Some(batch) = decode_batch(&values)? {
            batches.push(batch);
        }
    }
    Ok(batches)
}

pub(super) async fn progress(store: &RedisStore, id: BatchId) -> StoreResult<Progress> {
    let counts: HashMap<String, i64> = store.conn().hgetall(store.keys.of(id).counts).await?;
    if counts.is_empty() {
        return Err(StoreError::BatchNotFound(id));
    }
    decode_progress(counts.into_iter().collect())
}

pub(super) async fn item(store: &RedisStore, id: BatchId, index: u32) -> StoreResult<Option<Item>> {
    let json: Option<String> = store.conn().hget(store.keys.of(id).items, member(index)).await?;
    json.map(|json| decode_item(id, index, &json)).transpose()
}

pub(super) async fn items(
    store: &RedisStore,
    id: BatchId,
    state: Option<ItemState>,
    after: Option<u32>,
    limit: usize,
) -> StoreResult<Vec<Item>> {
    let keys = store.keys.of(id);
    let mut conn = store.conn();
    let total: Option<u64> = conn.hget(&keys.meta, "total").await?;
    let total = total.ok_or(StoreError::BatchNotFound(id))?;
    let mut next: u64 = after.map_or(0, |a| u64::from(a) + 1);
    let mut out = Vec::new();
    while out.len() < limit && next < total {
        let wanted = limit - out.len();
        // Without a filter every item counts; with one, read ahead in full chunks.
        let chunk = if state.is_some() { READ_CHUNK } else { wanted.min(READ_CHUNK) };
        let end = total.min(next + chunk as u64);
        let indexes: Vec<u32> = (next..end).filter_map(|i| u32::try_from(i).ok()).collect();
        next = end;
        if indexes.is_empty() {
            break;
        }
        let fields: Vec<String> = indexes.iter().map(|i| member(*i)).collect();
        let values: Vec<Option<String>> = conn.hmget(&keys.items, &fields[..]).await?;
        for (index, json) in indexes.into_iter().zip(values) {
            let Some(json) = json else { continue };
            let item = decode_item(id, index, &json)?;
            if state.is_none_or(|s| s == item.state) {
                out.push(item);
                if out.len() == limit {
                    break;
                }
            }
        }
    }
    Ok(out)
}

pub(super) async fn due_items(
    store: &RedisStore,
    id: BatchId,
    now: Millis,
    limit: usize,
) -> StoreResult<Vec<Item>> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    let keys = store.keys.of(id);
    let found: Option<(Vec<String>, Vec<Option<String>>)> = scripts::DUE_ITEMS
        .key(&keys.meta)
        .key(&keys.due)
        .key(&keys.items)
        .arg(now)
        .arg(limit.min(MAX_LIMIT))
        .invoke_async(&mut store.conn())
        .await?;
    let (members, values) = found.ok_or(StoreError::BatchNotFound(id))?;
    // The due set and the items change together in scripts; the state check only guards
    // against a hand-edited database.
    decode_members(id, members, values, |item| matches!(item.state, ItemState::Pending | ItemState::Waiting))
}

pub(super) async fn fresh_items(store: &RedisStore, id: BatchId, limit: usize) -> StoreResult<Vec<Item>> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    let keys = store.keys.of(id);
    let found: Option<(Vec<String>, Vec<Option<String>>)> = scripts::FRESH_ITEMS
        .key(&keys.meta)
        .key(&keys.fresh)
        .key(&keys.items)
        .arg(limit.min(MAX_LIMIT))
        .invoke_async(&mut store.conn())
        .await?;
    let (members, values) = found.ok_or(StoreError::BatchNotFound(id))?;
    decode_members(id, members, values, |item| !item.started)
}

/// The items a script read by member, those that pass `keep`.
fn decode_members(
    id: BatchId,
    members: Vec<String>,
    values: Vec<Option<String>>,
    keep: impl Fn(&Item) -> bool,
) -> StoreResult<Vec<Item>> {
    let mut out = Vec::with_capacity(members.len());
    for (m, json) in members.iter().zip(values) {
        let index = parse_member(m).ok_or_else(|| corrupt(format!("item member '{m}'")))?;
        let Some(json) = json else { continue };
        let item = decode_item(id, index, &json)?;
        if keep(&item) {
            out.push(item);
        }
    }
    Ok(out)
}

/// The newest outcomes of `step`, newest first: `''` in the list is a success.
pub(super) async fn recent_outcomes(
    store: &RedisStore,
    id: BatchId,
    step: Step,
    limit: usize,
) -> StoreResult<Vec<Option<String>>> {
    let limit = limit.min(OUTCOMES_KEPT);
    if limit == 0 {
        return Ok(Vec::new());
    }
    let keys = store.keys.of(id);
    let listed: Vec<String> = store
        .conn()
        .lrange(keys.outcomes_of(step), 0, isize::try_from(limit).unwrap_or(isize::MAX) - 1)
        .await?;
    Ok(listed.into_iter().map(|code| (!code.is_empty()).then_some(code)).collect())
}

/// The due and fresh sets' members scored up to `now`, and their lowest scores: no item is
/// read.
pub(super) async fn due_summary(store: &RedisStore, id: BatchId, now: Millis) -> StoreResult<DueSummary> {
    let keys = store.keys.of(id);
    type Firsts = Vec<(String, f64)>;
    let (exists, due, first, fresh, first_fresh): (bool, u64, Firsts, u64, Firsts) = redis::pipe()
        .atomic()
        .cmd("EXISTS")
        .arg(&keys.meta)
        .cmd("ZCOUNT")
        .arg(&keys.due)
        .arg("-inf")
        .arg(now)
        .cmd("ZRANGE")
        .arg(&keys.due)
        .arg(0)
        .arg(0)
        .arg("WITHSCORES")
        .cmd("ZCARD")
        .arg(&keys.fresh)
        .cmd("ZRANGE")
        .arg(&keys.fresh)
        .arg(0)
        .arg(0)
        .arg("WITHSCORES")
        .query_async(&mut store.conn())
        .await?;
    if !exists {
        return Err(StoreError::BatchNotFound(id));
    }
    // Scores are whole milliseconds, well within f64's exact integers.
    let oldest_due_since = first
        .iter()
        .chain(&first_fresh)
        .map(|(_, score)| *score as Millis)
        .filter(|since| *since <= now)
        .min();
    Ok(DueSummary { due: due + fresh, oldest_due_since })
}
