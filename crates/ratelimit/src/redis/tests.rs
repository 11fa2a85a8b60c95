//! The local smoothing in front of Redis: what reaches Redis, and when. These run against the
//! tests' Redis on the real clock (tokio's paused clock would jump while Redis answers).

#![allow(clippy::unwrap_used)]

use super::*;
use std::sync::Arc;

async fn limiter(prefix: &str, budgets: Budgets) -> Arc<RedisLimiter> {
    let url = testkit::test_redis_url().await;
    Arc::new(RedisLimiter::connect(&url, prefix, "app-1", budgets).await.unwrap())
}

/// Acquires once in each of `n` tasks at the same time; returns when each was admitted.
async fn burst_of(l: &Arc<RedisLimiter>, n: usize) -> Vec<Instant> {
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..n {
        let l = Arc::clone(l);
        tasks.spawn(async move {
            let permit = l.acquire().await;
            let at = permit.granted_at();
            l.release(permit, Duration::ZERO);
            at
        });
    }
    let mut times = tasks.join_all().await;
    times.sort();
    times
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_callers_reaches_redis_no_faster_than_the_target_rate() {
    // 100 requests/s at the target, and a shared burst of 200 that Redis would grant at once.
    let budgets = Budgets {
        window: Duration::from_secs(2),
        max_requests: 400,
        max_exec: Duration::from_secs(100_000),
        max_concurrency: 52,
        target_utilisation: 0.5,
    };
    let prefix = testkit::unique_prefix();
    let l = limiter(&prefix, budgets).await;
    let period = l.derived.request_period;
    assert_eq!(l.derived.request_burst.get(), 200);

    let n = 60;
    let times = burst_of(&l, n).await;
    // Each admission asked Redis once (it never had to refuse): the spacing is local.
    assert_eq!(l.admit_calls.load(Ordering::Relaxed), n as u64);
    let burst = SMOOTHING_BURST.get() as usize;
    let span = times[n - 1] - times[0];
    let least = period * u32::try_from(n - burst).unwrap();
    assert!(span >= least.mul_f64(0.95), "{n} admissions within {span:?}, expected at least {least:?}");
    // And never more than the local burst plus the rate in any stretch.
    for (i, t0) in times.iter().enumerate() {
        let within = times[i..].iter().take_while(|t| **t - *t0 < period * 10).count();
        assert!(within <= burst + 10 + 1, "{within} admissions within {:?}", period * 10);
    }
    testkit::remove_keys(&prefix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_callers_wait_locally_instead_of_asking_redis() {
    // Two processes share 20 requests/s, no burst: Redis decides who goes, each process
    // has 20 callers waiting at once.
    let budgets = Budgets {
        window: Duration::from_secs(2),
        max_requests: 40,
        max_exec: Duration::from_secs(100_000),
        max_concurrency: 52,
        target_utilisation: 1.0,
    };
    let prefix = testkit::unique_prefix();
    let (a, b) = (limiter(&prefix, budgets).await, limiter(&prefix, budgets).await);
    let n = 20;
    let (ta, tb) = tokio::join!(burst_of(&a, n), burst_of(&b, n));

    // Together at the shared rate: 40 admissions at 20/s take about 2 s, not 1.
    let all_done = ta[n - 1].max(tb[n - 1]);
    let first = ta[0].min(tb[0]);
    assert!(all_done - first >= Duration::from_millis(1_800), "{:?}", all_done - first);
    // Without the turnstile every waiting caller asks Redis each time a wait runs out
    // (about 200 calls per process here); with it, about one refusal per admission.
    for (name, l) in [("a", &a), ("b", &b)] {
        let calls = l.admit_calls.load(Ordering::Relaxed);
        assert!(calls <= 3 * n as u64, "process {name}: {calls} admission calls for {n} admissions");
    }
    testkit::remove_keys(&prefix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_process_alone_still_runs_at_the_full_target_rate() {
    // Smoothing at the whole budget's rate must not slow a process down: 50/s target.
    let budgets = Budgets {
        window: Duration::from_secs(1),
        max_requests: 100,
        max_exec: Duration::from_secs(100_000),
        max_concurrency: 52,
        target_utilisation: 0.5,
    };
    let prefix = testkit::unique_prefix();
    let l = limiter(&prefix, budgets).await;
    let n = 80;
    let times = burst_of(&l, n).await;
    let burst = SMOOTHING_BURST.get() as usize;
    // Past the local burst, one admission per period (20 ms).
    let rate = (n - burst) as f64 / (times[n - 1] - times[0]).as_secs_f64();
    assert!((rate - 50.0).abs() <= 50.0 * 0.1, "{rate:.1}/s, target 50/s");
    testkit::remove_keys(&prefix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_snapshot_refills_after_the_last_admission_up_to_the_burst() {
    // 10 requests/s at the target (one per 100 ms), burst 20.
    let budgets = Budgets {
        window: Duration::from_secs(2),
        max_requests: 40,
        max_exec: Duration::from_secs(100_000),
        max_concurrency: 52,
        target_utilisation: 0.5,
    };
    let prefix = testkit::unique_prefix();
    let l = limiter(&prefix, budgets).await;
    let burst = f64::from(l.derived.request_burst.get());
    assert_eq!(burst, 20.0);
    let _ = burst_of(&l, 10).await;
    let spent = l.snapshot().requests_available;
    assert!(spent < burst - 1.0, "{spent} of {burst} left right after ten admissions");
    // Nothing more is sent: what is left grows back at the rate, and stops at the burst.
    let deadline = Instant::now() + Duration::from_secs(10);
    while l.snapshot().requests_available < burst {
        assert!(Instant::now() < deadline, "{} left, never back to {burst}", l.snapshot().requests_available);
        sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(l.snapshot().requests_available, burst);
    assert_eq!(l.snapshot().exec_available, l.derived.exec_tolerance.mul_f64(l.derived.exec_per_wall));
    testkit::remove_keys(&prefix).await;
}
