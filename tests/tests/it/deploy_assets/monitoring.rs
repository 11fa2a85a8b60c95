//! The dashboard, the alert rules and the Prometheus configuration: what they show and
//! check, and promtool's verdict on them.

use super::*;

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
