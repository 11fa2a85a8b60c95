//! The deployment assets of deploy/ are well-formed and name only metrics that exist: the
//! Grafana dashboard (JSON), the compose file, the Kubernetes manifests, the Prometheus
//! configuration and alert rules and the Grafana provisioning (YAML); every `activator_*`
//! metric and label they name is in the catalogue of `metrics::Metrics`. With promtool on
//! PATH (required when ACTIVATOR_REQUIRE_PROMTOOL=1), the configuration, the rules, their unit
//! tests and every dashboard query are also checked by promtool.

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

mod manifests;
mod metric_references;
mod monitoring;
