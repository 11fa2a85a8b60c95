//! Behaviour of [`LocalLimiter`] as the Dataverse client sees it, mostly on tokio's paused clock.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep, timeout};

use super::*;

const MS: Duration = Duration::from_millis(1);

/// Dataverse's limits at a 90 % target, the figures these tests' expectations are worked out for.
fn dataverse_at_90() -> Budgets {
    Budgets { target_utilisation: 0.9, ..Budgets::default() }
}

fn limiter(budgets: Budgets) -> Arc<LocalLimiter> {
    Arc::new(LocalLimiter::new(budgets).unwrap())
}

/// The largest total weight of events inside any closed interval of length `window`.
fn max_in_window(events: &[(Instant, Duration)], window: Duration) -> Duration {
    events
        .iter()
        .map(|&(start, _)| {
            events.iter().filter(|(t, _)| *t >= start && *t <= start + window).map(|(_, w)| *w).sum()
        })
        .max()
        .unwrap_or_default()
}

fn spawn_acquire(l: &Arc<LocalLimiter>) -> JoinHandle<(Permit, Instant)> {
    let l = Arc::clone(l);
    tokio::spawn(async move {
        let permit = l.acquire().await;
        (permit, Instant::now())
    })
}

/// Gives a spawned acquire ample (virtual) time to finish, then checks it has not.
async fn assert_waiting<T>(handle: &JoinHandle<T>) {
    sleep(Duration::from_secs(5)).await;
    assert!(!handle.is_finished(), "acquire was admitted");
}

async fn admitted(handle: JoinHandle<(Permit, Instant)>) -> Permit {
    timeout(Duration::from_secs(1), handle).await.expect("acquire still waiting").unwrap().0
}

#[tokio::test(start_paused = true)]
async fn requests_stay_within_every_window_at_the_target_rate() {
    // 18 requests per second with a burst of 4; execution time is not a constraint here.
    let budgets = Budgets {
        window: Duration::from_secs(2),
        max_requests: 40,
        max_exec: Duration::from_secs(1_000_000),
        ..dataverse_at_90()
    };
    let l = limiter(budgets);
    let start = Instant::now();
    let run = Duration::from_secs(6);
    let mut admissions = Vec::new();
    // The count bound keeps a limiter that admits everything from running for long.
    while start.elapsed() < run && admissions.len() < 1_000 {
        let permit = l.acquire().await;
        admissions.push((permit.granted_at(), Duration::from_secs(1)));
        l.release(permit, Duration::ZERO);
    }

    let worst = max_in_window(&admissions, budgets.window).as_secs();
    assert!(worst <= 40, "{worst} requests in one window");
    // Past the initial burst of 4, the rate is the target: 0.9 × 40 / 2 s.
    let rate = (admissions.len() - 4) as f64 / run.as_secs_f64();
    assert!((rate - 18.0).abs() <= 1.8, "{rate} requests/s");
}

#[tokio::test(start_paused = true)]
async fn execution_time_stays_within_every_window_at_the_target_rate() {
    // 0.45 s of execution per second; each request is charged 50 ms when released.
    let budgets = Budgets {
        window: Duration::from_secs(2),
        max_requests: 1_000_000,
        max_exec: Duration::from_secs(1),
        ..dataverse_at_90()
    };
    let l = limiter(budgets);
    let start = Instant::now();
    let run = Duration::from_secs(6);
    let mut charges = Vec::new();
    while start.elapsed() < run && charges.len() < 1_000 {
        let permit = l.acquire().await;
        l.release(permit, 50 * MS);
        charges.push((Instant::now(), 50 * MS));
    }

    let worst = max_in_window(&charges, budgets.window);
    assert!(worst <= budgets.max_exec, "{worst:?} of execution in one window");
    let rate = charges.iter().map(|(_, c)| *c).sum::<Duration>().as_secs_f64() / run.as_secs_f64();
    assert!((rate - 0.45).abs() <= 0.045, "{rate} s of execution per second");
}

