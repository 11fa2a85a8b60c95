//! The 429 pause: after Dataverse answers 429, nobody sends until its `Retry-After` has passed.
//!
//! Requests sent while throttled extend the server's wait, so one task's 429 must stop every task
//! sharing the credential, and a later, shorter `Retry-After` must not cut an earlier one short.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tokio::time::{Instant, sleep_until};

use crate::config::far_future;
use crate::limiter::LimitKind;

#[derive(Debug, Default)]
pub(crate) struct Pause {
    until: Mutex<Option<Instant>>,
}

impl Pause {
    /// Pauses until `retry_after` from now, unless an existing pause already lasts longer.
    pub(crate) fn pause(&self, retry_after: Duration, limit: Option<LimitKind>) {
        let now = Instant::now();
        let until = now.checked_add(retry_after).unwrap_or_else(far_future);
        let mut current = self.until.lock().unwrap_or_else(PoisonError::into_inner);
        let limit = limit.map_or("unknown", LimitKind::name);
        match *current {
            Some(existing) if existing >= until => {
                tracing::info!(
                    retry_after_ms = retry_after.as_millis() as u64,
                    remaining_ms = existing.saturating_duration_since(now).as_millis() as u64,
                    limit,
                    "429 pause already in force for longer"
                );
            }
            _ => {
                *current = Some(until);
                tracing::info!(
                    retry_after_ms = retry_after.as_millis() as u64,
                    limit,
                    "429 received: pausing all requests"
                );
            }
        }
    }

    /// How long the pause still lasts, if one is in force.
    pub(crate) fn remaining(&self) -> Option<Duration> {
        let until = (*self.until.lock().unwrap_or_else(PoisonError::into_inner))?;
        let left = until.saturating_duration_since(Instant::now());
        (!left.is_zero()).then_some(left)
    }

    /// Waits until no pause is in force.
    pub(crate) async fn wait(&self) {
        loop {
            let until = *self.until.lock().unwrap_or_else(PoisonError::into_inner);
            match until {
                // Re-checked after waking: another 429 may have extended the pause meanwhile.
                Some(until) if until > Instant::now() => sleep_until(until).await,
                _ => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[tokio::test(start_paused = true)]
    async fn not_paused_until_told() {
        let p = Pause::default();
        assert_eq!(p.remaining(), None);
        let start = Instant::now();
        p.wait().await;
        assert_eq!(start.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn shorter_pause_does_not_shorten_longer_one() {
        let p = Pause::default();
        p.pause(500 * MS, Some(LimitKind::Requests));
        p.pause(100 * MS, None);
        assert_eq!(p.remaining(), Some(500 * MS));
    }

    #[tokio::test(start_paused = true)]
    async fn waiters_honour_a_pause_extended_while_they_sleep() {
        let p = std::sync::Arc::new(Pause::default());
        let start = Instant::now();
        p.pause(500 * MS, None);
        let waiter = {
            let p = std::sync::Arc::clone(&p);
            tokio::spawn(async move { p.wait().await })
        };
        tokio::time::sleep(200 * MS).await;
        p.pause(800 * MS, None);
        waiter.await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(start.elapsed(), 1_000 * MS);
    }

    #[tokio::test(start_paused = true)]
    async fn absurd_retry_after_pauses_without_overflowing() {
        let p = Pause::default();
        p.pause(Duration::MAX, None);
        assert!(p.remaining().is_some_and(|left| left > Duration::from_secs(86_400 * 365)));
    }

    #[tokio::test(start_paused = true)]
    async fn remaining_counts_down_to_none() {
        let p = Pause::default();
        p.pause(300 * MS, None);
        tokio::time::advance(100 * MS).await;
        assert_eq!(p.remaining(), Some(200 * MS));
        tokio::time::advance(200 * MS).await;
        assert_eq!(p.remaining(), None);
    }
}
