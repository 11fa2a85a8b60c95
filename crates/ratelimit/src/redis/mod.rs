//! The limiter shared by every process through Redis: the request and execution-time budgets
//! of an application user live in Redis as GCRA arrival times (one Lua script admits a request
//! against both), and a 429 sets a pause key that every process honours.
//!
//! Times come from Redis's own clock (`TIME`), so processes on machines whose clocks disagree
//! still share one schedule. The concurrency cap stays per process: give each process its share
//! of the application user's parallelism.
//!
//! In front of Redis sits a local smoothing stage. Callers of one process queue in FIFO order
//! behind a turnstile, so only one of them at a time asks Redis and the rest wait locally
//! (otherwise every waiting caller would wake when Redis said "wait" ran out, and all but one
//! would ask in vain). The one at the head first takes a cell of a local GCRA running at the
//! budget's whole target rate with a burst of at most [`SMOOTHING_BURST`], so one process
//! never sends admissions faster than the budget could sustain, even while the shared burst
//! in Redis would let it. Several processes sharing a budget are each limited only at the full
//! rate, so together they still reach it; Redis decides the share.

use crate::concurrency::Concurrency;
use crate::config::{Budgets, Derived};
use crate::gcra::Reservation;
use crate::limiter::{BoxFuture, LimitKind, Limiter, Permit, Snapshot};
use crate::requests::RequestBudget;
use redis::Script;
use redis::aio::ConnectionManager;
use redis_endpoint::RedisEndpoint;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::Mutex as AsyncMutex;
use tokio::time::{Instant, sleep, sleep_until};

/// Wait before trying Redis again after it failed.
const RETRY_AFTER_ERROR: Duration = Duration::from_millis(200);

/// Weight of the newest charge in the running average of a request's cost.
const TYPICAL_WEIGHT: f64 = 0.25;

/// The most requests one process sends back to back after an idle spell (fewer when the
/// budget's own burst is smaller).
const SMOOTHING_BURST: NonZeroU32 = NonZeroU32::new(5).expect("5 is not zero");

#[derive(Debug, Clone)]
struct Keys {
    requests: String,
    exec: String,
    pause: String,
}

/// A [`Limiter`] whose budgets are shared by every process using the same Redis and key.
pub struct RedisLimiter {
    conn: ConnectionManager,
    keys: Keys,
    derived: Derived,
    budgets: Budgets,
    concurrency: Concurrency,
    typical: Mutex<Option<Duration>>,
    /// Requests and wall time of execution left, as of the last admission (at that instant).
    left: Mutex<(f64, Duration, Instant)>,
    paused_until: Mutex<Option<Instant>>,
    /// This process's requests, spaced at the target rate before they reach Redis.
    smoothing: RequestBudget,
    /// One acquirer at a time asks Redis; the rest queue behind it in FIFO order.
    turnstile: AsyncMutex<()>,
    /// Admission scripts sent to Redis, admitted or not.
    admit_calls: AtomicU64,
    admit: Script,
    settle: Script,
    pause: Script,
}

impl std::fmt::Debug for RedisLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisLimiter").field("keys", &self.keys).field("budgets", &self.budgets).finish()
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