#[tokio::test(start_paused = true)]
async fn concurrency_cap_admits_only_below_the_cap() {
    let l = limiter(Budgets { max_concurrency: 6, ..dataverse_at_90() });
    l.set_concurrency(3);
    let mut held = vec![l.acquire().await, l.acquire().await, l.acquire().await];

    let fourth = spawn_acquire(&l);
    assert_waiting(&fourth).await;
    l.release(held.pop().unwrap(), Duration::ZERO);
    held.push(admitted(fourth).await);

    // Lowering the cap below the 3 in flight interrupts nothing; the next waits for in-flight < 1.
    l.set_concurrency(1);
    let fifth = spawn_acquire(&l);
    l.release(held.pop().unwrap(), Duration::ZERO);
    l.release(held.pop().unwrap(), Duration::ZERO);
    assert_waiting(&fifth).await;
    l.release(held.pop().unwrap(), Duration::ZERO);
    held.push(admitted(fifth).await);

    // Raising it to 5 lets four more join the one in flight, and no more.
    l.set_concurrency(5);
    for _ in 0..4 {
        held.push(admitted(spawn_acquire(&l)).await);
    }
    let sixth = spawn_acquire(&l);
    assert_waiting(&sixth).await;
    sixth.abort();
}

#[tokio::test(start_paused = true)]
async fn concurrency_cap_is_clamped_to_one_and_the_budget() {
    let l = limiter(Budgets { max_concurrency: 6, ..dataverse_at_90() });
    l.set_concurrency(100);
    assert_eq!((l.snapshot().concurrency_cap, l.snapshot().concurrency_available), (6, 6));
    l.set_concurrency(0);
    assert_eq!((l.snapshot().concurrency_cap, l.snapshot().concurrency_available), (1, 1));
    let _one = l.acquire().await;
    assert_waiting(&spawn_acquire(&l)).await;
}

#[tokio::test(start_paused = true)]
async fn pause_delays_acquire_without_holding_a_slot() {
    let l = limiter(dataverse_at_90());
    let start = Instant::now();
    l.pause(500 * MS, Some(LimitKind::Requests));
    let waiter = spawn_acquire(&l);
    sleep(100 * MS).await;
    assert!(!waiter.is_finished());
    assert_eq!(l.snapshot().concurrency_available, 52, "a slot is held through the pause");
    let (_permit, at) = waiter.await.unwrap();
    assert!(at - start >= 500 * MS, "admitted after {:?}", at - start);
}

#[tokio::test(start_paused = true)]
async fn shorter_later_pause_does_not_shorten_it() {
    let l = limiter(dataverse_at_90());
    let start = Instant::now();
    l.pause(500 * MS, Some(LimitKind::ExecutionTime));
    l.pause(100 * MS, None);
    let _permit = l.acquire().await;
    assert!(start.elapsed() >= 500 * MS, "admitted after {:?}", start.elapsed());
}

#[tokio::test(start_paused = true)]
async fn longer_later_pause_extends_it_for_those_already_waiting() {
    let l = limiter(dataverse_at_90());
    let start = Instant::now();
    l.pause(500 * MS, None);
    let waiter = spawn_acquire(&l);
    sleep(200 * MS).await;
    l.pause(800 * MS, Some(LimitKind::Concurrency));
    let (_permit, at) = waiter.await.unwrap();
    assert!(at - start >= 1_000 * MS, "admitted after {:?}", at - start);
}

#[tokio::test(start_paused = true)]
async fn pause_arriving_while_queued_for_a_slot_is_honoured() {
    let l = limiter(Budgets { max_concurrency: 1, ..dataverse_at_90() });
    let held = l.acquire().await;
    let start = Instant::now();
    let waiter = spawn_acquire(&l);
    sleep(100 * MS).await;
    l.pause(Duration::from_secs(2), None);
    l.release(held, Duration::ZERO);
    sleep(100 * MS).await;
    assert_eq!(l.snapshot().concurrency_available, 1, "a slot is held through the pause");
    let (_permit, at) = waiter.await.unwrap();
    assert!(at - start >= 2_100 * MS, "admitted after {:?}", at - start);
}

#[tokio::test(start_paused = true)]
async fn execution_charged_by_the_request_that_freed_the_slot_is_honoured() {
    let l = limiter(Budgets { max_concurrency: 1, ..dataverse_at_90() });
    let held = l.acquire().await;
    let waiter = spawn_acquire(&l);
    sleep(100 * MS).await;
    let start = Instant::now();
    // 200 s of execution is 55.6 s of wall time at 3.6 s/s, well past the 33.3 s tolerance.
    l.release(held, Duration::from_secs(200));
    let (_permit, at) = waiter.await.unwrap();
    assert!(at - start >= Duration::from_secs(55), "admitted after {:?}", at - start);
}

