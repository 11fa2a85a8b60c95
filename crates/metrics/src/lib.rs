//! The metric catalogue of DESIGN.md (prefix `activator_`), registered in one registry per
//! process. Parts of the service take an `Arc<Metrics>` and update what they observe; the
//! api and worker processes serve [`Metrics::render`] at `/metrics`.

pub mod exposition;

use prometheus::core::Collector;
use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};
use std::collections::HashSet;

/// Every metric of the catalogue.
#[derive(Debug, Clone)]
pub struct Metrics {
    registry: Registry,
    /// Step outcomes per mailbox: `step`, `outcome` (done, started, skipped, failed, retried, throttled).
    pub mailbox_steps_total: IntCounterVec,
    /// Retries scheduled: `step`, `reason` (transient, conflict, throttled, timeout).
    pub job_retries_total: IntCounterVec,
    /// Calls to Dataverse: `operation`, `status` (HTTP status, or `error` without one).
    pub dataverse_requests_total: IntCounterVec,
    /// 429 answers by `limit` (requests, execution_time, concurrency, unknown).
    pub dataverse_throttled_total: IntCounterVec,
    pub batches_created_total: IntCounter,
    /// Batches that paused themselves, by `reason` (canary, breaker, prerequisite).
    pub batches_paused_total: IntCounterVec,
    pub dataverse_request_duration_seconds: HistogramVec,
    /// Time a job spends running one step: `step`.
    pub step_duration_seconds: HistogramVec,
    pub ratelimit_wait_seconds: Histogram,
    /// From scheduling an asynchronous process to the sweep seeing its result.
    pub verification_latency_seconds: Histogram,
    /// Mailbox jobs of active batches by `state` (waiting, scheduled, running, dead), computed
    /// from the store when `/metrics` is read (`api::store_gauges`).
    pub queue_jobs: IntGaugeVec,
    /// How long the longest-due waiting job has been due; 0 when none waits.
    pub queue_oldest_waiting_age_seconds: prometheus::Gauge,
    /// Items of active batches (running, paused, cancelling): `batch`, `state`; the label sets
    /// of a batch go when it ends.
    pub batch_mailboxes: IntGaugeVec,
    /// Budget left now: `credential` (client id), `limit` (requests, execution_time,
    /// concurrency), in the limit's unit: requests, seconds of execution time, slots.
    pub ratelimit_budget_remaining: prometheus::GaugeVec,
    pub workers_active: IntGauge,
}

const PREFIX: &str = "activator";

fn counter_vec(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    let metric = IntCounterVec::new(Opts::new(name, help).namespace(PREFIX), labels)
        .unwrap_or_else(|e| panic!("metric {name} is well-formed: {e}"));
    register(registry, Box::new(metric.clone()), name);
    metric
}

fn histogram_vec(
    registry: &Registry,
    name: &str,
    help: &str,
    labels: &[&str],
    buckets: Vec<f64>,
) -> HistogramVec {
    let opts = HistogramOpts::new(name, help).namespace(PREFIX).buckets(buckets);
    let metric =
        HistogramVec::new(opts, labels).unwrap_or_else(|e| panic!("metric {name} is well-formed: {e}"));
    register(registry, Box::new(metric.clone()), name);
    metric
}

fn histogram(registry: &Registry, name: &str, help: &str, buckets: Vec<f64>) -> Histogram {
    let opts = HistogramOpts::new(name, help).namespace(PREFIX).buckets(buckets);
    let metric = Histogram::with_opts(opts).unwrap_or_else(|e| panic!("metric {name} is well-formed: {e}"));
    register(registry, Box::new(metric.clone()), name);
    metric
}

fn gauge_vec(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> IntGaugeVec {
    let metric = IntGaugeVec::new(Opts::new(name, help).namespace(PREFIX), labels)
        .unwrap_or_else(|e| panic!("metric {name} is well-formed: {e}"));
    register(registry, Box::new(metric.clone()), name);
    metric
}

// The catalogue is fixed at compile time: a registration error is a bug in this file, found
// by the first test that builds `Metrics`.
fn register(registry: &Registry, metric: Box<dyn prometheus::core::Collector>, name: &str) {
    registry.register(metric).unwrap_or_else(|e| panic!("metric {name} registers once: {e}"));
}

const SECONDS_FAST: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];
const SECONDS_SLOW: [f64; 10] = [1.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0];

