//! Wall-clock time as the store keeps it.

use crate::Millis;
use std::time::Duration;

/// Milliseconds since the Unix epoch.
pub fn now() -> Millis {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}

/// `at` plus `d`, in store time.
pub fn after(at: Millis, d: Duration) -> Millis {
    at.saturating_add(i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