#[tokio::test(start_paused = true)]
async fn snapshot_reports_what_is_left() {
    let l = limiter(dataverse_at_90());
    let fresh = l.snapshot();
    assert_eq!(fresh.requests_available, 600.0);
    assert!(fresh.exec_available.abs_diff(Duration::from_secs(120)) < MS, "{fresh:?}");
    assert_eq!((fresh.concurrency_available, fresh.concurrency_cap), (52, 52));
    assert_eq!(fresh.paused_for, Duration::ZERO);

    let permit = l.acquire().await;
    let busy = l.snapshot();
    assert_eq!(busy.concurrency_available, 51);
    assert!((busy.requests_available - 599.0).abs() < 1e-6, "{busy:?}");
    l.release(permit, Duration::from_secs(36));
    let charged = l.snapshot();
    assert_eq!(charged.concurrency_available, 52);
    assert!(charged.exec_available.abs_diff(Duration::from_secs(84)) < MS, "{charged:?}");

    l.pause(Duration::from_secs(1), None);
    assert_eq!(l.snapshot().paused_for, Duration::from_secs(1));
    sleep(400 * MS).await;
    assert_eq!(l.snapshot().paused_for, 600 * MS);
    sleep(600 * MS).await;
    assert_eq!(l.snapshot().paused_for, Duration::ZERO);
}

/// The same limits on the real clock, from several threads, as the service runs it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_clock_requests_stay_within_the_window() {
    // 18 requests per second with a burst of 2.
    let budgets = Budgets { window: Duration::from_secs(1), max_requests: 20, ..dataverse_at_90() };
    let l = limiter(budgets);
    let run = Duration::from_millis(1_500);
    let start = Instant::now();
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let l = Arc::clone(&l);
            tokio::spawn(async move {
                let mut admissions = Vec::new();
                while start.elapsed() < run && admissions.len() < 100 {
                    let permit = l.acquire().await;
                    admissions.push((permit.granted_at(), Duration::from_secs(1)));
                    l.release(permit, Duration::from_millis(1));
                }
                admissions
            })
        })
        .collect();
    let mut admissions = Vec::new();
    for worker in workers {
        admissions.extend(worker.await.unwrap());
    }

    let worst = max_in_window(&admissions, budgets.window).as_secs();
    assert!(worst <= 20, "{worst} requests in one window");
    // 2 + 18 × 1.5 = 29 at best; a slow machine can only lower it, so the floor is loose.
    assert!(admissions.len() >= 20, "only {} admitted", admissions.len());
}

#[tokio::test(start_paused = true)]
async fn long_requests_in_flight_hold_the_execution_budget_before_they_end() {
    // 0.45 s of execution per wall second, about 222 ms of wall-time headroom.
    let budgets = Budgets {
        window: Duration::from_secs(2),
        max_requests: 1_000,
        max_exec: Duration::from_secs(1),
        ..dataverse_at_90()
    };
    let l = limiter(budgets);
    let started = Instant::now();
    let first = l.acquire_expecting(500 * MS).await;
    // The first has not ended, yet its 500 ms (1.11 s of wall time) already counts.
    let second = {
        let l = Arc::clone(&l);
        tokio::spawn(async move { l.acquire_expecting(500 * MS).await })
    };
    sleep(Duration::from_secs(1)).await;
    assert!(!second.is_finished(), "admitted while the first still holds the budget");
    timeout(Duration::from_secs(5), second).await.expect("second never admitted").unwrap();
    assert!(started.elapsed() >= Duration::from_millis(1_100));
    l.release(first, 500 * MS);
}

#[tokio::test(start_paused = true)]
async fn settling_a_shorter_run_than_reserved_gives_the_difference_back() {
    let budgets = Budgets {
        window: Duration::from_secs(2),
        max_requests: 1_000,
        max_exec: Duration::from_secs(1),
        ..dataverse_at_90()
    };
    let l = limiter(budgets);
    let permit = l.acquire_expecting(900 * MS).await;
    let reserved = l.snapshot().exec_available;
    l.release(permit, 10 * MS);
    assert!(l.snapshot().exec_available > reserved, "the unused reservation came back");
}