impl RedisLimiter {
    /// A limiter for the application user `credential`, keys under `prefix`. Every process
    /// giving the same Redis, prefix and credential shares the budgets.
    pub async fn connect(
        endpoint: impl Into<RedisEndpoint>,
        prefix: &str,
        credential: &str,
        budgets: Budgets,
    ) -> Result<Self, String> {
        let endpoint = endpoint.into();
        let derived = budgets.derive()?;
        let client = endpoint.client().map_err(|e| e.to_string())?;
        // The address only: the URL may hold a password.
        let addr = endpoint.address();
        let conn = ConnectionManager::new(client).await.map_err(|e| {
            format!("cannot connect to Redis at {addr}: {e}; check that it runs and the URL is right")
        })?;
        // One hash tag per credential keeps its keys in one slot of a Redis Cluster.
        let base = format!("{prefix}:ratelimit:{{{credential}}}");
        Ok(Self {
            conn,
            keys: Keys {
                requests: format!("{base}:requests"),
                exec: format!("{base}:exec"),
                pause: format!("{base}:pause"),
            },
            derived,
            budgets,
            concurrency: Concurrency::new(budgets.max_concurrency),
            typical: Mutex::new(None),
            left: Mutex::new((
                f64::from(derived.request_burst.get()),
                derived.exec_tolerance,
                Instant::now(),
            )),
            paused_until: Mutex::new(None),
            smoothing: RequestBudget::new(&Derived {
                request_burst: derived.request_burst.min(SMOOTHING_BURST),
                ..derived
            }),
            turnstile: AsyncMutex::new(()),
            admit_calls: AtomicU64::new(0),
            admit: Script::new(include_str!("admit.lua")),
            settle: Script::new(include_str!("settle.lua")),
            pause: Script::new(include_str!("pause.lua")),
        })
    }

    fn ttl_ms(&self) -> u64 {
        u64::try_from(self.budgets.window.as_millis() * 2).unwrap_or(u64::MAX).max(1000)
    }

    fn to_wall(&self, exec: Duration) -> Duration {
        Duration::try_from_secs_f64(exec.as_secs_f64() / self.derived.exec_per_wall).unwrap_or(Duration::MAX)
    }

    /// Admits once against Redis: Ok(None) when admitted, Ok(Some(wait)) when it must wait.
    async fn try_admit(&self, reserve: Duration) -> Result<Option<Duration>, redis::RedisError> {
        let allow = self.derived.exec_tolerance.saturating_sub(reserve).max(Duration::from_millis(1));
        let mut conn = self.conn.clone();
        self.admit_calls.fetch_add(1, Ordering::Relaxed);
        let (admitted, wait_us, left_requests, left_exec_us): (i64, i64, i64, i64) = self
            .admit
            .key(&self.keys.requests)
            .key(&self.keys.exec)
            .key(&self.keys.pause)
            .arg(micros(self.derived.request_period).max(1))
            .arg(self.derived.request_burst.get())
            .arg(micros(reserve))
            .arg(micros(allow))
            .arg(self.ttl_ms())
            .invoke_async(&mut conn)
            .await?;
        if admitted == 1 {
            let exec = Duration::from_micros(u64::try_from(left_exec_us).unwrap_or(0));
            *self.left.lock().unwrap_or_else(PoisonError::into_inner) =
                (left_requests as f64, exec, Instant::now());
            return Ok(None);
        }
        Ok(Some(Duration::from_micros(u64::try_from(wait_us).unwrap_or(0).max(1000))))
    }

    async fn admit_with(&self, expected: Option<Duration>) -> Permit {
        let reserve = match expected {
            Some(e) => self.to_wall(e),
            None => self.typical.lock().unwrap_or_else(PoisonError::into_inner).unwrap_or(Duration::ZERO),
        };
        let _turn = self.turnstile.lock().await;
        let mut smoothed = false;
        let mut failing_since: Option<Instant> = None;
        loop {
            // A 429 seen by this process holds it back at once, before Redis has heard of it.
            let local_pause = *self.paused_until.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(until) = local_pause.filter(|u| *u > Instant::now()) {
                sleep_until(until).await;
                continue;
            }
            // One local cell per admission: asking Redis again after it said "wait" takes none.
            if !smoothed {
                match self.smoothing.try_take() {
                    Ok(()) => smoothed = true,
                    Err(at) => {
                        sleep_until(at).await;
                        continue;
                    }
                }
            }
            // No slot is held while waiting on the budgets or a pause.
            let slot = self.concurrency.acquire().await;
            match self.try_admit(reserve).await {
                Ok(None) => {
                    return Permit::new(
                        slot,
                        Instant::now(),
                        Reservation { wall: reserve, typical: expected.is_none() },
                    );
                }
                Ok(Some(wait)) => {
                    drop(slot);
                    failing_since = None;
                    sleep(wait).await;
                }
                Err(e) => {
                    drop(slot);
                    let since = *failing_since.get_or_insert_with(Instant::now);
                    if since.elapsed() >= Duration::from_secs(5) {
                        tracing::error!(error = %e, "shared rate limit unavailable in Redis for {:?}; requests wait until it is back", since.elapsed());
                    } else {
                        tracing::warn!(error = %e, "shared rate limit unavailable in Redis; trying again");
                    }
                    sleep(RETRY_AFTER_ERROR).await;
                }
            }
        }
    }

