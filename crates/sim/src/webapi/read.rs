//! Reads: one row by key, and many rows with `$select`, `$filter`, `$top` and server-driven
//! paging (`Prefer: odata.maxpagesize`, `@odata.nextLink`).

use crate::org::Row;
use crate::schema::Table;
use crate::webapi::error::WebApiError;
use crate::webapi::query::{self, MAX_PAGE_SIZE, Prefer, QueryOptions};
use crate::webapi::{Ctx, Outcome, Request};
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;
use std::ops::Bound;
use uuid::Uuid;

/// The `@odata.etag` of a row.
pub fn etag(row: &Row) -> String {
    format!("W/\"{}\"", row.get("versionnumber").and_then(Value::as_i64).unwrap_or(0))
}

/// A row as the Web API returns it: etag, the selected columns (all when none), and the key.
pub fn project(row: &Row, table: &Table, select: Option<&[&'static str]>) -> Value {
    let mut out = Map::new();
    out.insert("@odata.etag".into(), json!(etag(row)));
    match select {
        Some(cols) => {
            for c in cols {
                out.insert((*c).to_string(), row.get(*c).cloned().unwrap_or(Value::Null));
            }
        }
        None => {
            for c in table.columns {
                out.insert(c.name.to_string(), row.get(c.name).cloned().unwrap_or(Value::Null));
            }
        }
    }
    out.insert(table.key.to_string(), row.get(table.key).cloned().unwrap_or(Value::Null));
    Value::Object(out)
}

fn context_url(base: &str, table: &Table, select: Option<&[&'static str]>, entity: bool) -> String {
    let cols = select.map(|c| format!("({})", c.join(","))).unwrap_or_default();
    let suffix = if entity { "/$entity" } else { "" };
    format!("{base}/$metadata#{}{cols}{suffix}", table.set)
}

pub fn retrieve(
    ctx: &mut Ctx<'_>,
    table: &Table,
    id: Uuid,
    req: &Request<'_>,
    label: &str,
) -> Result<Outcome, WebApiError> {
    let opts = query::parse(req.query, table)?;
    let row = ctx.org.row(table.set, &id).ok_or_else(|| WebApiError::row_not_found(table.logical, &id))?;
    let mut body = project(row, table, opts.select.as_deref());
    if let Value::Object(map) = &mut body {
        map.insert(
            "@odata.context".into(),
            json!(context_url(ctx.base, table, opts.select.as_deref(), true)),
        );
    }
    Ok(Outcome::json(200, &body, ctx.costs.retrieve, label.to_string()))
}

/// Reads many rows of `table`, or only those whose keys are in `within` (a navigation property).
pub fn retrieve_multiple(
    ctx: &mut Ctx<'_>,
    table: &Table,
    req: &Request<'_>,
    within: Option<&BTreeSet<Uuid>>,
    label: &str,
) -> Result<Outcome, WebApiError> {
    let opts = query::parse(req.query, table)?;
    let prefer = Prefer::parse(req.headers_named("prefer"))?;
    // With $top Dataverse returns at most that many rows and no next link.
    let limit = match opts.top {
        Some(top) => top.min(MAX_PAGE_SIZE),
        None => prefer.max_page_size.unwrap_or(MAX_PAGE_SIZE),
    };
    let Some(rows) = ctx.org.table(table.set) else {
        return Err(WebApiError::segment_not_found(table.set));
    };
    let (page, more) = collect_page(rows, table, &opts, within, limit);
    let mut body = Map::new();
    body.insert("@odata.context".into(), json!(context_url(ctx.base, table, opts.select.as_deref(), false)));
    let values: Vec<Value> = page.iter().map(|(_, r)| project(r, table, opts.select.as_deref())).collect();
    let count = values.len();
    body.insert("value".into(), Value::Array(values));
    if more
        && opts.top.is_none()
        && let Some((last, _)) = page.last()
    {
        let current_page = req
            .query
            .split('&')
            .find_map(|p| p.strip_prefix("$skiptoken="))
            .and_then(|t| query::decode(t).ok())
            .map_or(1, |t| query::page_of(&t));
        let token = query::skiptoken(current_page + 1, last);
        let sep = if opts.base_query.is_empty() { "" } else { "&" };
        let path = req.path;
        let link = format!("{}/{path}?{}{sep}$skiptoken={token}", ctx.base, opts.base_query);
        body.insert("@odata.nextLink".into(), json!(link));
    }
    let cost = ctx.costs.retrieve_multiple + ctx.costs.per_row_us * count as u64 / 1000;
    Ok(Outcome::json(200, &Value::Object(body), cost, label.to_string())
        .with_header("Preference-Applied", format!("odata.maxpagesize={limit}")))
}

/// The rows of one page in key order, and whether more matching rows follow.
fn collect_page<'r>(
    rows: &'r std::collections::BTreeMap<Uuid, Row>,
    table: &Table,
    opts: &QueryOptions,
    within: Option<&BTreeSet<Uuid>>,
    limit: usize,
) -> (Vec<(Uuid, &'r Row)>, bool) {
    let after = opts.after.map_or(Bound::Unbounded, Bound::Excluded);
    let keys: Option<BTreeSet<Uuid>> = opts
        .filter
        .as_ref()
        .and_then(|f| f.key_candidates(table.key))
        .map(|ks| ks.iter().filter_map(|k| Uuid::parse_str(k).ok()).collect());
    let candidates: Box<dyn Iterator<Item = (Uuid, &Row)>> = match (keys, within) {
        (Some(keys), _) => Box::new(
            keys.into_iter()
                .filter(move |k| within.is_none_or(|w| w.contains(k)))
                .filter(move |k| match after {
                    Bound::Excluded(a) => *k > a,
                    _ => true,
                })
                .filter_map(move |k| rows.get(&k).map(|r| (k, r))),
        ),
        (None, Some(w)) => {
            Box::new(w.range((after, Bound::Unbounded)).filter_map(move |k| rows.get(k).map(|r| (*k, r))))
        }
        (None, None) => Box::new(rows.range((after, Bound::Unbounded)).map(|(k, r)| (*k, r))),
    };
    let mut matching = candidates.filter(|(_, r)| opts.filter.as_ref().is_none_or(|f| f.matches(r)));
    let page: Vec<(Uuid, &Row)> = matching.by_ref().take(limit).collect();
    let more = page.len() == limit && matching.next().is_some();
    (page, more)
}
