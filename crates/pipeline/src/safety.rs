//! The canary's verdict and the circuit breaker: when a batch must pause itself, and why.
//!
//! - The canary fails when more than `canary_max_failures` of its mailboxes failed, or when
//!   its failures share a cause that concerns the whole organization: every attempt of a step
//!   failed with one error code (at least two attempts, none succeeded), such as approval
//!   refused for the caller or the role missing in every business unit.
//! - The breaker trips when, among the last `window` outcomes of a step, `ratio × window` or
//!   more are permanent failures with one error code. Retries and 429s are not outcomes.
//!
//! A pause names the cause, the error code and the remedy (taken from a failed mailbox).

use crate::error::PipelineError;
use activator_core::{BatchOptions, ItemState, PauseReason, PausedBy, Step};
use metrics::Metrics;
use std::collections::BTreeMap;
use store::{Batch, BatchStore, Item, OUTCOMES_KEPT};

/// What the canary's mailboxes say.
#[derive(Debug, Clone, PartialEq)]
pub enum CanaryVerdict {
    /// Some have not finished.
    Running,
    Passed,
    Failed(PauseReason),
}

/// Judges the canary from its items and the outcomes recorded while it ran (nothing else
/// runs then, so every outcome is one of its mailboxes').
pub async fn judge_canary<S: BatchStore>(
    store: &S,
    batch: &Batch,
    options: &BatchOptions,
    items: &[Item],
) -> Result<CanaryVerdict, PipelineError> {
    if items.is_empty() {
        return Ok(CanaryVerdict::Passed);
    }
    if items.iter().any(|i| !i.state.is_final()) {
        return Ok(CanaryVerdict::Running);
    }
    let failed: Vec<&Item> = items.iter().filter(|i| i.state == ItemState::Failed).collect();
    let of = items.len() as u64;
    if failed.len() as f64 > options.canary_max_failures * of as f64 {
        let (code, example) = most_common_failure(&failed).unwrap_or_else(|| ("unknown".into(), None));
        let share = options.canary_max_failures * 100.0;
        let message = format!(
            "{} of the {of} canary mailboxes failed (more than {share:.0}%), most with {code}",
            failed.len()
        );
        return Ok(CanaryVerdict::Failed(reason(PausedBy::Canary, code, example, message, failed.len(), of)));
    }
    for step in &batch.steps {
        let outcomes = store.recent_outcomes(batch.id, *step, OUTCOMES_KEPT).await?;
        if outcomes.iter().any(Option::is_none) {
            continue; // the step worked at least once
        }
        if let Some((code, n)) = most_common(outcomes.iter().flatten())
            && n >= 2
            && n == outcomes.len()
        {
            let example = failed.iter().find(|i| i.error.as_ref().is_some_and(|e| e.code == code));
            let message = format!(
                "every {} the canary tried failed with {code} ({n} of {n}): the cause concerns the whole \
                 organization, not single mailboxes",
                step.name()
            );
            return Ok(CanaryVerdict::Failed(reason(
                PausedBy::Canary,
                code,
                example.copied(),
                message,
                failed.len(),
                of,
            )));
        }
    }
    Ok(CanaryVerdict::Passed)
}

/// Whether the last outcomes of `step` trip the breaker: the reason to pause, if so.
pub async fn check_breaker<S: BatchStore>(
    store: &S,
    batch: &Batch,
    options: &BatchOptions,
    step: Step,
) -> Result<Option<PauseReason>, PipelineError> {
    let (Some((window, _)), Some(threshold)) = (options.breaker.limits(), options.breaker.threshold()) else {
        return Ok(None);
    };
    let outcomes = store.recent_outcomes(batch.id, step, window as usize).await?;
    let Some((code, n)) = most_common(outcomes.iter().flatten()) else { return Ok(None) };
    if n < threshold {
        return Ok(None);
    }
    let example = example_failure(store, batch, &code).await?;
    let message = format!(
        "{n} of the last {} outcomes of {} failed with {code}: the failure is systematic (breaker {})",
        outcomes.len(),
        step.name(),
        options.breaker
    );
    Ok(Some(reason(PausedBy::Breaker, code, example.as_ref(), message, n, outcomes.len() as u64)))
}