    fn spawn_script(&self, script: Script, key: String, args: Vec<u64>) {
        let mut conn = self.conn.clone();
        tokio::spawn(async move {
            let mut call = script.key(key);
            for a in args {
                call.arg(a);
            }
            if let Err(e) = call.invoke_async::<i64>(&mut conn).await {
                tracing::warn!(error = %e, "could not update the shared rate limit in Redis");
            }
        });
    }
}

impl Limiter for RedisLimiter {
    fn acquire(&self) -> BoxFuture<'_, Permit> {
        Box::pin(self.admit_with(None))
    }

    fn acquire_expecting(&self, expected: Duration) -> BoxFuture<'_, Permit> {
        Box::pin(self.admit_with(Some(expected)))
    }

    fn release(&self, permit: Permit, elapsed: Duration) {
        let cost = self.to_wall(elapsed);
        if permit.reserved.typical {
            let mut typical = self.typical.lock().unwrap_or_else(PoisonError::into_inner);
            *typical = Some(
                typical.map_or(cost, |t| t.mul_f64(1.0 - TYPICAL_WEIGHT) + cost.mul_f64(TYPICAL_WEIGHT)),
            );
        }
        let args = vec![micros(cost), micros(permit.reserved.wall), self.ttl_ms()];
        self.spawn_script(self.settle.clone(), self.keys.exec.clone(), args);
        drop(permit);
    }

    fn pause(&self, retry_after: Duration, limit: Option<LimitKind>) {
        tracing::info!(
            ?retry_after,
            limit = limit.map(LimitKind::name),
            "pausing the application user in every process"
        );
        let until = Instant::now().checked_add(retry_after).unwrap_or_else(crate::config::far_future);
        let mut local = self.paused_until.lock().unwrap_or_else(PoisonError::into_inner);
        *local = Some(local.map_or(until, |u| u.max(until)));
        let ttl = self
            .ttl_ms()
            .max(u64::try_from(retry_after.as_millis()).unwrap_or(u64::MAX).saturating_add(1000));
        self.spawn_script(self.pause.clone(), self.keys.pause.clone(), vec![micros(retry_after), ttl]);
    }

    fn set_concurrency(&self, cap: u32) {
        self.concurrency.set_cap(cap);
    }

    fn snapshot(&self) -> Snapshot {
        // As of this process's last admission, refilled at the budgets' rates since: the
        // budgets are shared and change under other processes' feet, so this is what is left
        // unless others spent some meanwhile.
        let paused_for = self
            .paused_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .map_or(Duration::ZERO, |u| u.saturating_duration_since(Instant::now()));
        let (requests, exec_wall, at) = *self.left.lock().unwrap_or_else(PoisonError::into_inner);
        let since = at.elapsed();
        let burst = f64::from(self.derived.request_burst.get());
        let requests =
            (requests + since.as_secs_f64() / self.derived.request_period.as_secs_f64()).min(burst);
        let exec_wall = exec_wall.saturating_add(since).min(self.derived.exec_tolerance);
        Snapshot {
            requests_available: requests,
            exec_available: exec_wall.mul_f64(self.derived.exec_per_wall),
            concurrency_available: self.concurrency.available(),
            concurrency_cap: self.concurrency.cap(),
            paused_for,
        }
    }
}

#[cfg(test)]
mod tests;
