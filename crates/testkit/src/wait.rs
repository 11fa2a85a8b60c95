//! Waiting for a condition instead of sleeping a fixed time: the condition is polled, quickly at
//! first and then less often, until it holds or the time is up.

use std::future::Future;
use std::time::{Duration, Instant};

/// The first pause between two polls; it doubles up to [`LONGEST_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_millis(10);
const LONGEST_PAUSE: Duration = Duration::from_millis(250);

/// Polls `condition` until it gives a value and returns it; panics naming `what` when
/// `timeout` passes first. A condition that is a plain test gives `Some(())` (see
/// [`bool::then_some`]).
pub async fn wait_for<T, F, Fut>(what: &str, timeout: Duration, mut condition: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    let mut pause = FIRST_PAUSE;
    loop {
        if let Some(value) = condition().await {
            return value;
        }
        let now = Instant::now();
        if now >= deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(pause.min(deadline - now)).await;
        pause = (pause * 2).min(LONGEST_PAUSE);
    }
}

/// [`wait_for`] for code that is not async: polls on this thread.
pub fn wait_for_blocking<T>(what: &str, timeout: Duration, mut condition: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    let mut pause = FIRST_PAUSE;
    loop {
        if let Some(value) = condition() {
            return value;
        }
        let now = Instant::now();
        if now >= deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        std::thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(LONGEST_PAUSE);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test]
    async fn returns_the_value_once_the_condition_holds() {
        let polls = AtomicU32::new(0);
        let got = wait_for("three polls", Duration::from_secs(5), || async {
            let n = polls.fetch_add(1, Ordering::SeqCst) + 1;
            (n >= 3).then_some(n)
        })
        .await;
        assert_eq!(got, 3);
    }

    #[tokio::test]
    #[should_panic(expected = "timed out after 50ms waiting for nothing")]
    async fn panics_naming_what_it_waited_for() {
        wait_for("nothing", Duration::from_millis(50), || async { None::<()> }).await;
    }

    #[test]
    fn the_blocking_form_polls_too() {
        let mut n = 0;
        assert_eq!(
            wait_for_blocking("n = 2", Duration::from_secs(5), || {
                n += 1;
                (n == 2).then_some(n)
            }),
            2
        );
    }
}
