//! Feeds the Dataverse client's requests, 429s and limiter waits into the metric catalogue.

use dataverse::{Dataverse, Limit, RequestObserver};
use metrics::Metrics;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct RequestMetrics(pub Arc<Metrics>);

impl RequestObserver for RequestMetrics {
    fn request(&self, operation: &str, status: Option<u16>, elapsed: Duration) {
        let status = status.map_or_else(|| "error".to_string(), |s| s.to_string());
        self.0.dataverse_requests_total.with_label_values(&[operation, &status]).inc();
        self.0
            .dataverse_request_duration_seconds
            .with_label_values(&[operation])
            .observe(elapsed.as_secs_f64());
    }

    fn throttled(&self, limit: Option<Limit>) {
        self.0.dataverse_throttled_total.with_label_values(&[limit.map_or("unknown", Limit::name)]).inc();
    }

    fn waited(&self, wait: Duration) {
        self.0.ratelimit_wait_seconds.observe(wait.as_secs_f64());
    }
}

/// Sets `ratelimit_budget_remaining{credential,limit}` from what each application user's
/// limiter has left now (requests, seconds of execution time, concurrency slots).
pub fn refresh_budgets(dataverse: &Dataverse, metrics: &Metrics) {
    for (credential, snapshot) in dataverse.limit_snapshots() {
        for (limit, left) in snapshot.remaining() {
            metrics
                .ratelimit_budget_remaining
                .with_label_values(&[credential.as_str(), limit.name()])
                .set(left);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use dataverse::{Credential, DataverseOptions, Secret};

    #[tokio::test]
    async fn budget_gauges_show_each_limit_in_its_own_unit() {
        let credential = Credential {
            authority: "http://127.0.0.1:9/tenant".into(),
            client_id: "app-a".into(),
            client_secret: Secret::new("s"),
        };
        let options = DataverseOptions { batching: None, ..DataverseOptions::default() };
        let dv = Dataverse::new("http://127.0.0.1:9", vec![credential], options).unwrap();
        let metrics = Metrics::new();
        refresh_budgets(&dv, &metrics);
        let left =
            |limit: &str| metrics.ratelimit_budget_remaining.with_label_values(&["app-a", limit]).get();
        // Aiming at 95 % of 6,000 requests and 1,200 s per window leaves 5 % as the burst.
        assert_eq!(left("requests"), 300.0);
        assert!((left("execution_time") - 60.0).abs() < 1e-6, "{}", left("execution_time"));
        assert_eq!(left("concurrency"), 52.0);
    }
}
