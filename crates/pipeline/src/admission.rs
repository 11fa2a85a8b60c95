//! Which mailboxes may start now. A batch starts no mailbox at once: first the canary (a
//! sample spread over the list) runs all its steps; then new mailboxes start only as the work
//! in hand leaves room, so mailboxes finish steadily from the first minute, the budgets stay
//! busy, and a systematic failure meets few mailboxes before the circuit breaker sees it.
//!
//! "In hand" are the started mailboxes the pipeline itself is working on: pending, queued,
//! running or waiting for a retry. Mailboxes under verification wait on Dataverse (Test &
//! Enable, deployment) and do not count, so the longer those processes take, the more
//! mailboxes are open at once: the rollout keeps as many going as the latency needs (Little's
//! law) without a fixed cap.

use activator_core::{ItemState, Progress, Step};

/// How much work in hand the pipeline keeps per unit of capacity: one application user with
/// Dataverse's default budgets (see `DataverseOps::capacity`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdmissionSettings {
    /// Mailboxes in hand per application user (their limits are per user, so each one adds
    /// as much).
    pub in_hand_per_user: u64,
    /// Of those, mailboxes at the batch's first step (the first write a mailbox meets): a
    /// systematic failure of that step reaches at most about this many before the breaker.
    pub first_step_per_user: u64,
}

/// 48 at the first step per user: with 24, the first step capped a 20,000-mailbox rollout with
/// 10 application users at about 134 mailboxes/s in its middle (its latency times the cap,
/// Little's law); with 48 it ran at about 150, the budgets' pace.
impl Default for AdmissionSettings {
    fn default() -> Self {
        AdmissionSettings { in_hand_per_user: 192, first_step_per_user: 48 }
    }
}

/// What the feeder may start besides the started mailboxes that are due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NewWork {
    /// Nothing new.
    Nothing,
    /// These items (the canary's), if they have not started.
    Items(Vec<u32>),
    /// Up to this many items not started, in list order.
    UpTo(u64),
}

/// The indexes of a canary of `size` out of `total` items: spread evenly over the list, so a
/// list sorted by business unit, name or anything else still gives a sample of all of it.
pub fn canary_indexes(total: u64, size: u64) -> Vec<u32> {
    let size = size.min(total);
    (0..size).filter_map(|i| u32::try_from(i * total / size).ok()).collect()
}

/// Started items the pipeline is working on (not verifying, not finished).
pub fn in_hand(p: &Progress) -> u64 {
    let started_pending = p.count(ItemState::Pending).saturating_sub(p.not_started);
    started_pending + p.count(ItemState::Queued) + p.count(ItemState::Running) + p.count(ItemState::Waiting)
}

/// Of [`in_hand`], those at `first` (the batch's first step).
pub fn in_hand_at(p: &Progress, first: Step) -> u64 {
    // Items not started are pending at the first step.
    let started_pending = p.at(first, ItemState::Pending).saturating_sub(p.not_started);
    started_pending
        + p.at(first, ItemState::Queued)
        + p.at(first, ItemState::Running)
        + p.at(first, ItemState::Waiting)
}

/// How many new mailboxes may start now, with `capacity` application users' worth of budget.
pub fn room_for_new(p: &Progress, first: Option<Step>, capacity: f64, settings: &AdmissionSettings) -> u64 {
    let capacity = capacity.max(1.0);
    let scaled = |per_user: u64| (per_user as f64 * capacity).round() as u64;
    let room = scaled(settings.in_hand_per_user).saturating_sub(in_hand(p));
    let first_room = match first {
        Some(step) => scaled(settings.first_step_per_user).saturating_sub(in_hand_at(p, step)),
        None => room,
    };
    room.min(first_room).min(p.not_started)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn progress(not_started: u64, by_step: &[(Step, ItemState, u64)]) -> Progress {
        let mut p = Progress { total: 1_000, not_started, ..Progress::default() };
        for (step, state, n) in by_step {
            *p.by_state.entry(*state).or_default() += n;
            *p.by_step.entry(*step).or_default().entry(*state).or_default() += n;
        }
        p
    }

    #[test]
    fn a_canary_is_spread_over_the_list() {
        assert_eq!(canary_indexes(2_000, 20)[..4], [0, 100, 200, 300]);
        assert_eq!(canary_indexes(2_000, 20).len(), 20);
        assert_eq!(canary_indexes(5, 10), vec![0, 1, 2, 3, 4]);
        assert!(canary_indexes(100, 0).is_empty());
    }

    #[test]
    fn verifying_mailboxes_leave_room_and_work_in_hand_does_not() {
        let settings = AdmissionSettings { in_hand_per_user: 10, first_step_per_user: 4 };
        // 800 not started (pending at approve), 150 verifying, 5 queued at role assignment.
        let p = progress(
            800,
            &[
                (Step::Approve, ItemState::Pending, 800),
                (Step::TestAndEnable, ItemState::Verifying, 150),
                (Step::AssignRole, ItemState::Queued, 5),
            ],
        );
        assert_eq!(in_hand(&p), 5);
        assert_eq!(room_for_new(&p, Some(Step::Approve), 1.0, &settings), 4, "the first step's share binds");
        assert_eq!(room_for_new(&p, Some(Step::Approve), 3.0, &settings), 12, "each user adds its share");
        // 3 approvals under way: one more may start.
        let p = progress(
            800,
            &[(Step::Approve, ItemState::Pending, 800), (Step::Approve, ItemState::Running, 3)],
        );
        assert_eq!(room_for_new(&p, Some(Step::Approve), 1.0, &settings), 1);
        // Nothing left to start.
        let p = progress(0, &[(Step::DeployApp, ItemState::Verifying, 9)]);
        assert_eq!(room_for_new(&p, Some(Step::Approve), 1.0, &settings), 0);
    }
}
