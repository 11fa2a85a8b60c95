//! The deployment assets of deploy/ are well-formed and name only metrics that exist: the
//! Grafana dashboard (JSON), the compose file, the Kubernetes manifests, the Prometheus
//! configuration and alert rules and the Grafana provisioning (YAML); every `activator_*`
//! metric and label they name is in the catalogue of `metrics::Metrics`. With promtool on
//! PATH (required when ACTIVATOR_REQUIRE_PROMTOOL=1), the configuration, the rules, their unit
//! tests and every dashboard query are also checked by promtool.
#![allow(clippy::unwrap_used)]

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

fn deploy() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy")
}

fn read(rel: &str) -> String {
    let path = deploy().join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Every YAML document of a file (documents split on `---` lines), as JSON values.
fn yaml_docs(rel: &str) -> Vec<Value> {
    let text = read(rel);
    let mut docs = Vec::new();
    let mut current = String::new();
    let mut flush = |doc: &mut String| {
        if doc.lines().any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#')) {
            let value: Value =
                serde_norway::from_str(doc).unwrap_or_else(|e| panic!("deploy/{rel} is not valid YAML: {e}"));
            docs.push(value);
        }
        doc.clear();
    };
    for line in text.lines() {
        if line.trim_end() == "---" {
            flush(&mut current);
        } else {
            current.push_str(line);
            current.push('\n');
        }
    }
    flush(&mut current);
    assert!(!docs.is_empty(), "deploy/{rel} holds no YAML document");
    docs
}

fn yaml(rel: &str) -> Value {
    let mut docs = yaml_docs(rel);
    assert_eq!(docs.len(), 1, "deploy/{rel} should hold one YAML document");
    docs.remove(0)
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer).and_then(Value::as_str).unwrap_or_else(|| panic!("no string at {pointer} in {v}"))
}

#[derive(Debug, Default)]
struct Family {
    kind: String,
    labels: BTreeSet<String>,
}

/// The metric catalogue as `/metrics` shows it: family name, type and label names. The
/// prometheus crate prints a labelled family only once it has a label set, so each one is
/// given one here; a family added to the catalogue needs a line below before the dashboard
/// or the rules may name it.
fn catalogue() -> BTreeMap<String, Family> {
    let m = metrics::Metrics::new();
    m.mailbox_steps_total.with_label_values(&["approve", "done"]).inc();
    m.job_retries_total.with_label_values(&["approve", "transient"]).inc();
    m.dataverse_requests_total.with_label_values(&["whoami", "200"]).inc();
    m.dataverse_throttled_total.with_label_values(&["requests"]).inc();
    m.dataverse_request_duration_seconds.with_label_values(&["whoami"]).observe(0.1);
    m.step_duration_seconds.with_label_values(&["approve"]).observe(0.1);
    m.queue_jobs.with_label_values(&["waiting"]).set(1);
    m.batch_mailboxes.with_label_values(&["b", "pending"]).set(1);
    m.ratelimit_budget_remaining.with_label_values(&["c", "requests"]).set(1.0);
    let text = m.render();
    let mut families: BTreeMap<String, Family> = BTreeMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            families.entry(name.to_string()).or_default().kind = kind.to_string();
        }
    }
    for line in text.lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
        let name_end = line.find(['{', ' ']).unwrap();
        let sample = &line[..name_end];
        let family = resolve(&families, sample).unwrap_or_else(|| panic!("sample {sample} has no family"));
        if let Some(labels) = line[name_end..].strip_prefix('{') {
            let labels = &labels[..labels.find('}').unwrap()];
            let names = matchers(labels).into_iter().map(|(name, _)| name).filter(|n| n != "le");
            families.get_mut(&family).unwrap().labels.extend(names);
        }
    }
    assert!(families.len() >= 14, "the catalogue has the 14 families of DESIGN.md: {:?}", families.keys());
    families
}

