//! A request to create a batch, as JSON or as CSV with the rest in the query, checked whole
//! before anything is created: every problem is reported at once (with the index or row, the
//! value and the reason), duplicates are reported and kept once, and the list may not hold
//! more mailboxes than the maximum.

use crate::api_error::{ApiError, Problem};
use activator_core::BatchOptions;
use activator_core::mailbox_list::{MailboxList, mailbox_reference, read_list};
use activator_core::{Selection, SelectionFound, Step};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use utoipa::{IntoParams, ToSchema};

/// Most problems listed in one answer; the message counts the rest.
const MAX_PROBLEMS: usize = 1_000;

/// The JSON body of `POST /v1/batches`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBatchRequest {
    /// A configured environment; may be left out when only one is configured.
    #[serde(default)]
    pub environment: Option<String>,
    /// Mailbox ids (GUIDs) or email addresses (or give `select`).
    #[serde(default)]
    pub mailboxes: Vec<String>,
    /// A selection by tenant query instead of `mailboxes`: `business_units`, `teams`,
    /// `security_roles` (lists of names), `mailbox_state` (not-approved, not-tested,
    /// test-failed, not-deployed or any), `exclude` (mailboxes to leave out). Resolved into a
    /// list when the batch is created.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub select: Option<Selection>,
    /// Steps to run (in any order; they run in rollout order): approve, test_and_enable,
    /// assign_role, deploy_app.
    pub steps: Vec<String>,
    /// configure_org, overwrite_primary_org, test_timeout_secs, deploy_timeout_secs, canary
    /// (a number of mailboxes, "auto" or "off"), canary_max_failures (a share), breaker
    /// ("WINDOW:RATIO" such as "50:0.5", or "off").
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub options: Option<serde_json::Value>,
}

/// The query of a `text/csv` `POST /v1/batches`: what the JSON body would say beside the list.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CsvQuery {
    /// Comma-separated steps, e.g. `approve,test_and_enable` (CSV bodies only).
    pub steps: Option<String>,
    /// A configured environment (CSV bodies only).
    pub environment: Option<String>,
    pub configure_org: Option<bool>,
    pub overwrite_primary_org: Option<bool>,
    pub test_timeout_secs: Option<u64>,
    pub deploy_timeout_secs: Option<u64>,
    /// Canary size: a number of mailboxes, `auto` or `off`.
    pub canary: Option<String>,
    pub canary_max_failures: Option<f64>,
    /// Circuit breaker: `WINDOW:RATIO` (e.g. `50:0.5`) or `off`.
    pub breaker: Option<String>,
}

/// A mailbox listed again; it is kept once, where it was first listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Duplicate {
    /// 0-based position in the JSON list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<usize>,
    /// 1-based line of the CSV body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row: Option<u64>,
    pub value: String,
    /// Index or row where it was first listed.
    pub first: u64,
}

/// A checked request, ready to create.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    pub environment: String,
    pub steps: Vec<Step>,
    pub options: BatchOptions,
    pub mailboxes: Vec<String>,
    pub duplicates: Vec<Duplicate>,
    /// The selection to resolve into `mailboxes` (which is empty then).
    pub selection: Option<Selection>,
    /// What the selection found, once resolved.
    pub selection_found: Option<SelectionFound>,
}

/// Mailboxes read from a request, before the other parts are checked.
struct Mailboxes {
    list: Vec<String>,
    problems: Vec<Problem>,
    duplicates: Vec<Duplicate>,
}

/// Checks a JSON request.
pub fn check_json(body: &[u8], environments: &[String], max: usize) -> Result<Checked, ApiError> {
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::BadRequest(format!("the body is not valid JSON: {e}")))?;
    let request: CreateBatchRequest = serde_json::from_value(value).map_err(|e| {
        ApiError::validation(vec![Problem::new(
            "body",
            format!(
                "{e}: send {{\"mailboxes\": [...], \"steps\": [...]}} with optional environment and options"
            ),
        )])
    })?;
    let options = request.options.unwrap_or(serde_json::Value::Null);
    let Some(selection) = request.select else {
        let mailboxes = json_mailboxes(&request.mailboxes);
        return check(request.environment.as_deref(), &request.steps, &options, mailboxes, environments, max);
    };
    let mut problems = Vec::new();
    if !request.mailboxes.is_empty() {
        problems.push(Problem::new("select", "give mailboxes or select, not both"));
    }
    if selection.is_empty() {
        problems.push(Problem::new(
            "select",
            "the selection names no business unit, team, security role or mailbox state: give at least one",
        ));
    }
    let placeholder = Mailboxes { list: vec![String::new()], problems, duplicates: Vec::new() };
    let mut checked =
        check(request.environment.as_deref(), &request.steps, &options, placeholder, environments, max)?;
    checked.mailboxes.clear();
    checked.selection = Some(selection);
    Ok(checked)
}