/// Pauses the batch with `reason` if it is running; counts and logs it when it did.
pub async fn pause<S: BatchStore>(
    store: &S,
    batch: &Batch,
    reason: &PauseReason,
    metrics: &Metrics,
) -> Result<bool, PipelineError> {
    let paused = store.pause_with_reason(batch.id, reason, store::clock::now()).await?;
    if paused {
        metrics.batches_paused_total.with_label_values(&[reason.by.name()]).inc();
        tracing::warn!(batch = %batch.id, by = reason.by.name(), code = %reason.code, "{}", reason.message);
    }
    Ok(paused)
}

/// The reason, with the step and remedy of `example` (a mailbox that failed with `code`).
fn reason(
    by: PausedBy,
    code: String,
    example: Option<&Item>,
    message: String,
    failed: usize,
    of: u64,
) -> PauseReason {
    let what_next = match by {
        PausedBy::Canary => {
            "then run the same `activator run` command again (the canary's failed mailboxes start again \
             first), or resume the batch (`activator resume BATCH`) and start its failed mailboxes again \
             with `activator retry BATCH`"
        }
        PausedBy::Breaker | PausedBy::Prerequisite => {
            "then run the same `activator run` command again (the mailboxes that failed with this code start \
             again first), or resume the batch (`activator resume BATCH`) and start its failed mailboxes \
             again with `activator retry BATCH`"
        }
    };
    let remedy = example.and_then(|i| i.error.as_ref()).and_then(|e| e.remedy.clone());
    let remedy = match remedy {
        // The mailbox's remedy ends by retrying it; for the batch, resuming says that.
        Some(r) => {
            let r = r.trim_end_matches('.');
            let r = r.strip_suffix(", then retry").or_else(|| r.strip_suffix(" then retry")).unwrap_or(r);
            format!("{r}; {what_next}")
        }
        None => format!(
            "Look at the failed mailboxes (`activator failures BATCH`) and fix the cause; {what_next}"
        ),
    };
    PauseReason { by, code, step: example.and_then(|i| i.step), message, remedy, failed: failed as u64, of }
}

/// The most frequent code among `codes`, and how often it came (ties: the smallest code).
fn most_common<'a>(codes: impl Iterator<Item = &'a String>) -> Option<(String, usize)> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for code in codes {
        *counts.entry(code.as_str()).or_default() += 1;
    }
    let best = counts.values().copied().max()?;
    counts.into_iter().find(|(_, n)| *n == best).map(|(code, n)| (code.to_string(), n))
}

fn most_common_failure<'a>(failed: &[&'a Item]) -> Option<(String, Option<&'a Item>)> {
    let (code, _) = most_common(failed.iter().filter_map(|i| i.error.as_ref().map(|e| &e.code)))?;
    let example = failed.iter().find(|i| i.error.as_ref().is_some_and(|e| e.code == code)).copied();
    Some((code, example))
}

/// A failed mailbox of the batch with `code`, for its step and remedy.
async fn example_failure<S: BatchStore>(
    store: &S,
    batch: &Batch,
    code: &str,
) -> Result<Option<Item>, PipelineError> {
    let mut after = None;
    loop {
        let page = store.items(batch.id, Some(ItemState::Failed), after, 1_000).await?;
        let Some(last) = page.last() else { return Ok(None) };
        after = Some(last.index);
        if let Some(found) = page.into_iter().find(|i| i.error.as_ref().is_some_and(|e| e.code == code)) {
            return Ok(Some(found));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_most_common_code_wins_and_ties_go_to_the_smallest() {
        let codes: Vec<String> = ["b", "a", "b", "a", "c"].iter().map(|s| s.to_string()).collect();
        assert_eq!(most_common(codes.iter()), Some(("a".to_string(), 2)));
        assert_eq!(most_common(std::iter::empty()), None);
    }
}
