//! Behaviour variants the simulator can be switched between, at start (flag or profile
//! `[variants]` table) or while running (`POST /_sim/variants`): how approving an email address
//! turns out for the caller.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;
use std::str::FromStr;

/// What happens when a caller writes `emailrouteraccessapproval`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum ApprovalMode {
    /// Every caller may approve, except on the seeded `approval_needs_admin` mailboxes (403).
    #[default]
    Any,
    /// Every approval written by an application user answers 403 `0x80040220`.
    AdminOnly,
    /// Every approval succeeds, but never counts as approved by a Microsoft 365 administrator:
    /// Test & Enable then fails.
    Silent,
}

impl ApprovalMode {
    pub const ALL: [ApprovalMode; 3] = [ApprovalMode::Any, ApprovalMode::AdminOnly, ApprovalMode::Silent];

    pub fn name(self) -> &'static str {
        match self {
            ApprovalMode::Any => "any",
            ApprovalMode::AdminOnly => "admin-only",
            ApprovalMode::Silent => "silent",
        }
    }

    fn allowed() -> String {
        let names: Vec<&str> = Self::ALL.iter().map(|m| m.name()).collect();
        names.join(", ")
    }
}

impl fmt::Display for ApprovalMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ApprovalMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| format!("unknown approval_mode '{s}': use one of {}", Self::allowed()))
    }
}

impl TryFrom<String> for ApprovalMode {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<ApprovalMode> for String {
    fn from(m: ApprovalMode) -> String {
        m.name().to_string()
    }
}

/// The variants in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Variants {
    pub approval_mode: ApprovalMode,
}

impl Variants {
    pub const KEYS: [&'static str; 1] = ["approval_mode"];

    /// These variants with the ones a `POST /_sim/variants` body names changed; keys left out
    /// keep their value. All or nothing: a bad key or value changes nothing.
    pub fn updated(self, body: &[u8]) -> Result<Variants, String> {
        let value: Value =
            serde_json::from_slice(body).map_err(|e| format!("the body is not valid JSON: {e}"))?;
        let Value::Object(map) = value else {
            return Err("the body must be a JSON object, e.g. {\"approval_mode\": \"admin-only\"}".into());
        };
        let mut out = self;
        for (key, value) in map {
            match key.as_str() {
                "approval_mode" => {
                    let text = value.as_str().ok_or_else(|| {
                        format!("approval_mode must be a string: one of {}", ApprovalMode::allowed())
                    })?;
                    out.approval_mode = text.parse()?;
                }
                other => {
                    return Err(format!("unknown variant '{other}': use {}", Self::KEYS.join(", ")));
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_round_trip_and_bad_ones_name_the_allowed_values() {
        for m in ApprovalMode::ALL {
            assert_eq!(m.name().parse::<ApprovalMode>(), Ok(m));
        }
        let err = "admin".parse::<ApprovalMode>().expect_err("rejected");
        assert!(err.contains("any, admin-only, silent"), "{err}");
    }

    #[test]
    fn updates_change_only_what_they_name_and_all_or_nothing() {
        let v = Variants::default();
        let silent = v.updated(br#"{"approval_mode":"silent"}"#).expect("valid");
        assert_eq!(silent.approval_mode, ApprovalMode::Silent);
        assert_eq!(silent.updated(b"{}"), Ok(silent));
        assert!(v.updated(br#"{"approval_mode":"nope"}"#).is_err());
        assert!(v.updated(br#"{"approval_mode":1}"#).is_err());
        assert!(v.updated(br#"{"bogus":"x"}"#).expect_err("unknown").contains("approval_mode"));
        assert!(v.updated(b"[]").is_err());
    }

    #[test]
    fn toml_reads_the_mode_by_name() {
        let v: Variants = toml::from_str("approval_mode = \"admin-only\"").expect("parses");
        assert_eq!(v.approval_mode, ApprovalMode::AdminOnly);
        assert!(toml::from_str::<Variants>("approval_mode = \"x\"").is_err());
    }
}
