//! What keeps a systematic failure from reaching thousands of mailboxes: the canary that runs
//! to the end before the rest of a batch is written, the circuit breaker that watches the
//! rest, and the reason a batch paused itself.

use crate::Step;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// How many mailboxes the canary holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CanarySetting {
    /// 1% of the batch, at least 10 and at most 50 (the whole batch when it is smaller).
    #[default]
    Auto,
    /// No canary: every mailbox may start at once.
    Off,
    /// This many mailboxes (the whole batch when it is smaller).
    Size(u32),
}

impl CanarySetting {
    pub const MIN: u64 = 10;
    pub const MAX: u64 = 50;

    /// The canary's size for a batch of `total` mailboxes; 0 when there is none.
    pub fn size(self, total: u64) -> u64 {
        match self {
            CanarySetting::Off => 0,
            CanarySetting::Size(n) => u64::from(n).min(total),
            CanarySetting::Auto => (total / 100).clamp(Self::MIN, Self::MAX).min(total),
        }
    }
}

impl fmt::Display for CanarySetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CanarySetting::Auto => f.write_str("auto"),
            CanarySetting::Off => f.write_str("off"),
            CanarySetting::Size(n) => write!(f, "{n}"),
        }
    }
}

impl FromStr for CanarySetting {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "auto" => Ok(CanarySetting::Auto),
            "off" | "0" => Ok(CanarySetting::Off),
            n => n.parse::<u32>().map(CanarySetting::Size).map_err(|_| {
                format!("'{s}' is not a canary size: give a number of mailboxes, 'auto' or 'off'")
            }),
        }
    }
}

impl Serialize for CanarySetting {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            CanarySetting::Size(n) => s.serialize_u32(*n),
            other => s.serialize_str(&other.to_string()),
        }
    }
}

impl<'de> Deserialize<'de> for CanarySetting {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(u32),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Number(0) => Ok(CanarySetting::Off),
            Raw::Number(n) => Ok(CanarySetting::Size(n)),
            Raw::Text(t) => t.parse().map_err(serde::de::Error::custom),
        }
    }
}

/// When the circuit breaker pauses a batch: `window:ratio` (the default `50:0.5`: half or more
/// of the last 50 outcomes of a step are permanent failures with one error code), or off.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum BreakerSetting {
    #[default]
    Default,
    Off,
    Trip {
        window: u32,
        ratio: f64,
    },
}

impl BreakerSetting {
    pub const WINDOW: u32 = 50;
    pub const RATIO: f64 = 0.5;

    /// The window and ratio, or none when the breaker is off.
    pub fn limits(self) -> Option<(u32, f64)> {
        match self {
            BreakerSetting::Default => Some((Self::WINDOW, Self::RATIO)),
            BreakerSetting::Off => None,
            BreakerSetting::Trip { window, ratio } => Some((window, ratio)),
        }
    }

    /// How many failures with one code in the window trip the breaker.
    pub fn threshold(self) -> Option<usize> {
        self.limits().map(|(window, ratio)| ((f64::from(window) * ratio).ceil() as usize).max(1))
    }
}

impl fmt::Display for BreakerSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.limits() {
            None => f.write_str("off"),
            Some((window, ratio)) => write!(f, "{window}:{ratio}"),
        }
    }
}

impl FromStr for BreakerSetting {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s == "off" {
            return Ok(BreakerSetting::Off);
        }
        let bad = || format!("'{s}' is not a breaker setting: write WINDOW:RATIO such as 50:0.5, or off");
        let (window, ratio) = s.split_once(':').ok_or_else(bad)?;
        let window: u32 = window.trim().parse().map_err(|_| bad())?;
        let ratio: f64 = ratio.trim().parse().map_err(|_| bad())?;
        if !(1..=100).contains(&window) {
            return Err(format!("breaker window {window}: give 1 to 100 outcomes"));
        }
        if !(ratio > 0.0 && ratio <= 1.0) {
            return Err(format!("breaker ratio {ratio}: give a share above 0 and at most 1"));
        }
        if window == Self::WINDOW && ratio == Self::RATIO {
            return Ok(BreakerSetting::Default);
        }
        Ok(BreakerSetting::Trip { window, ratio })
    }
}

impl Serialize for BreakerSetting {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for BreakerSetting {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

/// What paused a batch by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PausedBy {
    /// The canary's mailboxes failed too often, or for a reason that concerns the whole org.
    Canary,
    /// Half or more of a step's recent outcomes failed with one error code.
    Breaker,
    /// The organization lacks a prerequisite (server-side synchronization).
    Prerequisite,
}

impl PausedBy {
    pub fn name(self) -> &'static str {
        match self {
            PausedBy::Canary => "canary",
            PausedBy::Breaker => "breaker",
            PausedBy::Prerequisite => "prerequisite",
        }
    }
}

/// Why a batch paused itself: the cause, the error code and what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PauseReason {
    pub by: PausedBy,
    /// The error code the failures share (or the prerequisite's).
    pub code: String,
    /// The step that failed, when one did.
    pub step: Option<Step>,
    /// What happened, in one sentence.
    pub message: String,
    /// What to do, then how to go on.
    pub remedy: String,
    /// Mailboxes (canary) or outcomes (breaker) that failed, and of how many.
    pub failed: u64,
    pub of: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_canary_is_one_percent_between_ten_and_fifty() {
        assert_eq!(CanarySetting::Auto.size(2_000), 20);
        assert_eq!(CanarySetting::Auto.size(300), 10);
        assert_eq!(CanarySetting::Auto.size(7), 7);
        assert_eq!(CanarySetting::Auto.size(100_000), 50);
        assert_eq!(CanarySetting::Off.size(2_000), 0);
        assert_eq!(CanarySetting::Size(5).size(3), 3);
    }

    #[test]
    fn settings_read_as_written_on_the_command_line_and_in_json() {
        assert_eq!("off".parse(), Ok(CanarySetting::Off));
        assert_eq!("25".parse(), Ok(CanarySetting::Size(25)));
        assert!("x".parse::<CanarySetting>().is_err());
        let json: CanarySetting = serde_json::from_str("25").expect("a number");
        assert_eq!(json, CanarySetting::Size(25));
        assert_eq!(serde_json::to_string(&CanarySetting::Off).expect("json"), "\"off\"");
        assert_eq!("50:0.5".parse(), Ok(BreakerSetting::Default));
        assert_eq!("20:0.3".parse(), Ok(BreakerSetting::Trip { window: 20, ratio: 0.3 }));
        assert_eq!(BreakerSetting::Default.threshold(), Some(25));
        assert_eq!("off".parse::<BreakerSetting>().map(|b| b.threshold()), Ok(None));
        for bad in ["50", "0:0.5", "50:0", "50:1.5", "a:b"] {
            assert!(bad.parse::<BreakerSetting>().is_err(), "{bad}");
        }
    }
}