/// Checks a CSV request: the list in `body` (UTF-8 or UTF-16 with its byte order mark; comma,
/// semicolon or tab), everything else in `query`.
pub fn check_csv(
    body: &[u8],
    query: &CsvQuery,
    environments: &[String],
    max: usize,
) -> Result<Checked, ApiError> {
    let list = read_list(body).map_err(|e| ApiError::BadRequest(format!("the CSV cannot be read: {e}")))?;
    let steps: Vec<String> = query
        .steps
        .as_deref()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect();
    let mut options = serde_json::Map::new();
    let mut set = |name: &str, value: Option<serde_json::Value>| {
        if let Some(v) = value {
            options.insert(name.to_string(), v);
        }
    };
    set("configure_org", query.configure_org.map(Into::into));
    set("overwrite_primary_org", query.overwrite_primary_org.map(Into::into));
    set("test_timeout_secs", query.test_timeout_secs.map(Into::into));
    set("deploy_timeout_secs", query.deploy_timeout_secs.map(Into::into));
    // A canary size in the query is text; the options take a number as a number.
    set(
        "canary",
        query.canary.as_ref().map(|c| c.parse::<u64>().map_or_else(|_| c.clone().into(), Into::into)),
    );
    set("canary_max_failures", query.canary_max_failures.map(Into::into));
    set("breaker", query.breaker.clone().map(Into::into));
    let options = serde_json::Value::Object(options);
    check(query.environment.as_deref(), &steps, &options, csv_mailboxes(&list), environments, max)
}

fn json_mailboxes(given: &[String]) -> Mailboxes {
    let mut out = Mailboxes { list: Vec::new(), problems: Vec::new(), duplicates: Vec::new() };
    let mut first: HashMap<String, usize> = HashMap::new();
    for (index, raw) in given.iter().enumerate() {
        match mailbox_reference(raw) {
            Ok(reference) => match first.entry(reference.to_lowercase()) {
                Entry::Occupied(at) => out.duplicates.push(Duplicate {
                    index: Some(index),
                    row: None,
                    value: raw.clone(),
                    first: *at.get() as u64,
                }),
                Entry::Vacant(slot) => {
                    slot.insert(index);
                    out.list.push(reference);
                }
            },
            Err(reason) => {
                out.problems.push(Problem::new("mailboxes", reason).index(index).value(raw.as_str()))
            }
        }
    }
    out
}

fn csv_mailboxes(list: &MailboxList) -> Mailboxes {
    let duplicates = list
        .duplicates
        .iter()
        .map(|d| Duplicate { index: None, row: Some(d.line), value: d.value.clone(), first: d.first })
        .collect();
    let problems = list
        .invalid
        .iter()
        .map(|p| Problem::new("mailboxes", p.reason.as_str()).row(p.line).value(p.value.as_str()))
        .collect();
    Mailboxes { list: list.mailboxes.clone(), problems, duplicates }
}

fn check(
    environment: Option<&str>,
    steps: &[String],
    options: &serde_json::Value,
    mailboxes: Mailboxes,
    environments: &[String],
    max: usize,
) -> Result<Checked, ApiError> {
    if mailboxes.list.len() > max {
        return Err(ApiError::PayloadTooLarge(format!(
            "the list has {} mailboxes, and a batch holds at most {max}: split it into several batches",
            mailboxes.list.len()
        )));
    }
    let mut problems = Vec::new();
    let environment = check_environment(environment, environments).map_err(|p| problems.push(p)).ok();
    let steps = check_steps(steps, &mut problems);
    let options = BatchOptions::from_json(options)
        .map_err(|e| problems.push(Problem::new("options", format!("{e}; the options are configure_org, overwrite_primary_org, test_timeout_secs, deploy_timeout_secs, canary, canary_max_failures and breaker"))))
        .ok();
    problems.extend(mailboxes.problems);
    if mailboxes.list.is_empty() && problems.iter().all(|p| p.field != "mailboxes") {
        problems.push(Problem::new(
            "mailboxes",
            "the list is empty: give at least one mailbox id or email address",
        ));
    }
    match (environment, options) {
        (Some(environment), Some(options)) if problems.is_empty() => Ok(Checked {
            environment,
            steps,
            options,
            mailboxes: mailboxes.list,
            duplicates: mailboxes.duplicates,
            selection: None,
            selection_found: None,
        }),
        _ => Err(too_many_problems(problems)),
    }
}

