//! The OData system query options of a read (`$select`, `$filter`, `$top`, `$skiptoken`) and the
//! `Prefer` header values that shape an answer.

use crate::odata::filter::{self, Filter, FilterError};
use crate::schema::Table;
use crate::webapi::error::WebApiError;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use uuid::Uuid;

/// Largest page Dataverse returns, and the default page size.
pub const MAX_PAGE_SIZE: usize = 5000;

#[derive(Debug, Default)]
pub struct QueryOptions {
    pub select: Option<Vec<&'static str>>,
    pub filter: Option<Filter>,
    pub top: Option<usize>,
    /// Key of the last row of the previous page.
    pub after: Option<Uuid>,
    /// The query string without `$skiptoken`, to build the next link from.
    pub base_query: String,
}

/// Decodes one query-string component as ASP.NET does (`+` is a space).
pub fn decode(component: &str) -> Result<String, WebApiError> {
    let spaced = component.replace('+', " ");
    percent_decode_str(&spaced)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| WebApiError::bad_query("The query string is not valid UTF-8 after percent-decoding."))
}

fn filter_error(e: FilterError) -> WebApiError {
    match e {
        FilterError::UnknownProperty { property, entity } => {
            WebApiError::unknown_property(&property, &entity)
        }
        other => WebApiError::bad_query(other.to_string()),
    }
}

/// Reads the query string of a request against `table`.
pub fn parse(raw: &str, table: &Table) -> Result<QueryOptions, WebApiError> {
    let mut out = QueryOptions::default();
    let mut kept = Vec::new();
    for pair in raw.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = decode(name)?;
        let value = decode(value)?;
        match name.as_str() {
            "$select" => {
                let mut cols = Vec::new();
                for c in value.split(',').map(str::trim) {
                    let col =
                        table.column(c).ok_or_else(|| WebApiError::unknown_property(c, table.logical))?;
                    cols.push(col.name);
                }
                out.select = Some(cols);
            }
            "$filter" => out.filter = Some(filter::parse(&value, table).map_err(filter_error)?),
            "$top" => {
                let top = value.trim().parse::<usize>().map_err(|_| {
                    WebApiError::bad_query(format!("Invalid value '{value}' for $top query option found. The $top query option requires a non-negative integer value."))
                })?;
                out.top = Some(top);
            }
            "$skiptoken" => {
                out.after = Some(parse_skiptoken(&value)?);
                continue;
            }
            "$orderby" | "$expand" | "$apply" | "$count" | "$search" | "$skip" => {
                return Err(WebApiError::not_implemented(&format!("the {name} query option")));
            }
            other if other.starts_with('$') => {
                return Err(WebApiError::bad_query(format!(
                    "The query parameter '{other}' is not supported."
                )));
            }
            _ => {}
        }
        kept.push(pair);
    }
    out.base_query = kept.join("&");
    Ok(out)
}

/// Characters escaped in the skip token, so it survives being pasted into a URL unchanged.
const TOKEN_SET: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-');

/// A paging cookie in the shape Dataverse uses; clients must treat it as opaque.
pub fn skiptoken(page: usize, last: &Uuid) -> String {
    let cookie = format!("<cookie pagenumber=\"{page}\" pagingcookie=\"{{{last}}}\" istracking=\"False\" />");
    utf8_percent_encode(&cookie, TOKEN_SET).to_string()
}

/// Page number encoded in a skip token, 1 when absent.
pub fn page_of(token: &str) -> usize {
    token
        .split("pagenumber=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(1)
}

fn parse_skiptoken(value: &str) -> Result<Uuid, WebApiError> {
    let bad = || WebApiError::bad_query("The $skiptoken is not valid: follow @odata.nextLink unchanged.");
    let inner = value.split("pagingcookie=\"").nth(1).ok_or_else(bad)?;
    let id = inner.split('"').next().ok_or_else(bad)?;
    Uuid::parse_str(id.trim_matches(|c| c == '{' || c == '}')).map_err(|_| bad())
}

/// The `Prefer` header values Dataverse honours.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Prefer {
    pub max_page_size: Option<usize>,
    pub return_representation: bool,
    pub continue_on_error: bool,
}

impl Prefer {
    pub fn parse<'a>(values: impl Iterator<Item = &'a str>) -> Result<Prefer, WebApiError> {
        let mut p = Prefer::default();
        for part in values.flat_map(|v| v.split(',')).map(str::trim) {
            let (name, value) = part.split_once('=').map_or((part, ""), |(n, v)| (n.trim(), v.trim()));
            match name {
                "odata.maxpagesize" => {
                    let n = value.parse::<usize>().ok().filter(|n| *n > 0).ok_or_else(|| {
                        WebApiError::bad_query(format!("The Prefer header value 'odata.maxpagesize={value}' is not valid: use a positive whole number."))
                    })?;
                    p.max_page_size = Some(n.min(MAX_PAGE_SIZE));
                }
                "return" => p.return_representation = value == "representation",
                "odata.continue-on-error" => p.continue_on_error = value.is_empty() || value == "true",
                _ => {}
            }
        }
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::MAILBOXES;

    #[test]
    fn skiptoken_round_trips_through_decoding() {
        let id = Uuid::from_u128(0x1234);
        let token = skiptoken(3, &id);
        assert!(!token.contains('<'));
        let decoded = decode(&token).expect("decodes");
        assert_eq!(parse_skiptoken(&decoded).expect("parses"), id);
        assert_eq!(page_of(&decoded), 3);
    }

    #[test]
    fn select_of_unknown_column_is_the_documented_error() {
        let err = parse("$select=name,Bogus", &MAILBOXES).expect_err("rejected");
        assert_eq!((err.status, err.code.as_str()), (400, "0x0"));
        assert!(err.message.contains("'Bogus'"), "{}", err.message);
    }

    #[test]
    fn unknown_system_option_is_rejected_and_custom_ones_ignored() {
        assert_eq!(parse("$bogus=1", &MAILBOXES).expect_err("rejected").status, 400);
        assert!(parse("foo=bar", &MAILBOXES).is_ok());
    }

    #[test]
    fn prefer_caps_page_size_and_reads_every_value() {
        let p = Prefer::parse(
            ["odata.maxpagesize=9000, return=representation", "odata.continue-on-error"].into_iter(),
        )
        .expect("parses");
        assert_eq!(p.max_page_size, Some(MAX_PAGE_SIZE));
        assert!(p.return_representation && p.continue_on_error);
        assert!(Prefer::parse(["odata.maxpagesize=abc"].into_iter()).is_err());
    }

    #[test]
    fn negative_top_is_rejected() {
        assert_eq!(parse("$top=-1", &MAILBOXES).expect_err("rejected").code, "0x80060888");
    }
}
