//! The Dataverse Web API under `/api/data/v9.2/`: routing of one request to its operation.
//!
//! Works on plain values rather than HTTP types so the same code serves top-level requests and
//! the operations inside a `$batch`.

pub mod approval;
pub mod assoc;
pub mod batch;
pub mod error;
pub mod journal;
pub mod multipart;
pub mod nav;
pub mod query;
pub mod read;
pub mod write;

use crate::org::Org;
use crate::profile::Costs;
use crate::schema::{Table, table_by_set};
use crate::variants::Variants;
use error::WebApiError;
use journal::Journal;
use nav::NavProp;
use query::decode;
use serde_json::{Value, json};
use std::time::Instant;
use uuid::Uuid;

/// Path prefix of the Web API.
pub const API_PREFIX: &str = "/api/data/v9.2";

/// One Web API request, top-level or inside a batch.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub method: &'a str,
    /// Path after `/api/data/v9.2/`, still percent-encoded.
    pub path: &'a str,
    /// Raw query string without `?`.
    pub query: &'a str,
    /// Header names in lowercase.
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

impl<'a> Request<'a> {
    pub fn header(&self, name: &str) -> Option<&'a str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    pub fn headers_named(&self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers.iter().filter(move |(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// The answer to one operation and what it cost.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Execution time charged, in milliseconds.
    pub cost_ms: u64,
    /// Operation label for statistics, e.g. `update mailboxes`.
    pub op: String,
}

impl Outcome {
    pub fn json(status: u16, value: &Value, cost_ms: u64, op: String) -> Self {
        Self {
            status,
            headers: vec![
                ("Content-Type".into(), "application/json; odata.metadata=minimal".into()),
                ("OData-Version".into(), "4.0".into()),
            ],
            body: value.to_string().into_bytes(),
            cost_ms,
            op,
        }
    }

    pub fn no_content(cost_ms: u64, op: String) -> Self {
        Self {
            status: 204,
            headers: vec![("OData-Version".into(), "4.0".into())],
            body: Vec::new(),
            cost_ms,
            op,
        }
    }

    pub fn error(e: &WebApiError, cost_ms: u64, op: String) -> Self {
        Self {
            status: e.status,
            headers: vec![
                ("Content-Type".into(), "application/json; odata.metadata=minimal".into()),
                ("OData-Version".into(), "4.0".into()),
            ],
            body: e.body(),
            cost_ms,
            op,
        }
    }

    pub fn with_header(mut self, name: &str, value: String) -> Self {
        self.headers.push((name.to_string(), value));
        self
    }
}

/// What an operation may use.
#[derive(Debug)]
pub struct Ctx<'a> {
    pub org: &'a mut Org,
    /// Absolute URL of the Web API root, without a trailing slash.
    pub base: &'a str,
    pub costs: &'a Costs,
    /// `systemuserid` of the application user making the call.
    pub caller: Uuid,
    pub dop_hint: u32,
    pub now: Instant,
    /// The behaviour variants in force for this request.
    pub variants: Variants,
}

/// A parsed resource path.
#[derive(Debug, PartialEq, Eq)]
enum Resource<'t> {
    ServiceDocument,
    WhoAmI,
    Batch,
    Collection(&'t Table),
    Row(&'t Table, Uuid),
    /// `{set}({id})/{nav}[({key})][/$ref]`: a navigation property of one row.
    Nav {
        table: &'t Table,
        id: Uuid,
        nav: NavProp,
        key: Option<Uuid>,
        is_ref: bool,
    },
}

/// Splits `name(key)` into the name and the key text.
fn split_key(segment: &str) -> (&str, Option<&str>) {
    match segment.split_once('(') {
        Some((name, rest)) => (name, Some(rest.strip_suffix(')').unwrap_or(rest))),
        None => (segment, None),
    }
}

fn parse_guid(text: &str) -> Result<Uuid, WebApiError> {
    // Dataverse also takes alternate keys here (`name='x'`); the simulator only takes ids.
    if text.contains('=') {
        return Err(WebApiError::not_implemented("alternate keys"));
    }
    Uuid::parse_str(text).map_err(|_| WebApiError::bad_query("Bad Request - Error in query syntax."))
}

fn parse_resource(path: &str) -> Result<Resource<'static>, WebApiError> {
    let path = decode(path)?;
    let path = path.trim_end_matches('/');
    if path.is_empty() {
        return Ok(Resource::ServiceDocument);
    }
    let segments: Vec<&str> = path.split('/').collect();
    let (first, key) = split_key(segments[0]);
    match first {
        "WhoAmI" if segments.len() == 1 && key.is_none_or(str::is_empty) => return Ok(Resource::WhoAmI),
        "$batch" if segments.len() == 1 => return Ok(Resource::Batch),
        _ => {}
    }
    let table = table_by_set(first).ok_or_else(|| WebApiError::segment_not_found(first))?;
    let Some(key) = key else {
        return match segments.len() {
            1 => Ok(Resource::Collection(table)),
            _ => Err(WebApiError::bad_query("Bad Request - Error in query syntax.")),
        };
    };
    let id = parse_guid(key)?;
    match segments[1..] {
        [] => Ok(Resource::Row(table, id)),
        [nav, ref rest @ ..] => {
            let (nav_name, nav_key) = split_key(nav);
            let Some(nav) = nav::property(table.set, nav_name) else {
                return match table.column(nav_name) {
                    Some(_) => Err(WebApiError::not_implemented("reading a single property")),
                    None => Err(WebApiError::segment_not_found(nav_name)),
                };
            };
            let key = nav_key.map(parse_guid).transpose()?;
            match rest {
                [] => Ok(Resource::Nav { table, id, nav, key, is_ref: false }),
                ["$ref"] => Ok(Resource::Nav { table, id, nav, key, is_ref: true }),
                [other, ..] => Err(WebApiError::segment_not_found(other)),
            }
        }
    }
}

