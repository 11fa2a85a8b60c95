//! How a process runs jobs: how many at once, how many attempts, how long to finish on stop.

use pipeline::RuntimeSettings;
use std::time::Duration;

#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Jobs")]
pub struct JobArgs {
    /// Jobs run at once by this process (default: 128 for each application user's worth of
    /// budget).
    #[arg(long, value_name = "N")]
    concurrency: Option<usize>,
    /// Attempts per step before a mailbox fails (429 answers do not count).
    #[arg(long, default_value_t = 5, value_name = "N")]
    max_attempts: u32,
    /// How long running jobs may take to finish after SIGTERM.
    #[arg(long, default_value_t = 20, value_name = "SECS")]
    grace_secs: u64,
    /// How long a mailbox may stay running before it is taken as lost (its process died) and
    /// run again; with Redis, a killed worker's mailboxes return to the others after this.
    #[arg(long, default_value_t = 60, value_name = "SECS")]
    reclaim_after_secs: u64,
}

impl JobArgs {
    pub fn settings(&self, worker_name: String) -> RuntimeSettings {
        let mut settings = RuntimeSettings::new(worker_name);
        settings.concurrency = self.concurrency;
        settings.max_attempts = self.max_attempts;
        settings.grace = Duration::from_secs(self.grace_secs);
        settings.feeder.stale_after = Duration::from_secs(self.reclaim_after_secs.max(1));
        settings
    }
}