/// The family a sample or series name belongs to (histograms add _bucket, _sum, _count).
fn resolve(families: &BTreeMap<String, Family>, name: &str) -> Option<String> {
    if families.contains_key(name) {
        return Some(name.to_string());
    }
    ["_bucket", "_sum", "_count"].iter().find_map(|suffix| {
        let base = name.strip_suffix(suffix)?;
        families.get(base).filter(|f| f.kind == "histogram").map(|_| base.to_string())
    })
}

/// Label names and values of a matcher list such as `a="x",b=~"y|z"` (PromQL or exposition).
fn matchers(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ',') {
            chars.next();
        }
        let name: String =
            std::iter::from_fn(|| chars.next_if(|c| c.is_alphanumeric() || *c == '_')).collect();
        if name.is_empty() {
            break;
        }
        while chars.next_if(|c| matches!(c, '=' | '!' | '~' | ' ')).is_some() {}
        assert_eq!(chars.next(), Some('"'), "matcher {name} in `{text}` has no quoted value");
        let mut value = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\\' => value.extend(chars.next()),
                '"' => break,
                c => value.push(c),
            }
        }
        out.push((name, value));
    }
    out
}

/// Every `activator_…` name in `text`, with the matcher list that follows it, if any.
fn references(text: &str) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(pos) = text[from..].find("activator_").map(|p| p + from) {
        let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
        let end = pos + text[pos..].bytes().take_while(|b| b.is_ascii_lowercase() || *b == b'_').count();
        from = end;
        if pos > 0 && ident(bytes[pos - 1]) {
            continue;
        }
        let name = text[pos..end].to_string();
        let selector = text[end..]
            .strip_prefix('{')
            .and_then(|rest| rest.find('}').map(|close| rest[..close].to_string()));
        out.push((name, selector));
    }
    out
}

/// Labels Prometheus adds to every scraped series (target labels of prometheus.yml and the
/// Kubernetes scrape jobs).
const TARGET_LABELS: [&str; 4] = ["job", "instance", "namespace", "pod"];

/// What is wrong with the metric names and labels that `text` (from `what`) refers to.
fn check_references(families: &BTreeMap<String, Family>, what: &str, text: &str) -> Vec<String> {
    let mut problems = Vec::new();
    for (name, selector) in references(text) {
        let Some(family) = resolve(families, &name) else {
            problems.push(format!("{what}: {name} is not in the metric catalogue (crates/metrics)"));
            continue;
        };
        for (label, _) in selector.as_deref().map(matchers).unwrap_or_default() {
            let known = families[&family].labels.contains(&label)
                || TARGET_LABELS.contains(&label.as_str())
                || (label == "le" && name.ends_with("_bucket"));
            if !known {
                problems.push(format!(
                    "{what}: {name} has no label {label} (it has {:?})",
                    families[&family].labels
                ));
            }
        }
    }
    problems
}

/// Gauges computed from the store are reported alike by every process: an expression must
/// take their max, never sum them. Returns the problem, if any, of the occurrence at `pos`.
fn store_gauge_aggregation(expr: &str, pos: usize, name: &str) -> Option<String> {
    // The text before the name must end with `max(` or `max by (…) (` (or `without`).
    let aggregator = |before: &str| -> Option<bool> {
        let mut before = before.trim_end().strip_suffix('(')?.trim_end();
        if let Some(inner) = before.strip_suffix(')') {
            before = inner[..inner.rfind('(')?].trim_end();
            before = before.strip_suffix("by").or_else(|| before.strip_suffix("without"))?.trim_end();
        }
        let rest = before.strip_suffix("max")?;
        Some(!rest.ends_with(|c: char| c.is_alphanumeric() || c == '_'))
    };
    (aggregator(&expr[..pos]) != Some(true))
        .then(|| format!("{name} must be aggregated with max (every process reports it): `{expr}`"))
}

const STORE_GAUGES: [&str; 3] =
    ["activator_queue_jobs", "activator_queue_oldest_waiting_age_seconds", "activator_batch_mailboxes"];