/// Runs one operation. Writes record what they change in `journal`.
pub fn dispatch(ctx: &mut Ctx<'_>, req: &Request<'_>, journal: &mut Journal) -> Outcome {
    let invalid_cost = ctx.costs.retrieve / 2;
    let resource = match parse_resource(req.path) {
        Ok(r) => r,
        Err(e) => return Outcome::error(&e, invalid_cost, "invalid".into()),
    };
    let wrong_method = |req: &Request<'_>, ctx: &Ctx<'_>| {
        let url = format!("{}/{}", ctx.base, req.path);
        Outcome::error(&WebApiError::no_resource(&url), invalid_cost, "invalid".into())
    };
    let label = op_label(req.method, &resource);
    let result = match (req.method, &resource) {
        ("GET", Resource::ServiceDocument) => Ok(service_document(ctx)),
        ("GET", Resource::WhoAmI) => Ok(who_am_i(ctx)),
        (_, Resource::Batch) => {
            Err(WebApiError::bad_query("A $batch request cannot be nested inside a $batch."))
        }
        ("GET", Resource::Collection(t)) => read::retrieve_multiple(ctx, t, req, None, &label),
        ("GET", Resource::Row(t, id)) => read::retrieve(ctx, t, *id, req, &label),
        ("PATCH", Resource::Row(t, id)) => write::update(ctx, t, *id, req, journal, &label),
        ("POST", Resource::Collection(_)) => Err(WebApiError::not_implemented("creating rows")),
        ("DELETE", Resource::Row(..)) => Err(WebApiError::not_implemented("deleting rows")),
        ("GET", Resource::Nav { table, id, nav, key: None, is_ref: false }) => {
            nav::list(ctx, table, *id, *nav, req, &label)
        }
        ("POST" | "DELETE", Resource::Nav { table, nav, is_ref: true, .. })
            if table.set != "systemusers" || nav.name != nav::USER_ROLES =>
        {
            Err(WebApiError::not_implemented(&format!(
                "associating or disassociating through {}/{}",
                table.set, nav.name
            )))
        }
        ("POST", Resource::Nav { id, key: None, is_ref: true, .. }) => {
            assoc::associate(ctx, *id, req, journal, &label)
        }
        ("DELETE", Resource::Nav { id, key, is_ref: true, .. }) => {
            assoc::disassociate(ctx, *id, *key, req, journal, &label)
        }
        _ => return wrong_method(req, ctx),
    };
    result.unwrap_or_else(|e| Outcome::error(&e, invalid_cost, label))
}

/// The label a request to `path` is counted under, without running it.
pub fn label_for(method: &str, path: &str) -> String {
    parse_resource(path).map_or_else(|_| "invalid".to_string(), |r| op_label(method, &r))
}

