//! Several limiter users against one Redis share one budget: together they run at the
//! target rate and no window ever holds more than the limit. Each behaviour is shown against
//! the tests' plain Redis and against one that speaks only TLS, wants a password and a client
//! certificate.

use ratelimit::{Budgets, Limiter, RedisLimiter};
use redis_endpoint::{ClientIdentity, RedisEndpoint};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use testkit::{ClientCerts, TLS_REDIS_PASSWORD, TlsRedis};

/// Runs each named behaviour twice: `plain::name` on the tests' Redis, `tls::name` over TLS.
macro_rules! on_plain_and_tls_redis {
    ($($name:ident),* $(,)?) => {
        mod plain {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(redis_endpoint::RedisEndpoint::new(testkit::test_redis_url().await)).await;
                }
            )*
        }
        mod tls {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let redis = testkit::TlsRedis::start(testkit::ClientCerts::Required);
                    super::$name(super::tls_endpoint(&redis)).await;
                }
            )*
        }
    };
}

on_plain_and_tls_redis!(
    three_users_together_stay_within_the_shared_request_budget,
    a_pause_in_one_process_holds_back_the_others,
    different_application_users_do_not_share_budgets,
    after_a_429_this_process_sends_nothing_until_the_wait_is_over,
);

fn tls_endpoint(redis: &TlsRedis) -> RedisEndpoint {
    RedisEndpoint::new(&redis.url).with_ca_file(&redis.ca_file).with_client_identity(ClientIdentity {
        cert_file: redis.client_cert_file.clone(),
        key_file: redis.client_key_file.clone(),
    })
}

fn budgets() -> Budgets {
    Budgets {
        window: Duration::from_secs(2),
        max_requests: 60,
        max_exec: Duration::from_secs(1000),
        max_concurrency: 52,
        target_utilisation: 0.9,
    }
}

async fn three_users_together_stay_within_the_shared_request_budget(endpoint: RedisEndpoint) {
    let prefix = testkit::unique_prefix();
    let admissions = Arc::new(Mutex::new(Vec::new()));
    let run = Duration::from_secs(8);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..3 {
        // Each user has its own connection, as separate processes would.
        let limiter = RedisLimiter::connect(&endpoint, &prefix, "app-1", budgets()).await.unwrap();
        let admissions = admissions.clone();
        tasks.push(tokio::spawn(async move {
            while started.elapsed() < run {
                let permit = limiter.acquire().await;
                admissions.lock().unwrap().push(started.elapsed());
                limiter.release(permit, Duration::from_millis(1));
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let mut times = admissions.lock().unwrap().clone();
    times.sort();
    let window = budgets().window;
    let worst =
        times.iter().map(|&t0| times.iter().filter(|&&t| t >= t0 && t < t0 + window).count()).max().unwrap();
    assert!(worst <= 60, "{worst} admissions in one {window:?} window, limit 60");
    // After the initial burst, the combined rate is the target: 0.9 × 60 / 2 s = 27/s.
    let after_burst: Vec<_> = times.iter().filter(|t| **t >= Duration::from_secs(1)).collect();
    let span = (run - Duration::from_secs(1)).as_secs_f64();
    let rate = after_burst.len() as f64 / span;
    assert!((rate - 27.0).abs() <= 27.0 * 0.05, "combined rate {rate:.1}/s, target 27/s");
}

async fn a_pause_in_one_process_holds_back_the_others(endpoint: RedisEndpoint) {
    let prefix = testkit::unique_prefix();
    let a = RedisLimiter::connect(&endpoint, &prefix, "app-1", budgets()).await.unwrap();
    let b = RedisLimiter::connect(&endpoint, &prefix, "app-1", budgets()).await.unwrap();
    a.pause(Duration::from_millis(800), None);
    // The pause reaches Redis asynchronously; give the other user a moment to see it.
    let started = Instant::now();
    testkit::wait_for("the other user to be held back", Duration::from_secs(2), || async {
        let permit = b.acquire().await;
        let waited = started.elapsed();
        b.release(permit, Duration::from_millis(1));
        (waited >= Duration::from_millis(700)).then_some(())
    })
    .await;
}

async fn different_application_users_do_not_share_budgets(endpoint: RedisEndpoint) {
    let prefix = testkit::unique_prefix();
    let tight = Budgets { max_requests: 2, target_utilisation: 1.0, ..budgets() };
    let a = RedisLimiter::connect(&endpoint, &prefix, "app-1", tight).await.unwrap();
    let b = RedisLimiter::connect(&endpoint, &prefix, "app-2", tight).await.unwrap();
    a.pause(Duration::from_secs(30), None);
    let started = Instant::now();
    let permit =
        tokio::time::timeout(Duration::from_secs(5), b.acquire()).await.expect("app-2 is not paused");
    b.release(permit, Duration::ZERO);
    assert!(started.elapsed() < Duration::from_secs(5));
}

async fn after_a_429_this_process_sends_nothing_until_the_wait_is_over(endpoint: RedisEndpoint) {
    let prefix = testkit::unique_prefix();
    let limiter = RedisLimiter::connect(&endpoint, &prefix, "app-1", budgets()).await.unwrap();
    limiter.pause(Duration::from_millis(500), None);
    let started = Instant::now();
    let permit = limiter.acquire().await;
    assert!(started.elapsed() >= Duration::from_millis(490), "admitted after {:?}", started.elapsed());
    limiter.release(permit, Duration::ZERO);
}

#[tokio::test]
async fn a_redis_password_never_appears_in_errors() {
    let err = RedisLimiter::connect("redis://:hunter2@127.0.0.1:1", "p", "app", budgets()).await.unwrap_err();
    assert!(!err.contains("hunter2"), "{err}");
}

#[tokio::test]
async fn over_tls_a_server_not_signed_by_the_given_ca_is_refused_without_showing_the_password() {
    let redis = TlsRedis::start(ClientCerts::Optional);
    let other = TlsRedis::start(ClientCerts::Optional);
    let wrong_ca = RedisEndpoint::new(&redis.url).with_ca_file(&other.ca_file);
    let err = RedisLimiter::connect(wrong_ca, "p", "app", budgets()).await.unwrap_err();
    assert!(!err.contains(TLS_REDIS_PASSWORD), "{err}");
    assert!(err.contains("127.0.0.1"), "the error names the address: {err}");
}

#[tokio::test]
async fn over_tls_a_server_that_requires_a_client_certificate_refuses_a_client_without_one() {
    let redis = TlsRedis::start(ClientCerts::Required);
    let without_identity = RedisEndpoint::new(&redis.url).with_ca_file(&redis.ca_file);
    let err = RedisLimiter::connect(without_identity, "p", "app", budgets()).await.unwrap_err();
    assert!(!err.contains(TLS_REDIS_PASSWORD), "{err}");
}
