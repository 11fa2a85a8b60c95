//! Every `activator_*` metric and label the dashboard and the alert rules name is in the
//! catalogue of `metrics::Metrics`, and store gauges are aggregated with `max`.

use super::*;

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