fn check_expr(families: &BTreeMap<String, Family>, what: &str, expr: &str) -> Vec<String> {
    let mut problems = check_references(families, what, expr);
    for (pos, _) in expr.match_indices("activator_") {
        for gauge in STORE_GAUGES {
            let rest = &expr[pos..];
            let whole = rest.starts_with(gauge)
                && !rest[gauge.len()..].starts_with(|c: char| c.is_alphanumeric() || c == '_');
            if whole && let Some(p) = store_gauge_aggregation(expr, pos, gauge) {
                problems.push(format!("{what}: {p}"));
            }
        }
    }
    problems
}

fn dashboard() -> Value {
    serde_json::from_str(&read("grafana/dashboards/activator.json"))
        .unwrap_or_else(|e| panic!("deploy/grafana/dashboards/activator.json is not valid JSON: {e}"))
}

/// Every query of the dashboard: (panel title, expression).
fn dashboard_queries(dash: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for panel in dash["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().into_iter().flatten() {
            out.push((
                panel["title"].as_str().unwrap_or("?").to_string(),
                str_at(target, "/expr").to_string(),
            ));
        }
    }
    out
}

/// Every string of a JSON document (unescaped), one a line.
fn every_string(v: &Value, out: &mut String) {
    match v {
        Value::String(s) => {
            out.push_str(s);
            out.push('\n');
        }
        Value::Array(items) => items.iter().for_each(|i| every_string(i, out)),
        Value::Object(map) => map.iter().for_each(|(k, i)| {
            out.push_str(k);
            out.push('\n');
            every_string(i, out);
        }),
        _ => {}
    }
}

fn alert_rules() -> Vec<Value> {
    let rules = yaml("prometheus/alerts.yml");
    let groups = rules["groups"].as_array().expect("alerts.yml has groups");
    groups.iter().flat_map(|g| g["rules"].as_array().expect("a group has rules").clone()).collect()
}

