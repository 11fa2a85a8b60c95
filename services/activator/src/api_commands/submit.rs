//! `activator submit`: creates a batch through the API from a CSV file (sent as it is, as
//! `text/csv`, with steps, environment and options in the query), from ids and email
//! addresses given on the command line, or from a selection by tenant query (both sent as
//! JSON), and prints the batch id. With `--plan`, asks for the plan of that batch instead.

use super::watch;
use crate::args::{ApiClientArgs, SELECTION, SelectionArgs};
use crate::plan_output::{PlanFormat, render};
use activator_core::{BreakerSetting, CanarySetting, RolloutPlan, Selection, Step};
use api_client::model::{Duplicate, Submitted, show_value};
use api_client::{ApiClient, ApiClientError, Body};
use serde_json::{Map, Value, json};
use std::path::PathBuf;

const SHOWN_DUPLICATES: usize = 10;
const CHOICES: [&str; 5] = ["csv", "business_unit", "team", "security_role", "mailbox_state"];

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  activator submit --csv mailboxes.csv --environment contoso --watch\n  \
activator submit alice@contoso.com bob@contoso.com --steps approve,test_and_enable\n  \
activator submit --business-unit Sales --mailbox-state not-approved --plan\n  \
BATCH=$(activator submit --quiet --csv mailboxes.csv --idempotency-key rollout-11)\n\n\
The API checks the whole list before it creates anything: any row that is not a mailbox id or email address \
is reported (by CSV row or list index) and nothing is created. Duplicates are kept once and reported.\n\
Exit status: 0 when the batch was created (or already existed for the idempotency key), 2 when the API \
refused the request, answered another error, or could not be reached. With --watch, as `activator watch`: \
1 when mailboxes failed or the batch was cancelled. With --plan: 0 when the plan was made, 2 otherwise; \
nothing is created or written.")]
pub struct Args {
    /// Mailbox ids (GUIDs) or email addresses (instead of --csv or a selection).
    #[arg(value_name = "MAILBOX", required_unless_present_any = CHOICES, conflicts_with_all = CHOICES)]
    mailboxes: Vec<String>,
    /// CSV file of the mailboxes, as `activator run --csv` reads it.
    #[arg(long, value_name = "MAILBOXES.csv", conflicts_with_all = SELECTION)]
    csv: Option<PathBuf>,
    #[command(flatten)]
    selection: SelectionArgs,
    /// Do not create the batch: print what it would do (the API reads Dataverse, writes nothing).
    #[arg(long)]
    plan: bool,
    /// How --plan prints the plan.
    #[arg(long, value_enum, default_value_t = PlanFormat::Table, requires = "plan")]
    format: PlanFormat,
    /// Steps to run, in any order (they always run in rollout order).
    #[arg(long, value_delimiter = ',', default_value = "approve,test_and_enable,assign_role,deploy_app")]
    steps: Vec<Step>,
    /// Environment of the API's configuration (default: its only one).
    #[arg(long, value_name = "NAME")]
    environment: Option<String>,
    /// Set the organization to server-side synchronization if it is not.
    #[arg(long)]
    configure_org: bool,
    /// When a mailbox syncs with another organization, make this one its primary and test again.
    #[arg(long)]
    overwrite_primary_org: bool,
    /// How long Test & Enable may take per mailbox (default: the API's, one hour).
    #[arg(long, value_name = "SECS")]
    test_timeout_secs: Option<u64>,
    /// How long the App for Outlook deployment may take per mailbox (default: the API's, one hour).
    #[arg(long, value_name = "SECS")]
    deploy_timeout_secs: Option<u64>,
    /// Mailboxes that run all their steps before any other is written: a number, or off
    /// (default: the API's, 1% of the batch between 10 and 50).
    #[arg(long, value_name = "N|off")]
    canary: Option<CanarySetting>,
    /// The canary fails (and the batch pauses) when more than this share of it fails
    /// (default: the API's, 0.2).
    #[arg(long, value_name = "SHARE")]
    canary_max_failures: Option<f64>,
    /// Pause when, of the last WINDOW outcomes of a step, RATIO or more failed with one error
    /// code; or off (default: the API's, 50:0.5).
    #[arg(long, value_name = "WINDOW:RATIO|off")]
    breaker: Option<BreakerSetting>,
    /// Sending the same key again returns the batch it first created instead of a new one (1 to 200
    /// visible ASCII characters).
    #[arg(long, value_name = "KEY", value_parser = idempotency_key)]
    idempotency_key: Option<String>,
    /// Then follow the batch as `activator watch` does, and exit as it does.
    #[arg(long)]
    watch: bool,
    /// Print only the batch id (for scripts).
    #[arg(long, short)]
    quiet: bool,
    #[command(flatten)]
    api: ApiClientArgs,
}