/// A 422 with at most [`MAX_PROBLEMS`] problems listed.
fn too_many_problems(mut problems: Vec<Problem>) -> ApiError {
    let total = problems.len();
    if total <= MAX_PROBLEMS {
        return ApiError::validation(problems);
    }
    problems.truncate(MAX_PROBLEMS);
    ApiError::Validation {
        message: format!(
            "{total} problems in the request (the first {MAX_PROBLEMS} listed); nothing was created"
        ),
        problems,
    }
}

fn check_environment(given: Option<&str>, configured: &[String]) -> Result<String, Problem> {
    let names = configured.join(", ");
    match given {
        None if configured.len() == 1 => Ok(configured[0].clone()),
        None => Err(Problem::new("environment", format!("environment is required: this API serves {names}"))),
        Some(name) if configured.iter().any(|c| c == name) => Ok(name.to_string()),
        Some(name) => {
            Err(Problem::new("environment", format!("unknown environment: this API serves {names}"))
                .value(name))
        }
    }
}

fn check_steps(given: &[String], problems: &mut Vec<Problem>) -> Vec<Step> {
    let mut steps = Vec::new();
    for (index, name) in given.iter().enumerate() {
        match name.trim().parse::<Step>() {
            Ok(step) => steps.push(step),
            Err(reason) => problems.push(Problem::new("steps", reason).index(index).value(name.as_str())),
        }
    }
    if given.is_empty() {
        let names: Vec<&str> = Step::ALL.iter().map(|s| s.name()).collect();
        problems.push(Problem::new("steps", format!("no steps: give one or more of {}", names.join(", "))));
    }
    steps.sort();
    steps.dedup();
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envs() -> Vec<String> {
        vec!["default".to_string()]
    }

    #[test]
    fn a_good_json_request_is_checked_with_defaults_and_duplicates_kept_once() {
        let body =
            br#"{"mailboxes": ["a@contoso.com", "A@CONTOSO.COM", "{6F9619FF-8B86-D011-B42D-00CF4FC964FF}"],
                        "steps": ["deploy_app", "approve", "approve"]}"#;
        let checked = check_json(body, &envs(), 10).expect("valid");
        assert_eq!(checked.environment, "default");
        assert_eq!(checked.steps, vec![Step::Approve, Step::DeployApp]);
        assert_eq!(checked.mailboxes, vec!["a@contoso.com", "6f9619ff-8b86-d011-b42d-00cf4fc964ff"]);
        assert_eq!(
            checked.duplicates,
            vec![Duplicate { index: Some(1), row: None, value: "A@CONTOSO.COM".into(), first: 0 }]
        );
        assert_eq!(checked.options, BatchOptions::default());
    }

    #[test]
    fn csv_duplicates_name_the_row_they_repeat() {
        let query = CsvQuery { steps: Some("approve".into()), ..CsvQuery::default() };
        let checked = check_csv(b"email\na@contoso.com\nb@contoso.com\na@contoso.com\n", &query, &envs(), 10)
            .expect("valid");
        assert_eq!(checked.duplicates[0].row, Some(4));
        assert_eq!(checked.duplicates[0].first, 2);
    }

    #[test]
    fn csv_bodies_may_be_excel_exports_and_duplicates_name_their_first_row() {
        let query = CsvQuery { steps: Some("approve".into()), ..CsvQuery::default() };
        let text =
            "Display name\tUser principal name\r\nAda\tada@contoso.com\r\nAda again\tADA@contoso.com\r\n";
        let body: Vec<u8> =
            [0xFF, 0xFE].into_iter().chain(text.encode_utf16().flat_map(u16::to_le_bytes)).collect();
        let checked = check_csv(&body, &query, &envs(), 10).expect("valid");
        assert_eq!(checked.mailboxes, vec!["upn:ada@contoso.com"]);
        assert_eq!(
            checked.duplicates,
            vec![Duplicate { index: None, row: Some(3), value: "ADA@contoso.com".into(), first: 2 }]
        );
        let err = check_csv(b"PK\x03\x04rest", &query, &envs(), 10).expect_err("a workbook");
        assert!(matches!(&err, ApiError::BadRequest(m) if m.contains("not a text file")), "{err:?}");
    }

    #[test]
    fn an_environment_must_be_named_when_several_are_configured() {
        let two = vec!["a".to_string(), "b".to_string()];
        let p = check_environment(None, &two).expect_err("ambiguous");
        assert!(p.reason.contains("environment is required"), "{p:?}");
        assert_eq!(check_environment(Some("b"), &two), Ok("b".to_string()));
    }
}
