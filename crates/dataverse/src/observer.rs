//! A hook for whoever counts what the client does (the metrics of the service): every request
//! with its answer and duration, every 429, and every wait for the limiter. The client itself
//! keeps no metrics, so it stays free of any metrics library.

use crate::error::Limit;
use std::time::Duration;

pub trait RequestObserver: Send + Sync + std::fmt::Debug {
    /// A request ended: its operation label, the HTTP status (None when no answer came), and
    /// how long it took.
    fn request(&self, operation: &str, status: Option<u16>, elapsed: Duration);
    /// Dataverse answered 429 for `limit` (None when the answer did not say which).
    fn throttled(&self, limit: Option<Limit>);
    /// A request waited this long for the limiter before it was sent.
    fn waited(&self, wait: Duration);
}