fn idempotency_key(s: &str) -> Result<String, String> {
    if (1..=200).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_graphic()) {
        Ok(s.to_string())
    } else {
        Err("an idempotency key is 1 to 200 visible ASCII characters (no spaces)".into())
    }
}

/// What the batch is to do, besides its mailboxes.
#[derive(Debug, Clone, PartialEq)]
pub struct Submission {
    pub steps: Vec<Step>,
    pub environment: Option<String>,
    pub configure_org: bool,
    pub overwrite_primary_org: bool,
    pub test_timeout_secs: Option<u64>,
    pub deploy_timeout_secs: Option<u64>,
    pub canary: Option<CanarySetting>,
    pub canary_max_failures: Option<f64>,
    pub breaker: Option<BreakerSetting>,
}

impl Submission {
    fn step_names(&self) -> Vec<&'static str> {
        let mut names: Vec<&'static str> = Vec::new();
        for s in &self.steps {
            if !names.contains(&s.name()) {
                names.push(s.name());
            }
        }
        names
    }

    /// The options given on the command line; the API's defaults stand for the others.
    fn options(&self) -> Vec<(&'static str, Value)> {
        let mut out = Vec::new();
        if self.configure_org {
            out.push(("configure_org", json!(true)));
        }
        if self.overwrite_primary_org {
            out.push(("overwrite_primary_org", json!(true)));
        }
        out.extend(self.test_timeout_secs.map(|n| ("test_timeout_secs", json!(n))));
        out.extend(self.deploy_timeout_secs.map(|n| ("deploy_timeout_secs", json!(n))));
        out.extend(self.canary.map(|c| ("canary", json!(c))));
        out.extend(self.canary_max_failures.map(|s| ("canary_max_failures", json!(s))));
        out.extend(self.breaker.map(|b| ("breaker", json!(b))));
        out
    }

    /// The body of a JSON submission of a list.
    pub fn json_body(&self, mailboxes: &[String]) -> Value {
        self.body_with("mailboxes", json!(mailboxes))
    }

    /// The body of a JSON submission of a selection.
    pub fn selection_body(&self, selection: &Selection) -> Value {
        self.body_with("select", json!(selection))
    }

    fn body_with(&self, key: &str, mailboxes: Value) -> Value {
        let mut body = Map::new();
        if let Some(env) = &self.environment {
            body.insert("environment".into(), json!(env));
        }
        body.insert(key.into(), mailboxes);
        body.insert("steps".into(), json!(self.step_names()));
        let options = self.options();
        if !options.is_empty() {
            let options: Map<String, Value> = options.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
            body.insert("options".into(), Value::Object(options));
        }
        Value::Object(body)
    }

    /// The query of a CSV submission.
    pub fn csv_query(&self) -> Vec<(&'static str, String)> {
        let mut query = vec![("steps", self.step_names().join(","))];
        query.extend(self.environment.clone().map(|e| ("environment", e)));
        query.extend(self.options().into_iter().map(|(k, v)| (k, v.to_string())));
        query
    }
}

