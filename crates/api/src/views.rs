//! What the API shows of a batch and of a mailbox: counts by state and by step, rate, ETA and
//! throttling for a batch; step, attempts and last error for a mailbox. Times are RFC 3339 in
//! UTC with milliseconds.

use activator_core::Progress;
use activator_core::{BatchState, ItemState, PauseReason};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use store::{Batch, BatchStore, Item, Millis, StoreResult};
use utoipa::ToSchema;

/// Items of each state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Counts {
    pub pending: u64,
    pub queued: u64,
    pub running: u64,
    pub waiting: u64,
    pub verifying: u64,
    pub done: u64,
    pub failed: u64,
    pub skipped: u64,
    pub cancelled: u64,
}

impl Counts {
    fn of(p: &Progress) -> Counts {
        Counts {
            pending: p.count(ItemState::Pending),
            queued: p.count(ItemState::Queued),
            running: p.count(ItemState::Running),
            waiting: p.count(ItemState::Waiting),
            verifying: p.count(ItemState::Verifying),
            done: p.count(ItemState::Done),
            failed: p.count(ItemState::Failed),
            skipped: p.count(ItemState::Skipped),
            cancelled: p.count(ItemState::Cancelled),
        }
    }
}

/// A batch and its progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BatchView {
    pub id: String,
    pub environment: String,
    /// Step names in rollout order: approve, test_and_enable, assign_role, deploy_app.
    pub steps: Vec<String>,
    /// The batch's options (configure_org, overwrite_primary_org, test_timeout_secs,
    /// deploy_timeout_secs).
    #[schema(value_type = Object)]
    pub options: serde_json::Value,
    /// running, paused, completed or cancelled.
    pub state: String,
    pub total: u64,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub updated_at: String,
    pub counts: Counts,
    /// Items by the step they are at, then by state; only non-zero entries.
    pub by_step: BTreeMap<String, BTreeMap<String, u64>>,
    /// done + failed + skipped + cancelled.
    pub finished: u64,
    /// Finished items per second since the batch was created; null before any finished.
    pub rate_per_sec: Option<f64>,
    /// Seconds until every item is finished at that rate; null without a rate or once the
    /// batch has ended.
    pub eta_secs: Option<f64>,
    /// Items now waiting out a 429 from Dataverse.
    pub throttled: u64,
    /// Pending items not started yet: they start as others finish (the canary first).
    pub not_started: u64,
    /// Why the batch paused itself (a failed canary, a tripped circuit breaker, a missing
    /// prerequisite); absent otherwise. Resuming the batch clears it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused_reason: Option<PausedReasonView>,
}

/// Why a batch paused itself, and what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PausedReasonView {
    /// canary, breaker or prerequisite.
    pub by: String,
    /// The error code the failures share.
    pub code: String,
    /// The step that failed, when one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    pub message: String,
    /// What to fix, then how to go on.
    pub remedy: String,
    /// Mailboxes (canary) or outcomes (breaker) that failed, of how many.
    pub failed: u64,
    pub of: u64,
}

impl PausedReasonView {
    pub fn of(r: &PauseReason) -> PausedReasonView {
        PausedReasonView {
            by: r.by.name().to_string(),
            code: r.code.clone(),
            step: r.step.map(|s| s.name().to_string()),
            message: r.message.clone(),
            remedy: r.remedy.clone(),
            failed: r.failed,
            of: r.of,
        }
    }
}