#[test]
fn the_dashboard_and_the_alerts_name_only_metrics_and_labels_of_the_catalogue() {
    let families = catalogue();
    let mut problems = Vec::new();
    // Whole files: also descriptions, annotations and comments must name real metrics.
    for file in ["prometheus/alerts.yml", "prometheus/alerts_test.yml"] {
        problems.extend(check_references(&families, &format!("deploy/{file}"), &read(file)));
    }
    let dash = dashboard();
    let mut strings = String::new();
    every_string(&dash, &mut strings);
    problems.extend(check_references(&families, "deploy/grafana/dashboards/activator.json", &strings));
    for (title, expr) in dashboard_queries(&dash) {
        problems.extend(check_expr(&families, &format!("dashboard panel '{title}'"), &expr));
    }
    for rule in alert_rules() {
        let name = rule["alert"].as_str().unwrap_or("?");
        problems.extend(check_expr(&families, &format!("alert {name}"), str_at(&rule, "/expr")));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_checker_rejects_unknown_metrics_labels_and_summed_store_gauges() {
    let families = catalogue();
    let bad = check_expr(&families, "x", "sum(rate(activator_mailbox_step_total[5m]))");
    assert_eq!(bad.len(), 1, "{bad:?}");
    let bad = check_expr(&families, "x", r#"sum(rate(activator_dataverse_throttled_total{reason="x"}[5m]))"#);
    assert_eq!(bad.len(), 1, "{bad:?}");
    let bad = check_expr(&families, "x", "sum by (state) (activator_queue_jobs)");
    assert_eq!(bad.len(), 1, "{bad:?}");
    let bad = check_expr(&families, "x", "activator_queue_oldest_waiting_age_seconds > 5");
    assert_eq!(bad.len(), 1, "{bad:?}");
    let bad = check_expr(&families, "x", "activator_ratelimit_wait_seconds_total");
    assert_eq!(bad.len(), 1, "{bad:?}");
    let good = check_expr(
        &families,
        "x",
        r#"histogram_quantile(0.9, sum by (le) (rate(activator_step_duration_seconds_bucket{step="approve",le!=""}[5m])))
           + sum(max by (batch, state) (activator_batch_mailboxes{job="a"})) + max(activator_queue_jobs offset 5m)"#,
    );
    assert!(good.is_empty(), "{good:?}");
}

#[test]
fn the_dashboard_is_well_formed_and_shows_what_operators_watch() {
    let dash = dashboard();
    assert_eq!(str_at(&dash, "/uid"), "activator-overview");
    let panels = dash["panels"].as_array().unwrap();
    let mut ids = BTreeSet::new();
    for p in panels {
        let id = p["id"].as_u64().expect("every panel has a numeric id");
        assert!(ids.insert(id), "panel id {id} is used twice");
        let title = str_at(p, "/title");
        for key in ["x", "y", "w", "h"] {
            assert!(p["gridPos"][key].is_u64(), "panel '{title}' has no gridPos.{key}");
        }
        if p["type"] == "row" {
            continue;
        }
        assert_eq!(str_at(p, "/datasource/uid"), "${datasource}", "panel '{title}'");
        let targets = p["targets"].as_array().unwrap_or_else(|| panic!("panel '{title}' has no targets"));
        assert!(!targets.is_empty(), "panel '{title}' has no query");
        for t in targets {
            assert!(!str_at(t, "/expr").trim().is_empty(), "panel '{title}' has an empty query");
        }
    }
    // The datasource variable defaults to the provisioned Prometheus.
    let provisioned = yaml("grafana/provisioning/datasources/prometheus.yaml");
    let uid = str_at(&provisioned, "/datasources/0/uid");
    let var =
        dash["templating"]["list"].as_array().unwrap().iter().find(|v| v["name"] == "datasource").unwrap();
    assert_eq!(str_at(var, "/current/value"), uid);
    let queries: String = dashboard_queries(&dash).into_iter().map(|(_, e)| e + "\n").collect();
    for metric in [
        "activator_mailbox_steps_total",
        "activator_batch_mailboxes",
        "activator_dataverse_throttled_total",
        "activator_ratelimit_wait_seconds",
        "activator_dataverse_request_duration_seconds",
        "activator_step_duration_seconds",
        "activator_queue_jobs",
        "activator_queue_oldest_waiting_age_seconds",
        "activator_ratelimit_budget_remaining",
        "activator_workers_active",
    ] {
        assert!(queries.contains(metric), "no dashboard panel shows {metric}");
    }
    let provider = yaml("grafana/provisioning/dashboards/activator.yaml");
    assert_eq!(str_at(&provider, "/providers/0/options/path"), "/etc/grafana/dashboards");
}

#[test]
fn the_alert_rules_cover_throttling_failures_stalls_and_workers_and_say_what_to_do() {
    let rules = alert_rules();
    assert!(rules.len() >= 4);
    for rule in &rules {
        let name = str_at(rule, "/alert");
        assert!(!str_at(rule, "/expr").trim().is_empty(), "{name} has no expression");
        let severity = str_at(rule, "/labels/severity");
        assert!(["info", "warning", "critical"].contains(&severity), "{name}: severity {severity}");
        for key in ["summary", "description"] {
            let text = str_at(rule, &format!("/annotations/{key}"));
            assert!(text.len() > 20, "{name}: {key} says too little: {text}");
        }
    }
    let uses = |needle: &str| rules.iter().any(|r| str_at(r, "/expr").contains(needle));
    assert!(uses("rate(activator_dataverse_throttled_total[10m])"), "an alert on sustained throttling");
    assert!(uses(r#"activator_mailbox_steps_total{outcome=~"failed"#), "an alert on rising failures");
    assert!(uses(r#"activator_queue_jobs{state="dead"}"#), "an alert on dead jobs");
    assert!(uses(r#"activator_queue_jobs{state="waiting"}"#), "an alert on a queue not draining");
    assert!(uses(r#"up{job="activator-worker"} == 0"#), "an alert on a worker down");
    assert!(uses("activator_workers_active"), "an alert on no worker at all");
    // The rules' unit tests parse.
    let tests = yaml("prometheus/alerts_test.yml");
    assert_eq!(str_at(&tests, "/rule_files/0"), "alerts.yml");
}

#[test]
fn prometheus_scrapes_the_api_and_the_workers_under_the_alerts_job_names() {
    for file in ["prometheus/prometheus.yml", "prometheus/prometheus-kubernetes.yml"] {
        let config = yaml(file);
        let jobs: Vec<&str> =
            config["scrape_configs"].as_array().unwrap().iter().map(|j| str_at(j, "/job_name")).collect();
        for job in ["activator-api", "activator-worker"] {
            assert!(jobs.contains(&job), "{file} has no scrape job {job}: {jobs:?}");
        }
        // rule_files are resolved relative to the configuration file.
        for rule_file in config["rule_files"].as_array().unwrap() {
            let path = deploy().join("prometheus").join(rule_file.as_str().unwrap());
            assert!(path.exists(), "{file} names {} which does not exist", path.display());
        }
    }
}

#[test]
fn the_compose_file_runs_redis_with_aof_the_api_two_workers_the_simulator_and_monitoring() {
    let compose = yaml("compose.yaml");
    let services = compose["services"].as_object().unwrap();
    for name in ["redis", "api", "worker", "simulator", "prometheus", "grafana"] {
        assert!(services.contains_key(name), "compose.yaml has no service {name}");
    }
    let redis = serde_json::to_string(&services["redis"]["command"]).unwrap();
    assert!(redis.contains(r#""--appendonly","yes""#), "{redis}");
    assert!(services["redis"]["volumes"].as_array().is_some_and(|v| !v.is_empty()));
    assert_eq!(services["simulator"]["profiles"][0], "simulator");
    assert!(str_at(&compose, "/services/worker/deploy/replicas").contains('2'));
    assert_eq!(services["api"]["command"][0], "api");
    assert_eq!(services["worker"]["command"][0], "worker");
    for (name, service) in services {
        // Every bind mount of the stack is a file or folder of deploy/.
        for volume in service["volumes"].as_array().into_iter().flatten() {
            let source = volume.as_str().unwrap().split(':').next().unwrap();
            if source.starts_with("./") {
                assert!(deploy().join(source).exists(), "service {name} mounts {source}, which is missing");
            }
        }
        assert!(service["healthcheck"]["test"].is_array(), "service {name} has no healthcheck");
    }
    // The simulator's env file points the api and workers at the simulator.
    let sim_env = read("simulator.env");
    assert!(sim_env.contains("COMPOSE_PROFILES=simulator"));
    assert!(sim_env.contains("ACTIVATOR_DATAVERSE_URL=http://simulator:8090"));
    assert_eq!(read("secrets/sim-client-secret").trim(), "sim-secret");
}

/// The containers of a Deployment's pod template.
fn containers(deployment: &Value) -> &Vec<Value> {
    deployment["spec"]["template"]["spec"]["containers"].as_array().unwrap()
}

#[test]
fn the_kubernetes_manifests_are_secure_probed_bounded_and_give_workers_time_to_stop() {
    let kustomization = yaml("k8s/kustomization.yaml");
    let listed: Vec<&str> =
        kustomization["resources"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect();
    assert!(!listed.contains(&"secret.example.yaml"), "applying the folder must not apply placeholders");
    let mut objects = Vec::new();
    let mut files: Vec<String> = std::fs::read_dir(deploy().join("k8s"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|f| f.ends_with(".yaml"))
        .collect();
    files.sort();
    for file in &files {
        for doc in yaml_docs(&format!("k8s/{file}")) {
            assert!(doc["metadata"]["namespace"].is_null(), "k8s/{file}: manifests name no namespace");
            objects.push(doc);
        }
    }
    for resource in &listed {
        assert!(files.iter().any(|f| f == resource), "kustomization lists {resource}, which is missing");
    }
    let by_kind = |kind: &'static str| objects.iter().filter(move |o| o["kind"] == kind);
    assert!(by_kind("ConfigMap").count() >= 1 && by_kind("Secret").count() == 1);
    let deployments: BTreeMap<&str, &Value> =
        by_kind("Deployment").map(|d| (str_at(d, "/metadata/name"), d)).collect();
    let api = deployments["activator-api"];
    let worker = deployments["activator-worker"];
    assert_eq!(api["spec"]["replicas"], 2);
    assert_eq!(str_at(&containers(api)[0], "/livenessProbe/httpGet/path"), "/healthz");
    assert_eq!(str_at(&containers(api)[0], "/readinessProbe/httpGet/path"), "/readyz");
    // The worker's grace period: --grace-secs, 20 s by default.
    let args: Vec<&str> =
        containers(worker)[0]["args"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
    let grace: u64 =
        args.iter().position(|a| *a == "--grace-secs").map_or(20, |i| args[i + 1].parse().unwrap());
    let termination = worker["spec"]["template"]["spec"]["terminationGracePeriodSeconds"].as_u64().unwrap();
    assert!(
        termination > grace,
        "terminationGracePeriodSeconds {termination} must exceed the worker's grace {grace}"
    );
    for (name, d) in &deployments {
        let pod = &d["spec"]["template"]["spec"];
        assert_eq!(pod["securityContext"]["runAsNonRoot"], true, "{name}");
        for c in containers(d) {
            assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true, "{name}");
            assert_eq!(c["securityContext"]["allowPrivilegeEscalation"], false, "{name}");
            assert_eq!(str_at(c, "/livenessProbe/httpGet/path"), "/healthz", "{name}");
            assert!(c["readinessProbe"].is_object(), "{name} has no readiness probe");
            for bound in ["requests", "limits"] {
                for resource in ["cpu", "memory"] {
                    assert!(c["resources"][bound][resource].is_string(), "{name}: no {bound}.{resource}");
                }
            }
        }
        // A PodDisruptionBudget selects this Deployment's pods.
        let labels = &d["spec"]["template"]["metadata"]["labels"];
        let covered = by_kind("PodDisruptionBudget").any(|pdb| {
            pdb["spec"]["selector"]["matchLabels"]
                .as_object()
                .unwrap()
                .iter()
                .all(|(k, v)| &labels[k.as_str()] == v)
        });
        assert!(covered, "no PodDisruptionBudget covers {name}");
    }
    assert!(by_kind("Service").any(|s| str_at(s, "/metadata/name") == "activator-api"));
}

/// promtool, when it is on PATH; required when ACTIVATOR_REQUIRE_PROMTOOL=1.
fn promtool() -> Option<PathBuf> {
    let found = std::env::var_os("PATH")
        .and_then(|paths| std::env::split_paths(&paths).map(|p| p.join("promtool")).find(|p| p.is_file()));
    if found.is_none() {
        assert!(
            std::env::var("ACTIVATOR_REQUIRE_PROMTOOL").is_err(),
            "ACTIVATOR_REQUIRE_PROMTOOL is set but promtool is not on PATH"
        );
        eprintln!("promtool is not on PATH: the promtool checks of deploy/prometheus are skipped");
    }
    found
}

fn run_promtool(promtool: &Path, args: &[&str]) {
    let out = Command::new(promtool).args(args).current_dir(deploy()).output().unwrap();
    assert!(
        out.status.success(),
        "promtool {}:\n{}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn promtool_accepts_the_configuration_the_rules_their_tests_and_the_dashboard_queries() {
    let Some(promtool) = promtool() else { return };
    run_promtool(&promtool, &["check", "config", "prometheus/prometheus.yml"]);
    run_promtool(&promtool, &["check", "rules", "prometheus/alerts.yml"]);
    run_promtool(&promtool, &["test", "rules", "prometheus/alerts_test.yml"]);
    // Each dashboard query as a recording rule, Grafana's variables replaced by values.
    let mut rules = String::from("groups:\n  - name: dashboard\n    rules:\n");
    for (i, (_, expr)) in dashboard_queries(&dashboard()).into_iter().enumerate() {
        let expr = expr.replace("$__rate_interval", "1m").replace("$__range", "1h").replace("$batch", ".*");
        rules.push_str(&format!(
            "      - record: dashboard:query{i}\n        expr: {}\n",
            Value::String(expr)
        ));
    }
    let dir = std::env::temp_dir().join(format!("activator-deploy-assets-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("dashboard-rules.yml");
    std::fs::write(&file, rules).unwrap();
    run_promtool(&promtool, &["check", "rules", file.to_str().unwrap()]);
    let _ = std::fs::remove_dir_all(&dir);
}
