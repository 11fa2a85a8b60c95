//! The concurrency budget: a semaphore whose number of permits follows an adjustable cap.
//!
//! Lowering the cap must not interrupt requests in flight, so permits that are held when the cap
//! drops cannot be taken away at once. They are owed instead: while a debt is outstanding, a slot
//! that is given back is forgotten rather than returned, so new requests only start once fewer
//! than `cap` are in flight.

use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

#[derive(Debug)]
struct CapState {
    cap: u32,
    /// Permits held by requests in flight that must be forgotten, not returned, when they end.
    debt: u32,
}

/// A concurrency limit whose cap can change while requests are in flight.
#[derive(Debug)]
pub(crate) struct Concurrency {
    semaphore: Arc<Semaphore>,
    state: Arc<Mutex<CapState>>,
    max: u32,
}

impl Concurrency {
    /// Starts with the cap at `max`.
    pub(crate) fn new(max: u32) -> Self {
        Self {
            semaphore: Arc::new(Semaphore::new(max as usize)),
            state: Arc::new(Mutex::new(CapState { cap: max, debt: 0 })),
            max,
        }
    }

    /// Waits for a free slot (FIFO among waiters).
    pub(crate) async fn acquire(&self) -> Slot {
        match Arc::clone(&self.semaphore).acquire_owned().await {
            Ok(permit) => Slot { permit: Some(permit), state: Arc::clone(&self.state) },
            Err(_) => unreachable!("the concurrency semaphore is never closed"),
        }
    }

    /// Sets the cap, clamped to `1..=max`, and returns the cap in force.
    pub(crate) fn set_cap(&self, cap: u32) -> u32 {
        let cap = cap.clamp(1, self.max);
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if cap > state.cap {
            // Cancelling debt first keeps permits outstanding + debt equal to the slots in use.
            let raise = cap - state.cap;
            let repaid = raise.min(state.debt);
            state.debt -= repaid;
            self.semaphore.add_permits((raise - repaid) as usize);
        } else {
            let cut = state.cap - cap;
            let forgotten = self.semaphore.forget_permits(cut as usize) as u32;
            state.debt += cut - forgotten;
        }
        state.cap = cap;
        cap
    }

    /// The cap in force.
    pub(crate) fn cap(&self) -> u32 {
        self.state.lock().unwrap_or_else(PoisonError::into_inner).cap
    }

    /// Slots that could be taken now without waiting.
    pub(crate) fn available(&self) -> u32 {
        u32::try_from(self.semaphore.available_permits()).unwrap_or(u32::MAX)
    }
}

/// One occupied concurrency slot; dropping it gives the slot back (or pays off cap debt).
#[derive(Debug)]
pub(crate) struct Slot {
    permit: Option<OwnedSemaphorePermit>,
    state: Arc<Mutex<CapState>>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let Some(permit) = self.permit.take() else { return };
        // Under the lock, so that set_cap sees a consistent debt.
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.debt > 0 {
            state.debt -= 1;
            permit.forget();
        } else {
            drop(permit);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn debt(c: &Concurrency) -> u32 {
        c.state.lock().unwrap_or_else(PoisonError::into_inner).debt
    }

    #[tokio::test]
    async fn lowering_the_cap_below_in_flight_is_paid_off_as_slots_end() {
        let c = Concurrency::new(4);
        let held: Vec<Slot> = vec![c.acquire().await, c.acquire().await, c.acquire().await];
        assert_eq!(c.available(), 1);

        assert_eq!(c.set_cap(1), 1);
        // The one free permit is forgotten at once; two more are owed by slots in flight.
        assert_eq!(c.available(), 0);
        assert_eq!(debt(&c), 2);

        let mut held = held.into_iter();
        drop(held.next());
        drop(held.next());
        assert_eq!((c.available(), debt(&c)), (0, 0), "in flight 1 is not below cap 1");
        drop(held.next());
        assert_eq!(c.available(), 1);
    }

    #[tokio::test]
    async fn raising_the_cap_repays_debt_before_adding_permits() {
        let c = Concurrency::new(8);
        let held: Vec<Slot> = vec![c.acquire().await, c.acquire().await, c.acquire().await];
        c.set_cap(1);
        assert_eq!(debt(&c), 2);

        c.set_cap(2);
        assert_eq!((c.available(), debt(&c)), (0, 1));
        c.set_cap(5);
        assert_eq!((c.available(), debt(&c)), (2, 0));

        drop(held);
        assert_eq!(c.available(), 5);
    }

    #[tokio::test]
    async fn cap_is_clamped_to_one_and_max() {
        let c = Concurrency::new(6);
        assert_eq!(c.set_cap(0), 1);
        assert_eq!(c.available(), 1);
        assert_eq!(c.set_cap(100), 6);
        assert_eq!((c.cap(), c.available()), (6, 6));
    }
}
