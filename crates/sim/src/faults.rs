//! Injected faults: server errors, slow responses, dropped connections and tokens that expire
//! early, drawn at the profile's fault rate.

use crate::profile::Range;
use crate::rng::Rng;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// 500 with Dataverse's "unexpected error" body; the operation is not run.
    ServerError,
    /// 503 from the front end, as when the service is busy; the operation is not run.
    Unavailable,
    /// The answer comes this much later than usual.
    Slow(Duration),
    /// The operation runs, then the connection closes without an answer: the client cannot
    /// tell whether its write happened.
    DropConnection,
    /// The caller's token is treated as expired (401); the client must fetch a new one.
    ExpiredToken,
}

impl Fault {
    pub fn name(self) -> &'static str {
        match self {
            Fault::ServerError => "server_error",
            Fault::Unavailable => "unavailable",
            Fault::Slow(_) => "slow",
            Fault::DropConnection => "dropped_connection",
            Fault::ExpiredToken => "expired_token",
        }
    }
}

/// Draws the fault (if any) for one request.
pub fn draw(rng: &mut Rng, rate: f64, slow: Range) -> Option<Fault> {
    if !rng.chance(rate) {
        return None;
    }
    Some(match rng.range(0, 99) {
        0..=29 => Fault::ServerError,
        30..=44 => Fault::Unavailable,
        45..=69 => Fault::Slow(Duration::from_millis(rng.range(slow.min, slow.max))),
        70..=84 => Fault::DropConnection,
        _ => Fault::ExpiredToken,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_zero_never_faults_and_rate_one_always_does() {
        let mut rng = Rng::new(5);
        let slow = Range::new(10, 20);
        assert!((0..1000).all(|_| draw(&mut rng, 0.0, slow).is_none()));
        assert!((0..1000).all(|_| draw(&mut rng, 1.0, slow).is_some()));
    }

    #[test]
    fn every_kind_occurs_and_rate_is_respected() {
        let mut rng = Rng::new(6);
        let slow = Range::new(10, 20);
        let faults: Vec<Fault> = (0..10_000).filter_map(|_| draw(&mut rng, 0.1, slow)).collect();
        assert!((800..1200).contains(&faults.len()), "{}", faults.len());
        for name in ["server_error", "unavailable", "slow", "dropped_connection", "expired_token"] {
            assert!(faults.iter().any(|f| f.name() == name), "{name} never drawn");
        }
    }
}