impl Metrics {
    pub fn new() -> Metrics {
        let registry = Registry::new();
        let r = &registry;
        let queue_oldest = prometheus::Gauge::with_opts(
            Opts::new(
                "queue_oldest_waiting_age_seconds",
                "How long the longest-due waiting job of the active batches has been due (0 when none \
                 waits); a job already handed to the queue counts from when it was queued",
            )
            .namespace(PREFIX),
        )
        .unwrap_or_else(|e| panic!("metric queue_oldest_waiting_age_seconds is well-formed: {e}"));
        register(r, Box::new(queue_oldest.clone()), "queue_oldest_waiting_age_seconds");
        let budget = prometheus::GaugeVec::new(
            Opts::new(
                "ratelimit_budget_remaining",
                "Budget an application user (credential) has left now, in the unit of the limit: \
                 requests, seconds of execution time, concurrency slots",
            )
            .namespace(PREFIX),
            &["credential", "limit"],
        )
        .unwrap_or_else(|e| panic!("metric ratelimit_budget_remaining is well-formed: {e}"));
        register(r, Box::new(budget.clone()), "ratelimit_budget_remaining");
        let workers = IntGauge::with_opts(
            Opts::new("workers_active", "Workers of this process taking jobs").namespace(PREFIX),
        )
        .unwrap_or_else(|e| panic!("metric workers_active is well-formed: {e}"));
        register(r, Box::new(workers.clone()), "workers_active");
        let created =
            IntCounter::with_opts(Opts::new("batches_created_total", "Batches created").namespace(PREFIX))
                .unwrap_or_else(|e| panic!("metric batches_created_total is well-formed: {e}"));
        register(r, Box::new(created.clone()), "batches_created_total");
        Metrics {
            mailbox_steps_total: counter_vec(
                r,
                "mailbox_steps_total",
                "Outcomes of mailbox steps",
                &["step", "outcome"],
            ),
            job_retries_total: counter_vec(r, "job_retries_total", "Retries scheduled", &["step", "reason"]),
            dataverse_requests_total: counter_vec(
                r,
                "dataverse_requests_total",
                "Requests sent to Dataverse",
                &["operation", "status"],
            ),
            dataverse_throttled_total: counter_vec(
                r,
                "dataverse_throttled_total",
                "Answers 429 from Dataverse by service protection limit",
                &["limit"],
            ),
            batches_created_total: created,
            batches_paused_total: counter_vec(
                r,
                "batches_paused_total",
                "Batches that paused themselves: a failed canary, a tripped circuit breaker, a missing prerequisite",
                &["reason"],
            ),
            dataverse_request_duration_seconds: histogram_vec(
                r,
                "dataverse_request_duration_seconds",
                "Duration of Dataverse requests",
                &["operation"],
                SECONDS_FAST.to_vec(),
            ),
            step_duration_seconds: histogram_vec(
                r,
                "step_duration_seconds",
                "Time a job takes to run one mailbox step",
                &["step"],
                SECONDS_FAST.to_vec(),
            ),
            ratelimit_wait_seconds: histogram(
                r,
                "ratelimit_wait_seconds",
                "Time requests waited for the rate limiter",
                SECONDS_FAST.to_vec(),
            ),
            verification_latency_seconds: histogram(
                r,
                "verification_latency_seconds",
                "From scheduling Test & Enable or deployment to seeing its result",
                SECONDS_SLOW.to_vec(),
            ),
            queue_jobs: gauge_vec(
                r,
                "queue_jobs",
                "Mailbox jobs of active batches by state, from the store: waiting (due now, pending or \
                 queued), scheduled (a retry or Retry-After due later), running, dead (failed); \
                 mailboxes under verification are not jobs and are left out",
                &["state"],
            ),
            queue_oldest_waiting_age_seconds: queue_oldest,
            batch_mailboxes: gauge_vec(
                r,
                "batch_mailboxes",
                "Mailboxes of active batches (running, paused, cancelling) by item state",
                &["batch", "state"],
            ),
            ratelimit_budget_remaining: budget,
            workers_active: workers,
            registry,
        }
    }

