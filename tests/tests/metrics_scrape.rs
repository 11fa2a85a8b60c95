//! `activator worker --metrics-listen 127.0.0.1:0` over Redis rolls out a batch of 40
//! mailboxes while its `/metrics` is scraped: the text follows the exposition format and
//! promtool's rules, the step counters add up to the batch's counts, the batch's
//! `batch_mailboxes` label sets go when it completes, and the queue gauges end at 0.

use activator_core::{BatchState, ItemState, Step};
use e2e::{
    CLIENT_LIMITS, QUICK_SIM, Running, activator, create_redis_batch, mailboxes_by_case, start_simulator,
};
use metrics::exposition::{self, Exposition};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use store::{BatchStore, Progress, RedisStore};

/// Starts the worker and returns it with the base URL of its metrics server, read from the
/// `metrics on http://ADDR/metrics` line on its stderr (the rest of which is passed on).
fn worker(sim: &str, redis: &str, namespace: &str) -> (Running, String) {
    let mut child = activator(sim)
        .args(["worker", "--redis", redis, "--namespace", namespace, "--metrics-listen", "127.0.0.1:0"])
        .args(CLIENT_LIMITS)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start activator worker: {e}"));
    let stderr = child.stderr.take().unwrap_or_else(|| panic!("no stderr"));
    let running = Running(child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            eprintln!("worker: {line}");
            if let Some(url) = line.strip_prefix("metrics on ").and_then(|u| u.strip_suffix("/metrics")) {
                let _ = tx.send(url.to_string());
            }
        }
    });
    let url = rx
        .recv_timeout(Duration::from_secs(120))
        .unwrap_or_else(|e| panic!("the worker never said where its metrics are: {e}"));
    (running, url)
}

async fn get(url: &str) -> reqwest::Response {
    reqwest::get(url).await.unwrap_or_else(|e| panic!("GET {url}: {e}"))
}

/// One scrape of `/metrics`, checked for the format and naming rules.
async fn scrape(base: &str) -> (String, Exposition) {
    let answer = get(&format!("{base}/metrics")).await;
    assert_eq!(answer.status(), 200);
    let content_type = answer.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
    assert!(content_type.starts_with("text/plain; version=0.0.4"), "{content_type}");
    let text = answer.text().await.unwrap_or_else(|e| panic!("/metrics body: {e}"));
    let exp =
        exposition::check(&text).unwrap_or_else(|p| panic!("/metrics breaks the format: {p:#?}\n{text}"));
    (text, exp)
}

/// Runs `promtool check metrics` on `text` when promtool is on PATH; without it, fails when
/// ACTIVATOR_REQUIRE_PROMTOOL=1 and says the check was skipped otherwise.
fn promtool_check(text: &str) {
    let spawned = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let required = std::env::var("ACTIVATOR_REQUIRE_PROMTOOL").is_ok_and(|v| v == "1");
            assert!(!required, "ACTIVATOR_REQUIRE_PROMTOOL=1 but promtool is not on PATH");
            eprintln!("promtool is not on PATH: `promtool check metrics` was NOT run on /metrics");
            return;
        }
        Err(e) => panic!("cannot run promtool: {e}"),
    };
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(text.as_bytes()).unwrap_or_else(|e| panic!("promtool stdin: {e}"));
    }
    let out = child.wait_with_output().unwrap_or_else(|e| panic!("promtool: {e}"));
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && said.trim().is_empty(), "promtool check metrics: {said}\n{text}");
    eprintln!("promtool check metrics: no problems");
}

fn sum(exp: &Exposition, family: &str, labels: &[(&str, &str)]) -> f64 {
    exp.family(family).map_or(0.0, |f| f.sum(labels))
}

