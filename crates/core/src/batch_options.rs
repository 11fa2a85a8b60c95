//! The options of a batch, read from the free-form `options` the store keeps: what the
//! pipeline may change beyond the mailboxes themselves, and how long it waits for Dataverse.

use crate::safety::{BreakerSetting, CanarySetting};
use serde::{Deserialize, Serialize};
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BatchOptions {
    /// Set the organization to server-side synchronization when it is not.
    pub configure_org: bool,
    /// When ACT sync fails because the mailbox syncs with another organization, mark this
    /// organization primary for it and run Test & Enable again.
    pub overwrite_primary_org: bool,
    /// How long Test & Enable may take before the mailbox fails with a timeout.
    pub test_timeout_secs: u64,
    /// How long the App for Outlook deployment may take.
    pub deploy_timeout_secs: u64,
    /// The mailboxes that run all their steps before any other is written.
    pub canary: CanarySetting,
    /// The canary fails when more than this share of its mailboxes fail.
    pub canary_max_failures: f64,
    /// When the circuit breaker pauses the rest of the batch.
    pub breaker: BreakerSetting,
}

impl Default for BatchOptions {
    fn default() -> Self {
        BatchOptions {
            configure_org: false,
            overwrite_primary_org: false,
            // Microsoft: Test & Enable "may take a few minutes"; many at once take longer.
            test_timeout_secs: 3_600,
            deploy_timeout_secs: 3_600,
            canary: CanarySetting::Auto,
            canary_max_failures: Self::CANARY_MAX_FAILURES,
            breaker: BreakerSetting::Default,
        }
    }
}

impl BatchOptions {
    /// The default share of the canary that may fail.
    pub const CANARY_MAX_FAILURES: f64 = 0.2;

    /// Reads the options of a batch; a batch created with no options (`null` or `{}`) gets
    /// the defaults.
    pub fn from_json(value: &serde_json::Value) -> Result<BatchOptions, String> {
        if value.is_null() {
            return Ok(BatchOptions::default());
        }
        let options: BatchOptions =
            serde_json::from_value(value.clone()).map_err(|e| format!("invalid batch options: {e}"))?;
        options.validate()?;
        Ok(options)
    }

    /// Checks what the types alone do not.
    pub fn validate(&self) -> Result<(), String> {
        if !(0.0..=1.0).contains(&self.canary_max_failures) {
            return Err(format!(
                "invalid batch options: canary_max_failures {} is not a share from 0 to 1",
                self.canary_max_failures
            ));
        }
        Ok(())
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }

    pub fn test_timeout(&self) -> Duration {
        Duration::from_secs(self.test_timeout_secs)
    }

    pub fn deploy_timeout(&self) -> Duration {
        Duration::from_secs(self.deploy_timeout_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn missing_options_take_defaults_and_unknown_ones_are_refused() {
        assert_eq!(BatchOptions::from_json(&json!(null)), Ok(BatchOptions::default()));
        let o = BatchOptions::from_json(&json!({"configure_org": true})).expect("valid");
        assert!(o.configure_org && !o.overwrite_primary_org);
        let err = BatchOptions::from_json(&json!({"configure_orgs": true})).expect_err("typo");
        assert!(err.contains("configure_orgs"), "{err}");
    }

    #[test]
    fn canary_and_breaker_read_as_written() {
        let o = BatchOptions::from_json(
            &json!({"canary": "off", "breaker": "20:0.4", "canary_max_failures": 0.1}),
        )
        .expect("valid");
        assert_eq!(o.canary, CanarySetting::Off);
        assert_eq!(o.breaker, BreakerSetting::Trip { window: 20, ratio: 0.4 });
        assert_eq!(
            BatchOptions::from_json(&json!({"canary": 30})).expect("valid").canary,
            CanarySetting::Size(30)
        );
        assert!(BatchOptions::from_json(&json!({"canary_max_failures": 2.0})).is_err());
        assert!(BatchOptions::from_json(&json!({"breaker": "fast"})).is_err());
    }
}
