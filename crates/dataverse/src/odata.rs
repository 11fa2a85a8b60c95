//! Reads of many rows: the one paging loop (`Prefer: odata.maxpagesize`, `@odata.nextLink`
//! followed unchanged) and reads by lists of values in chunked `Microsoft.Dynamics.CRM.In`
//! filters, with the OData literal and filter pieces they are built from.

use crate::dataverse_client::Dataverse;
use crate::error::DataverseError;
use crate::request::WebApiRequest;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use std::collections::HashSet;
use uuid::Uuid;

/// Values per `In` filter: about 4 KB of URL for GUIDs, well under any URL limit.
pub const IN_CHUNK: usize = 100;

/// Rows per page asked for with `Prefer: odata.maxpagesize`: Dataverse's largest (and default)
/// page, so a read takes as few requests as it can.
pub const PAGE_SIZE: usize = 5000;

#[derive(Deserialize)]
struct Page<T> {
    value: Vec<T>,
    #[serde(rename = "@odata.nextLink")]
    next: Option<String>,
}

/// An OData string literal: quoted, with quotes doubled.
pub(crate) fn literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// `column` is one of `values` (each sent as a string literal, as `In` takes them).
pub(crate) fn in_filter(column: &str, values: &[String]) -> String {
    let list: Vec<String> = values.iter().map(|v| literal(v)).collect();
    format!("Microsoft.Dynamics.CRM.In(PropertyName='{column}',PropertyValues=[{}])", list.join(","))
}

/// GUIDs as the strings an `In` filter takes.
pub(crate) fn guids(ids: &[Uuid]) -> Vec<String> {
    ids.iter().map(Uuid::to_string).collect()
}

/// Reads a column Dataverse may send as `null` (no value) as the type's default.
pub(crate) fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// Reads whether a column has a value (not `null`), whatever the value is.
pub(crate) fn present<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(Option::<serde::de::IgnoredAny>::deserialize(d)?.is_some())
}

/// The values once each, in their order; Dataverse compares without case, so neither does this.
fn distinct(values: &[String]) -> Vec<String> {
    let mut seen = HashSet::with_capacity(values.len());
    values.iter().filter(|v| seen.insert(v.to_lowercase())).cloned().collect()
}

impl Dataverse {
    /// Every row of `path` (an entity set, or a collection-valued navigation property) matching
    /// `filter` (all when None), with the columns of `select`, every page.
    pub(crate) async fn read_all<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        path: &str,
        select: &str,
        filter: Option<&str>,
    ) -> Result<Vec<T>, DataverseError> {
        let prefer = format!("odata.maxpagesize={}", self.page_size());
        let mut req = WebApiRequest::get(operation, path).query("$select", select).header("Prefer", &prefer);
        if let Some(f) = filter {
            req = req.query("$filter", f);
        }
        let mut page: Page<T> = self.execute(&req).await?.json()?;
        let mut rows = std::mem::take(&mut page.value);
        while let Some(next) = page.next.take() {
            // The next link is followed unchanged, as Dataverse requires.
            let req = WebApiRequest::get(operation, next).header("Prefer", &prefer);
            page = self.execute(&req).await?.json()?;
            rows.append(&mut page.value);
        }
        Ok(rows)
    }

    /// The rows of `path` whose `column` is one of `values` (each value asked for once), in
    /// `In` filters of at most [`IN_CHUNK`] values. The chunks are read side by side (the
    /// limiter decides how many at once), so reading a thousand rows takes about as long as
    /// reading a hundred.
    pub(crate) async fn read_in<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        path: &str,
        select: &str,
        column: &str,
        values: &[String],
    ) -> Result<Vec<T>, DataverseError> {
        let values = distinct(values);
        let filters: Vec<String> = values.chunks(IN_CHUNK).map(|chunk| in_filter(column, chunk)).collect();
        let reads = filters.iter().map(|filter| self.read_all(operation, path, select, Some(filter)));
        let mut rows = Vec::with_capacity(values.len());
        for chunk in futures_util::future::join_all(reads).await {
            rows.extend(chunk?);
        }
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_double_their_quotes() {
        assert_eq!(literal("o'neil@x"), "'o''neil@x'");
        assert_eq!(
            in_filter("emailaddress", &["a".into(), "b".into()]),
            "Microsoft.Dynamics.CRM.In(PropertyName='emailaddress',PropertyValues=['a','b'])"
        );
    }

    #[test]
    fn values_are_asked_for_once_whatever_their_case() {
        let values: Vec<String> = ["B@x", "a@x", "b@X", "a@x"].map(String::from).into();
        assert_eq!(distinct(&values), ["B@x", "a@x"]);
    }

    #[test]
    fn presence_and_nulls_read_as_flags_and_defaults() {
        #[derive(Deserialize)]
        struct Row {
            #[serde(default, deserialize_with = "present")]
            app: bool,
            #[serde(default, deserialize_with = "null_default")]
            off: bool,
        }
        let read = |s: &str| serde_json::from_str::<Row>(s).map(|r| (r.app, r.off)).ok();
        assert_eq!(read(r#"{"app":"00000000-0000-0000-0000-000000000001","off":true}"#), Some((true, true)));
        assert_eq!(read(r#"{"app":null,"off":null}"#), Some((false, false)));
        assert_eq!(read("{}"), Some((false, false)));
    }
}