/// Mailboxes whose steps the counters say ended: the number that failed (at any step), and the
/// number that got past the last step.
fn counted_ends(exp: &Exposition) -> (f64, f64) {
    let steps = "activator_mailbox_steps_total";
    let failed = sum(exp, steps, &[("outcome", "failed")]) + sum(exp, steps, &[("outcome", "timed_out")]);
    let last = Step::DeployApp.name();
    let past_last: f64 = ["done", "verified", "already_done"]
        .iter()
        .map(|outcome| sum(exp, steps, &[("step", last), ("outcome", outcome)]))
        .sum();
    (failed, past_last)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_worker_serves_metrics_that_add_up_and_pass_promtool() {
    let redis = testkit::test_redis_url().await;
    let namespace = testkit::unique_prefix();
    let (_sim, sim) = start_simulator(&[&["--mailboxes", "40"][..], &QUICK_SIM[..]].concat());
    let ids: Vec<String> = mailboxes_by_case(&sim).await.into_values().flatten().collect();
    assert_eq!(ids.len(), 40);
    let (store, batch) = create_redis_batch(&redis, &namespace, ids).await;
    let id = batch.id.to_string();

    let (mut worker, base) = worker(&sim, &redis, &namespace);
    let health = get(&format!("{base}/healthz")).await;
    assert_eq!(health.status(), 200);

    // While the batch runs, its mailboxes show by state and add up to the batch.
    let (_, first) = scrape(&base).await;
    let running = store.batch(batch.id).await.unwrap_or_else(|e| panic!("{e}")).map(|b| b.state);
    if running == Some(BatchState::Running) {
        let mailboxes = sum(&first, "activator_batch_mailboxes", &[("batch", &id)]);
        assert_eq!(mailboxes, 40.0, "batch_mailboxes of the running batch");
    } else {
        eprintln!("the batch completed before the first scrape; its label sets were not seen");
    }

    let deadline = Instant::now() + Duration::from_secs(300);
    let progress = wait_until_completed(&store, batch.id, deadline).await;
    let failed = progress.count(ItemState::Failed) as f64;
    let ended_well = (progress.count(ItemState::Done) + progress.count(ItemState::Skipped)) as f64;
    assert_eq!(progress.finished(), 40, "{progress:?}");

    // Counters are counted before each outcome is stored, so they are in already; the wait
    // only covers a scrape racing the last transition.
    let (text, exp) = loop {
        let (text, exp) = scrape(&base).await;
        if counted_ends(&exp) == (failed, ended_well) || Instant::now() > deadline {
            break (text, exp);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        counted_ends(&exp),
        (failed, ended_well),
        "(failed, past the last step) vs {progress:?}\n{text}"
    );
    eprintln!("40 mailboxes: {failed} failed, {ended_well} done or skipped; the step counters say the same");
    assert!(!text.contains(&id), "the completed batch still has label sets:\n{text}");
    for state in ["waiting", "scheduled", "running", "dead"] {
        assert_eq!(sum(&exp, "activator_queue_jobs", &[("state", state)]), 0.0, "{state}\n{text}");
    }
    let queue_states = exp.family("activator_queue_jobs").map_or(0, |f| f.samples.len());
    assert_eq!(queue_states, 4, "{text}");
    assert_eq!(sum(&exp, "activator_queue_oldest_waiting_age_seconds", &[]), 0.0);
    let credential = [("credential", "51f81489-12ee-4a9e-aaae-a2591f45987d")];
    let budgets = exp.family("activator_ratelimit_budget_remaining").map(|f| f.matching(&credential).count());
    assert_eq!(budgets, Some(3), "{text}");
    assert_eq!(sum(&exp, "activator_workers_active", &[]), 1.0);
    promtool_check(&text);

    // SIGTERM stops the worker, and its metrics server with it.
    let pid = worker.0.id().to_string();
    let status = Command::new("kill").args(["-TERM", &pid]).status().unwrap_or_else(|e| panic!("kill: {e}"));
    assert!(status.success());
    let stop_deadline = Instant::now() + Duration::from_secs(60);
    while worker.0.try_wait().unwrap_or_else(|e| panic!("{e}")).is_none() {
        assert!(Instant::now() < stop_deadline, "the worker did not stop on SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        reqwest::get(format!("{base}/healthz")).await.is_err(),
        "/healthz answers after the worker stopped"
    );
    testkit::remove_keys(&namespace).await;
}

async fn wait_until_completed(store: &RedisStore, batch: store::BatchId, deadline: Instant) -> Progress {
    loop {
        let state = store.batch(batch).await.unwrap_or_else(|e| panic!("{e}")).map(|b| b.state);
        let progress = store.progress(batch).await.unwrap_or_else(|e| panic!("{e}"));
        if state == Some(BatchState::Completed) {
            return progress;
        }
        assert!(Instant::now() < deadline, "the batch did not complete: {progress:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