pub async fn run(args: Args) -> i32 {
    let api = args.api.clone();
    super::with_client(&api, |client| submit(client, args)).await
}

async fn submit(client: ApiClient, args: Args) -> Result<i32, ApiClientError> {
    let submission = Submission {
        steps: args.steps.clone(),
        environment: args.environment.clone(),
        configure_org: args.configure_org,
        overwrite_primary_org: args.overwrite_primary_org,
        test_timeout_secs: args.test_timeout_secs,
        deploy_timeout_secs: args.deploy_timeout_secs,
        canary: args.canary,
        canary_max_failures: args.canary_max_failures,
        breaker: args.breaker,
    };
    let (query, body) = match &args.csv {
        Some(path) => {
            let text = std::fs::read(path)
                .map_err(|e| ApiClientError::Usage(format!("cannot read {}: {e}", path.display())))?;
            (submission.csv_query(), Body::Csv(text))
        }
        None if args.selection.given() => {
            let usage = |e: anyhow::Error| ApiClientError::Usage(format!("{e:#}"));
            let exclude = args.selection.excluded().map_err(usage)?.ok_or_else(|| {
                ApiClientError::Usage("the --exclude list cannot be used (see above)".into())
            })?;
            let selection = args.selection.selection(exclude).map_err(usage)?;
            (Vec::new(), Body::Json(submission.selection_body(&selection)))
        }
        None => (Vec::new(), Body::Json(submission.json_body(&args.mailboxes))),
    };
    if args.plan {
        let plan: RolloutPlan = client.post(&["v1", "plans"], &query, Some(body), &[]).await?;
        print!("{}", render(&plan, args.format));
        return Ok(0);
    }
    let headers: Vec<(&str, String)> =
        args.idempotency_key.iter().map(|k| ("idempotency-key", k.clone())).collect();
    let answer: Submitted = client.post(&["v1", "batches"], &query, Some(body), &headers).await?;
    if args.quiet {
        println!("{}", answer.batch.id);
    } else {
        print!("{}", describe(&answer, args.watch));
    }
    if args.watch {
        return watch::watch(client, answer.batch.id).await;
    }
    Ok(0)
}

pub fn describe(s: &Submitted, watching: bool) -> String {
    let b = &s.batch;
    let env = b.environment.as_deref().map(|e| format!(" in environment {e}")).unwrap_or_default();
    let mut out = if s.created {
        format!("batch {}: {} mailboxes{env}, steps {}\n", b.id, b.total, b.steps.join(","))
    } else {
        format!(
            "batch {}: already created with this idempotency key ({} mailboxes{env}, state {}); nothing new was created\n",
            b.id, b.total, b.state
        )
    };
    if let Some(found) = &s.selection {
        out.push_str(&format!(
            "selection ({}): {}\n",
            found.description,
            crate::plan_output::found_line(found)
        ));
    }
    if !s.duplicates.is_empty() {
        out.push_str(&format!("{} duplicates kept once:\n", s.duplicates.len()));
        for d in s.duplicates.iter().take(SHOWN_DUPLICATES) {
            out.push_str(&format!("  {}\n", duplicate_line(d)));
        }
        if s.duplicates.len() > SHOWN_DUPLICATES {
            out.push_str(&format!("  and {} more\n", s.duplicates.len() - SHOWN_DUPLICATES));
        }
    }
    if !watching {
        out.push_str(&format!("follow it with: activator watch {}\n", b.id));
    }
    out
}