    /// Requests sent to Dataverse by this process so far, whatever their operation and status.
    pub fn dataverse_requests(&self) -> u64 {
        self.dataverse_requests_total
            .collect()
            .iter()
            .flat_map(|family| family.get_metric())
            .map(|m| m.get_counter().get_value() as u64)
            .sum()
    }

    /// The mean duration of the Dataverse requests of `operation` so far, in seconds (0 before
    /// the first).
    pub fn mean_request_seconds(&self, operation: &str) -> f64 {
        let h = self.dataverse_request_duration_seconds.with_label_values(&[operation]);
        let count = h.get_sample_count();
        if count == 0 { 0.0 } else { h.get_sample_sum() / count as f64 }
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Removes the `batch_mailboxes` label sets of every batch not in `keep`.
    pub fn remove_batch_mailboxes_except(&self, keep: &HashSet<String>) {
        let mut gone = Vec::new();
        for family in self.batch_mailboxes.collect() {
            for metric in family.get_metric() {
                let label = |name: &str| {
                    metric.get_label().iter().find(|l| l.name() == name).map(|l| l.value().to_string())
                };
                if let (Some(batch), Some(state)) = (label("batch"), label("state"))
                    && !keep.contains(&batch)
                {
                    gone.push([batch, state]);
                }
            }
        }
        for [batch, state] in gone {
            // Fails only when the label set is gone already (removed by another caller).
            let _ = self.batch_mailboxes.remove_label_values(&[batch.as_str(), state.as_str()]);
        }
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        // Encoding into a Vec fails only for metrics that break the format, which this
        // catalogue does not have; an empty answer would show it.
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            return format!("# metrics could not be encoded: {e}\n");
        }
        String::from_utf8_lossy(&out).into_owned()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_renders_with_its_prefix() {
        let m = Metrics::new();
        m.mailbox_steps_total.with_label_values(&["approve", "done"]).inc();
        m.workers_active.set(2);
        let text = m.render();
        assert!(
            text.contains("activator_mailbox_steps_total{outcome=\"done\",step=\"approve\"} 1"),
            "{text}"
        );
        assert!(text.contains("activator_workers_active 2"), "{text}");
    }

    #[test]
    fn the_whole_catalogue_follows_the_promtool_rules() {
        let m = Metrics::new();
        m.mailbox_steps_total.with_label_values(&["approve", "done"]).inc();
        m.job_retries_total.with_label_values(&["approve", "transient"]).inc();
        m.dataverse_requests_total.with_label_values(&["whoami", "200"]).inc();
        m.dataverse_throttled_total.with_label_values(&["requests"]).inc();
        m.batches_created_total.inc();
        m.dataverse_request_duration_seconds.with_label_values(&["whoami"]).observe(0.1);
        m.step_duration_seconds.with_label_values(&["approve"]).observe(0.2);
        m.ratelimit_wait_seconds.observe(0.0);
        m.verification_latency_seconds.observe(30.0);
        m.queue_jobs.with_label_values(&["waiting"]).set(3);
        m.queue_oldest_waiting_age_seconds.set(1.5);
        m.batch_mailboxes.with_label_values(&["b", "pending"]).set(3);
        m.ratelimit_budget_remaining.with_label_values(&["c", "requests"]).set(10.0);
        m.workers_active.set(1);
        let exp = exposition::check(&m.render()).unwrap_or_else(|p| panic!("{p:#?}"));
        assert_eq!(exp.families.len(), 14, "{:?}", exp.families.keys());
        assert!(exp.families.keys().all(|k| k.starts_with("activator_")));
    }

    #[test]
    fn two_processes_worth_of_registries_do_not_clash() {
        let (a, b) = (Metrics::new(), Metrics::new());
        a.batches_created_total.inc();
        assert_eq!(b.batches_created_total.get(), 0);
    }
}
