//! The in-process limiter: all budgets of one application user, enforced within this process.

use std::time::Duration;

use tokio::sync::Mutex as AsyncMutex;
use tokio::time::{Instant, sleep_until};

use crate::concurrency::Concurrency;
use crate::config::Budgets;
use crate::gcra::ExecBudget;
use crate::limiter::{BoxFuture, LimitKind, Limiter, Permit, Snapshot};
use crate::pause::Pause;
use crate::requests::RequestBudget;

/// The in-process [`Limiter`].
///
/// Admission waits, in order, for the 429 pause, the execution-time budget, a concurrency slot
/// and finally a request cell, then reserves the request's expected execution time. The slot is taken only after the pause and execution-time waits,
/// so no slot is held through a 429 pause, and the request cell is taken last, immediately before
/// the permit is handed out, so cells are counted at the moment requests are sent.
#[derive(Debug)]
pub struct LocalLimiter {
    budgets: Budgets,
    requests: RequestBudget,
    exec: ExecBudget,
    concurrency: Concurrency,
    pause: Pause,
    /// Lets one acquirer at a time wait on the budgets; the rest queue behind it in FIFO order.
    /// Otherwise every waiter would wake each time a gate opens, and all but one would find it
    /// closed again.
    turnstile: AsyncMutex<()>,
}

impl LocalLimiter {
    /// Builds a limiter for `budgets`, which must pass [`Budgets::validate`].
    pub fn new(budgets: Budgets) -> Result<Self, String> {
        let derived = budgets.derive()?;
        Ok(Self {
            budgets,
            requests: RequestBudget::new(&derived),
            exec: ExecBudget::new(&derived),
            concurrency: Concurrency::new(budgets.max_concurrency),
            pause: Pause::default(),
            turnstile: AsyncMutex::new(()),
        })
    }

    /// The budgets this limiter enforces.
    pub fn budgets(&self) -> &Budgets {
        &self.budgets
    }

    async fn admit(&self, expected: Option<Duration>) -> Permit {
        let _turn = self.turnstile.lock().await;
        loop {
            self.pause.wait().await;
            self.exec.wait_for(expected).await;
            let slot = self.concurrency.acquire().await;
            // Queuing for the slot can take long: a 429 may have arrived meanwhile, and the
            // request whose end freed the slot has just charged its execution time.
            if self.pause.remaining().is_some() || self.exec.ready_at_for(expected).is_some() {
                continue;
            }
            match self.requests.try_take() {
                Ok(()) => return Permit::new(slot, Instant::now(), self.exec.reserve(expected)),
                Err(at) => {
                    drop(slot);
                    sleep_until(at).await;
                }
            }
        }
    }
}

impl Limiter for LocalLimiter {
    fn acquire(&self) -> BoxFuture<'_, Permit> {
        Box::pin(self.admit(None))
    }

    fn acquire_expecting(&self, expected: Duration) -> BoxFuture<'_, Permit> {
        Box::pin(self.admit(Some(expected)))
    }

    fn release(&self, permit: Permit, elapsed: Duration) {
        // Charged before the slot is given back, so whoever takes the slot sees the charge.
        self.exec.settle(elapsed, permit.reserved);
        drop(permit);
    }

    fn pause(&self, retry_after: Duration, limit: Option<LimitKind>) {
        self.pause.pause(retry_after, limit);
    }

    fn set_concurrency(&self, cap: u32) {
        let cap = self.concurrency.set_cap(cap);
        tracing::debug!(cap, "concurrency cap set");
    }

    fn snapshot(&self) -> Snapshot {
        Snapshot {
            requests_available: self.requests.available(),
            exec_available: self.exec.available(),
            concurrency_available: self.concurrency.available(),
            concurrency_cap: self.concurrency.cap(),
            paused_for: self.pause.remaining().unwrap_or(Duration::ZERO),
        }
    }
}

#[cfg(test)]
mod tests;
