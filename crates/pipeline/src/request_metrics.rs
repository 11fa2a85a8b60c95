//! Feeds the Dataverse client's requests, 429s and limiter waits into the metric catalogue.

use dataverse::{Limit, RequestObserver};
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
