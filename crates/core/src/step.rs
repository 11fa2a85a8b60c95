//! The per-mailbox steps of the rollout, in the order they run.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    Approve,
    /// Includes verifying the result.
    TestAndEnable,
    AssignRole,
    DeployApp,
}

impl Step {
    pub const ALL: [Step; 4] = [Step::Approve, Step::TestAndEnable, Step::AssignRole, Step::DeployApp];

    pub fn name(self) -> &'static str {
        match self {
            Step::Approve => "approve",
            Step::TestAndEnable => "test_and_enable",
            Step::AssignRole => "assign_role",
            Step::DeployApp => "deploy_app",
        }
    }

    /// The first of `steps` (in rollout order) after `self`.
    pub fn next_in(self, steps: &[Step]) -> Option<Step> {
        Step::ALL.into_iter().filter(|s| *s > self).find(|s| steps.contains(s))
    }

    /// The first of `steps` in rollout order.
    pub fn first_of(steps: &[Step]) -> Option<Step> {
        Step::ALL.into_iter().find(|s| steps.contains(s))
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Step {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Step::ALL.into_iter().find(|step| step.name() == s).ok_or_else(|| {
            let names: Vec<&str> = Step::ALL.iter().map(|s| s.name()).collect();
            format!("unknown step '{s}': use one of {}", names.join(", "))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_follow_rollout_order_whatever_order_they_are_asked_in() {
        let asked = [Step::DeployApp, Step::Approve];
        assert_eq!(Step::first_of(&asked), Some(Step::Approve));
        assert_eq!(Step::Approve.next_in(&asked), Some(Step::DeployApp));
        assert_eq!(Step::DeployApp.next_in(&asked), None);
    }

    #[test]
    fn names_parse_back_and_unknown_ones_list_the_valid() {
        for s in Step::ALL {
            assert_eq!(s.name().parse::<Step>(), Ok(s));
        }
        assert!("approv".parse::<Step>().expect_err("unknown").contains("test_and_enable"));
    }
}
