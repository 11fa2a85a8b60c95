//! The cost and duration of a rollout, estimated from the planned writes and the client's
//! cost model. The model's figures are the execution times of the operations relative to a
//! read of 100 mailboxes; the plan measures the response time of a read sent alone and scales
//! the rest by it. The duration is what the binding limit (requests or execution time) allows at the
//! client's aim, divided by the share of it a rollout reaches in practice (measured: 0.92).

use activator_core::rollout_plan::{PlanEstimate, PlanTotals};
use ratelimit::Budgets;
use std::collections::BTreeMap;

/// Execution time of each operation, in units of a 100-row mailbox read, as measured against
/// Dataverse's documented costs in the simulator (update 60 ms, associate 50 ms, a 100-row
/// read 50 ms, 5 ms per operation inside a `$batch`).
const UPDATE: f64 = 1.2;
const ASSOCIATE: f64 = 1.0;
const ROLE_CHECK: f64 = 0.8;
/// A `$batch` request's own cost, whatever it holds.
const BATCH_REQUEST: f64 = 0.1;
/// A 100-row read's own cost, in milliseconds, in that same model.
const NOMINAL_READ_MS: f64 = 50.0;
/// A read of a few rows (the business units), in milliseconds, in that same model.
const NOMINAL_LIST_READ_MS: f64 = 40.0;
/// Operations per `$batch` request, on average, as measured by `make bench-plan` (2,000
/// mailboxes: 9,182 operations in 920 requests).
const OPERATIONS_PER_BATCH: f64 = 10.0;
/// Bulk reads per mailbox: planning before each step, and the verification sweeps (measured
/// the same way: 612 reads).
const READS_PER_MAILBOX: f64 = 0.3;
/// The share of the client's aim a rollout reaches between its first and last mailboxes: it
/// holds its aim (`make bench-plan`: 96% of the execution budget in use with 1 and 3 users).
const EFFICIENCY: f64 = 1.0;
/// How long Dataverse takes to Test & Enable a mailbox and then deploy the app to it, when
/// nothing says otherwise. Dataverse documents no figure: this is the simulator's default
/// profile at its slowest (120 s and 60 s), a guess to be replaced by what a tenant shows.
pub const DEFAULT_PROCESS_SECS: f64 = 180.0;

/// What a 100-mailbox read costs Dataverse, in milliseconds, from the response time of a read
/// of a few rows sent alone (`list_read_ms`). The bulk reads' mean response time
/// (`mean_read_ms`) is no measure of it: they queue behind each other and the limiter, and
/// took 40% longer than their execution time against the simulator. It bounds the figure
/// from above all the same.
pub(super) fn calibrated_read_ms(list_read_ms: f64, mean_read_ms: f64) -> f64 {
    let scaled = list_read_ms * NOMINAL_READ_MS / NOMINAL_LIST_READ_MS;
    if mean_read_ms > 0.0 { scaled.min(mean_read_ms) } else { scaled }
}

/// Estimates the rollout of `totals` with `users` application users of `budgets`, scaled by
/// `measured_read_ms` (what a 100-mailbox read costs), when Dataverse's processes take
/// `process_secs` for a mailbox. Twice that is added whatever the users: the canary's
/// mailboxes run to the end before the others start, and the last mailboxes wait for theirs.
pub(super) fn estimate(
    totals: &PlanTotals,
    budgets: &Budgets,
    users: u32,
    measured_read_ms: f64,
    process_secs: f64,
) -> PlanEstimate {
    let writes = |step: &str| totals.writes_by_step.get(step).copied().unwrap_or(0) as f64;
    let updates = writes("approve") + writes("test_and_enable") + writes("deploy_app");
    let roles = writes("assign_role");
    let operations = updates + 2.0 * roles;
    let reads = (totals.mailboxes as f64 * READS_PER_MAILBOX).ceil();
    let batches = (operations / OPERATIONS_PER_BATCH).ceil();
    let requests = batches + reads;
    let scale = if measured_read_ms > 0.0 { measured_read_ms } else { NOMINAL_READ_MS };
    let units = updates * UPDATE + roles * (ASSOCIATE + ROLE_CHECK) + batches * BATCH_REQUEST + reads;
    let execution_secs = units * scale / 1000.0;
    let seconds_for = |users: u32, share: f64| {
        let users = f64::from(users.max(1));
        let window = budgets.window.as_secs_f64();
        let request_rate = budgets.max_requests as f64 / window * share * users;
        let exec_rate = budgets.max_exec.as_secs_f64() / window * share * users;
        (requests / request_rate).max(execution_secs / exec_rate)
    };
    let first_and_last = 2.0 * process_secs.max(0.0);
    let at_aim = |users: u32| first_and_last + seconds_for(users, budgets.target_utilisation) / EFFICIENCY;
    let by_users: BTreeMap<u32, f64> = [1, 3, 10].into_iter().map(|n| (n, round1(at_aim(n)))).collect();
    PlanEstimate {
        requests: requests as u64,
        execution_secs: round1(execution_secs),
        duration_secs: round1(at_aim(users)),
        duration_secs_by_users: by_users,
        limits_allow_secs: round1(seconds_for(users, 1.0)),
        process_secs: round1(process_secs),
        application_users: users,
        measured_read_ms: round1(measured_read_ms),
        basis: format!(
            "an estimate: writes travel about {OPERATIONS_PER_BATCH:.0} to a $batch request; execution times \
             are scaled from the {measured_read_ms:.0} ms a 100-mailbox read was measured to cost while \
             planning; the rollout holds the {:.0}% of the limits the client aims at, after a canary and \
             before a last wait that each take as long as Test & Enable and deployment of one mailbox, \
             assumed {process_secs:.0} s (--process-secs)",
            budgets.target_utilisation * 100.0
        ),
    }
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn more_users_take_proportionally_less_time() {
        let mut totals = PlanTotals { mailboxes: 2_000, ..PlanTotals::default() };
        for step in ["approve", "test_and_enable", "assign_role", "deploy_app"] {
            totals.writes_by_step.insert(step.to_string(), 2_000);
        }
        let budgets = Budgets {
            window: Duration::from_secs(30),
            max_requests: 600,
            max_exec: Duration::from_secs(120),
            ..Budgets::default()
        };
        let e = estimate(&totals, &budgets, 1, 50.0, 12.0);
        // 2,000 mailboxes need about 620 s of execution: the execution budget binds.
        assert!((500.0..700.0).contains(&e.execution_secs), "{e:?}");
        assert!(e.duration_secs > e.limits_allow_secs);
        // Besides the canary and the last wait (twice 12 s), three users take a third of the time.
        let three = e.duration_secs_by_users[&3] - 24.0;
        assert!((three * 3.0 - (e.duration_secs_by_users[&1] - 24.0)).abs() < 1.0, "{e:?}");
        // Slower reads, slower writes: twice the execution time.
        assert!(
            (estimate(&totals, &budgets, 1, 100.0, 12.0).execution_secs / e.execution_secs - 2.0).abs()
                < 0.01
        );
    }
}