impl BatchView {
    /// The view of `batch` with `progress`, `throttled` items, as of `now`.
    pub fn new(batch: &Batch, progress: &Progress, throttled: u64, now: Millis) -> BatchView {
        let finished = progress.finished();
        let elapsed = (now - batch.created_at).max(1) as f64 / 1000.0;
        let rate = (finished > 0).then(|| finished as f64 / elapsed);
        let eta = rate
            .filter(|_| !batch.state.is_final())
            .map(|r| progress.total.saturating_sub(finished) as f64 / r);
        let by_step = progress
            .by_step
            .iter()
            .map(|(step, states)| {
                let states: BTreeMap<String, u64> =
                    states.iter().filter(|(_, n)| **n > 0).map(|(s, n)| (s.name().to_string(), *n)).collect();
                (step.name().to_string(), states)
            })
            .filter(|(_, states)| !states.is_empty())
            .collect();
        BatchView {
            id: batch.id.to_string(),
            environment: batch.environment.clone(),
            steps: batch.steps.iter().map(|s| s.name().to_string()).collect(),
            options: batch.options.clone(),
            state: batch.state.name().to_string(),
            total: progress.total,
            created_at: rfc3339(batch.created_at),
            updated_at: rfc3339(batch.updated_at),
            counts: Counts::of(progress),
            by_step,
            finished,
            rate_per_sec: rate,
            eta_secs: eta,
            throttled,
            not_started: progress.not_started,
            paused_reason: batch.paused_reason.as_ref().map(PausedReasonView::of),
        }
    }

    /// Whether nothing will change any more: completed, or cancelled with every item final.
    pub fn ended(&self) -> bool {
        self.state == BatchState::Completed.name()
            || (self.state == BatchState::Cancelled.name() && self.finished >= self.total)
    }
}

/// Reads the progress of `batch` and builds its view.
pub async fn batch_view<S: BatchStore>(store: &S, batch: &Batch, now: Millis) -> StoreResult<BatchView> {
    let progress = store.progress(batch.id).await?;
    let throttled =
        if progress.count(ItemState::Waiting) > 0 { count_throttled(store, batch).await? } else { 0 };
    Ok(BatchView::new(batch, &progress, throttled, now))
}

/// Waiting items whose last error is a 429.
async fn count_throttled<S: BatchStore>(store: &S, batch: &Batch) -> StoreResult<u64> {
    let waiting = store::all_items(store, batch.id, Some(ItemState::Waiting)).await?;
    Ok(waiting.iter().filter(|i| i.error.as_ref().is_some_and(|e| e.code == "throttled")).count() as u64)
}

/// The last error of a mailbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorView {
    pub code: String,
    pub message: String,
    /// What to do about it.
    pub remedy: Option<String>,
}

/// One mailbox of a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MailboxView {
    /// Position in the batch, from 0.
    pub index: u32,
    /// The reference as given (mailbox id or email address).
    pub mailbox: String,
    /// The mailbox's id once resolved.
    pub mailbox_id: Option<String>,
    /// pending, queued, running, waiting, verifying, done, failed, skipped or cancelled.
    pub state: String,
    /// The step the mailbox is at.
    pub step: Option<String>,
    /// Attempts made at that step.
    pub attempts: u32,
    /// When a waiting mailbox is due again (RFC 3339).
    pub due_at: Option<String>,
    pub updated_at: String,
    pub error: Option<ErrorView>,
}

impl From<&Item> for MailboxView {
    fn from(item: &Item) -> Self {
        MailboxView {
            index: item.index,
            mailbox: item.mailbox.clone(),
            mailbox_id: item.mailbox_id.map(|id| id.to_string()),
            state: item.state.name().to_string(),
            step: item.step.map(|s| s.name().to_string()),
            attempts: item.attempts,
            due_at: item.due_at.map(rfc3339),
            updated_at: rfc3339(item.updated_at),
            error: item.error.as_ref().map(|e| ErrorView {
                code: e.code.clone(),
                message: e.message.clone(),
                remedy: e.remedy.clone(),
            }),
        }
    }
}

/// `ms` since the Unix epoch as RFC 3339 in UTC with milliseconds, e.g.
/// `2026-11-28T13:05:00.123Z`.
pub fn rfc3339(ms: Millis) -> String {
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.millisecond()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc3339_utc_with_milliseconds() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_795_871_100_123), "2026-11-28T13:05:00.123Z");
    }
}