/// The label an operation is counted under in statistics.
fn op_label(method: &str, resource: &Resource<'_>) -> String {
    match (method, resource) {
        (_, Resource::ServiceDocument) => "service_document".into(),
        (_, Resource::WhoAmI) => "whoami".into(),
        (_, Resource::Batch) => "batch".into(),
        ("GET", Resource::Collection(t)) => format!("retrieve_multiple {}", t.set),
        ("GET", Resource::Row(t, _)) => format!("retrieve {}", t.set),
        ("PATCH", Resource::Row(t, _)) => format!("update {}", t.set),
        ("GET", Resource::Nav { table, nav, .. }) => {
            format!("retrieve_multiple {}", nav::label_name(table, *nav))
        }
        ("POST", Resource::Nav { table, nav, .. }) => format!("associate {}", nav::label_name(table, *nav)),
        ("DELETE", Resource::Nav { table, nav, .. }) => {
            format!("disassociate {}", nav::label_name(table, *nav))
        }
        (m, Resource::Collection(t) | Resource::Row(t, _)) => format!("{} {}", m.to_lowercase(), t.set),
        (m, Resource::Nav { table, nav, .. }) => {
            format!("{} {}", m.to_lowercase(), nav::label_name(table, *nav))
        }
    }
}

fn service_document(ctx: &Ctx<'_>) -> Outcome {
    let sets: Vec<Value> = crate::schema::TABLES
        .iter()
        .map(|t| json!({"name": t.set, "kind": "EntitySet", "url": t.set}))
        .collect();
    let body = json!({"@odata.context": format!("{}/$metadata", ctx.base), "value": sets});
    Outcome::json(200, &body, ctx.costs.whoami, "service_document".into())
}

fn who_am_i(ctx: &Ctx<'_>) -> Outcome {
    let bu = ctx
        .org
        .row("systemusers", &ctx.caller)
        .and_then(|u| crate::org::guid_of(u, "_businessunitid_value"))
        .unwrap_or(ctx.org.root_business_unit);
    let body = json!({
        "@odata.context": format!("{}/$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse", ctx.base),
        "BusinessUnitId": bu,
        "UserId": ctx.caller,
        "OrganizationId": ctx.org.organization_id,
    });
    Outcome::json(200, &body, ctx.costs.whoami, "whoami".into())
        .with_header("x-ms-dop-hint", ctx.dop_hint.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_parse_to_resources() {
        let id = "00000000-0000-0000-0000-000000000001";
        assert_eq!(parse_resource(""), Ok(Resource::ServiceDocument));
        assert_eq!(parse_resource("WhoAmI"), Ok(Resource::WhoAmI));
        assert_eq!(parse_resource("WhoAmI()"), Ok(Resource::WhoAmI));
        assert!(matches!(parse_resource("mailboxes"), Ok(Resource::Collection(t)) if t.set == "mailboxes"));
        assert!(matches!(parse_resource(&format!("mailboxes({id})")), Ok(Resource::Row(..))));
        assert!(matches!(
            parse_resource(&format!("systemusers({id})/systemuserroles_association/$ref")),
            Ok(Resource::Nav { key: None, is_ref: true, .. })
        ));
        assert!(matches!(
            parse_resource(&format!("systemusers({id})/systemuserroles_association({id})/$ref")),
            Ok(Resource::Nav { key: Some(_), is_ref: true, .. })
        ));
        assert!(matches!(
            parse_resource(&format!("roles({id})/systemuserroles_association")),
            Ok(Resource::Nav { table, key: None, is_ref: false, .. }) if table.set == "roles"
        ));
        assert!(matches!(
            parse_resource(&format!("teams({id})/teammembership_association")),
            Ok(Resource::Nav { nav, .. }) if nav.target.set == "systemusers"
        ));
        assert_eq!(
            label_for("GET", &format!("roles({id})/systemuserroles_association")),
            "retrieve_multiple roles/systemuserroles_association"
        );
        assert_eq!(
            label_for("GET", &format!("systemusers({id})/systemuserroles_association")),
            "retrieve_multiple systemuserroles_association"
        );
    }

    #[test]
    fn bad_paths_get_dataverse_errors() {
        assert_eq!(parse_resource("accounts").map(|_| ()), Err(WebApiError::segment_not_found("accounts")));
        assert_eq!(parse_resource("Mailboxes").map(|_| ()).map_err(|e| e.status), Err(404));
        assert_eq!(parse_resource("mailboxes(not-a-guid)").map(|_| ()).map_err(|e| e.status), Err(400));
        let id = "00000000-0000-0000-0000-000000000001";
        let wrong_side = parse_resource(&format!("mailboxes({id})/teammembership_association"));
        assert_eq!(wrong_side.map(|_| ()), Err(WebApiError::segment_not_found("teammembership_association")));
    }
}