/// `row 9 "a@b.c" (first at row 2)`, `index 7 "a@b.c" (first at index 2)`.
fn duplicate_line(d: &Duplicate) -> String {
    let (unit, at) = match (d.row, d.index) {
        (Some(r), _) => ("row", Some(r)),
        (None, Some(i)) => ("index", Some(i)),
        (None, None) => ("", None),
    };
    let mut line = at.map(|n| format!("{unit} {n} ")).unwrap_or_default();
    line.push_str(&d.value.as_ref().map(show_value).unwrap_or_default());
    if let Some(first) = d.first {
        line.push_str(&format!(" (first at {} {first})", if unit.is_empty() { "index" } else { unit }));
    }
    line.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn submission() -> Submission {
        Submission {
            steps: vec![Step::TestAndEnable, Step::Approve, Step::TestAndEnable],
            environment: None,
            configure_org: false,
            overwrite_primary_org: false,
            test_timeout_secs: None,
            deploy_timeout_secs: None,
            canary: None,
            canary_max_failures: None,
            breaker: None,
        }
    }

    #[test]
    fn a_csv_submission_puts_steps_environment_and_given_options_in_the_query() {
        assert_eq!(submission().csv_query(), vec![("steps", "test_and_enable,approve".to_string())]);
        let full = Submission {
            environment: Some("contoso".into()),
            configure_org: true,
            overwrite_primary_org: true,
            test_timeout_secs: Some(600),
            deploy_timeout_secs: Some(900),
            ..submission()
        };
        let query = full.csv_query();
        assert_eq!(
            query,
            vec![
                ("steps", "test_and_enable,approve".to_string()),
                ("environment", "contoso".into()),
                ("configure_org", "true".into()),
                ("overwrite_primary_org", "true".into()),
                ("test_timeout_secs", "600".into()),
                ("deploy_timeout_secs", "900".into()),
            ]
        );
        let client = ApiClient::new("http://h:1", None).expect("a client");
        assert_eq!(
            client.url(&["v1", "batches"], &query).as_str(),
            "http://h:1/v1/batches?steps=test_and_enable%2Capprove&environment=contoso&configure_org=true\
             &overwrite_primary_org=true&test_timeout_secs=600&deploy_timeout_secs=900"
        );
    }

    #[test]
    fn a_json_submission_carries_only_the_options_given() {
        let mailboxes = vec!["a@b.c".to_string()];
        assert_eq!(
            submission().json_body(&mailboxes),
            json!({"mailboxes": ["a@b.c"], "steps": ["test_and_enable", "approve"]})
        );
        let p = Submission { environment: Some("e".into()), test_timeout_secs: Some(5), ..submission() };
        assert_eq!(
            p.json_body(&mailboxes),
            json!({"environment": "e", "mailboxes": ["a@b.c"], "steps": ["test_and_enable", "approve"],
                   "options": {"test_timeout_secs": 5}})
        );
    }

    #[test]
    fn the_answer_tells_the_id_duplicates_and_an_idempotent_repeat() -> Result<(), serde_json::Error> {
        let s: Submitted = serde_json::from_value(json!({
            "batch": {"id": "b1", "environment": "default", "steps": ["approve"], "state": "running", "total": 3},
            "created": true,
            "duplicates": [{"row": 9, "value": "a@b.c", "first": 2}, {"index": 4, "value": "x@y.z", "first": 1}]
        }))?;
        assert_eq!(
            describe(&s, false),
            "batch b1: 3 mailboxes in environment default, steps approve\n2 duplicates kept once:\n  \
             row 9 \"a@b.c\" (first at row 2)\n  index 4 \"x@y.z\" (first at index 1)\n\
             follow it with: activator watch b1\n"
        );
        let repeat = Submitted { created: false, duplicates: Vec::new(), ..s };
        assert!(describe(&repeat, true).contains("already created with this idempotency key"));
        Ok(())
    }

    #[test]
    fn idempotency_keys_are_visible_ascii() {
        assert!(idempotency_key("rollout-2026-11").is_ok());
        assert!(idempotency_key("").is_err());
        assert!(idempotency_key("with space").is_err());
        assert!(idempotency_key(&"k".repeat(201)).is_err());
    }
}
