//! The batch of `activator run`: one list in one state file. The same environment, steps,
//! options and list always name the same batch, so running the command again resumes it
//! (finished mailboxes are never redone), and a rerun may first send the failed ones again.

use crate::error::PipelineError;
use activator_core::{BatchOptions, BatchState, ItemState, Progress, Selection, Step};
use std::collections::BTreeMap;
use store::{Batch, BatchStore, NewBatch, batch_control};

/// What `activator run` was asked to roll out.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRequest {
    pub environment: String,
    /// In any order, possibly repeated; the batch keeps them once each, in rollout order.
    pub steps: Vec<Step>,
    pub mailboxes: Vec<String>,
    /// The selection the mailboxes were found by, if they were: it, not the list it gave this
    /// time, names the batch (a rerun finds its batch although mailboxes changed state since).
    pub selection: Option<Selection>,
    pub options: BatchOptions,
    /// Failed mailboxes of an earlier run of this list start again.
    pub retry_failed: bool,
}

/// The batch a run works on.
#[derive(Debug, Clone, PartialEq)]
pub enum RunBatch {
    /// Created by this run.
    Created(Batch),
    /// Created by an earlier run of the same list; `before` is where it stood, `retried` how
    /// many failed mailboxes were sent again.
    Resumed { batch: Batch, before: Progress, retried: u64 },
}

impl RunBatch {
    pub fn batch(&self) -> &Batch {
        match self {
            RunBatch::Created(batch) | RunBatch::Resumed { batch, .. } => batch,
        }
    }
}

/// Why a run cannot go on with its batch.
#[derive(Debug, thiserror::Error)]
pub enum RunBatchError {
    #[error("batch {0} was cancelled; start a new state file to run this list again")]
    Cancelled(store::BatchId),
    #[error(transparent)]
    Control(#[from] batch_control::ControlError),
    #[error(transparent)]
    Store(#[from] store::StoreError),
}

impl From<RunBatchError> for PipelineError {
    fn from(e: RunBatchError) -> Self {
        match e {
            RunBatchError::Store(e) => PipelineError::Store(e),
            other => PipelineError::Options(other.to_string()),
        }
    }
}

/// The steps once each, in rollout order.
pub fn rollout_order(steps: &[Step]) -> Vec<Step> {
    let mut steps = steps.to_vec();
    steps.sort();
    steps.dedup();
    steps
}

/// Creates the run's batch, or takes up the one an earlier run of the same request created:
/// a paused batch runs again, and with `retry_failed` its failed mailboxes start again.
pub async fn create_or_resume<S: BatchStore>(
    store: &S,
    request: &RunRequest,
) -> Result<RunBatch, RunBatchError> {
    let steps = rollout_order(&request.steps);
    let new = NewBatch {
        idempotency_key: Some(match &request.selection {
            None => run_key(&request.environment, &steps, &request.mailboxes, &request.options),
            Some(selection) => {
                let named = serde_json::to_string(selection).unwrap_or_default();
                run_key(&request.environment, &steps, &[format!("select:{named}")], &request.options)
            }
        }),
        environment: request.environment.clone(),
        steps,
        options: request.options.to_json(),
        mailboxes: request.mailboxes.clone(),
    };
    let (batch, created) = store.create_batch(new, store::clock::now()).await?;
    if created {
        return Ok(RunBatch::Created(batch));
    }
    let before = store.progress(batch.id).await?;
    if batch.state == BatchState::Cancelled {
        return Err(RunBatchError::Cancelled(batch.id));
    }
    let mut retried =
        if request.retry_failed { batch_control::retry(store, batch.id).await?.retried } else { 0 };
    if store.batch(batch.id).await?.is_some_and(|b| b.state == BatchState::Paused) {
        // A rerun is how `run` goes on after a self-pause: the cause's mailboxes first.
        retried += batch_control::retry_cause_and_resume(store, batch.id).await?.retried;
        batch_control::resume(store, batch.id).await?;
    }
    let batch = store.batch(batch.id).await?.unwrap_or(batch);
    Ok(RunBatch::Resumed { batch, before, retried })
}

/// Same environment, steps, options and list (addresses in any case): the same key, so a rerun
/// finds its batch. Stable across builds and platforms (FNV-1a, unlike std's hasher).
pub fn run_key(environment: &str, steps: &[Step], mailboxes: &[String], options: &BatchOptions) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |s: &str| {
        for b in s.bytes().chain([0u8]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    eat(environment);
    eat(&step_names(steps));
    eat(&options.to_json().to_string());
    for m in mailboxes {
        eat(&m.to_lowercase());
    }
    format!("run:{h:016x}:{}", mailboxes.len())
}

/// `approve,test_and_enable,...`
pub fn step_names(steps: &[Step]) -> String {
    steps.iter().map(|s| s.name()).collect::<Vec<_>>().join(",")
}

/// The failed mailboxes of `batch`, counted by (error code, remedy).
pub async fn failure_summary<S: BatchStore>(
    store: &S,
    batch: &Batch,
) -> Result<BTreeMap<(String, String), u64>, store::StoreError> {
    let mut out = BTreeMap::new();
    for item in store::all_items(store, batch.id, Some(ItemState::Failed)).await? {
        let (code, remedy) = item
            .error
            .map(|e| (e.code, e.remedy.unwrap_or_default()))
            .unwrap_or_else(|| ("unknown".into(), String::new()));
        *out.entry((code, remedy)).or_insert(0) += 1;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use store::{ItemError, SqliteStore, Transition};

    fn request(mailboxes: &[&str]) -> RunRequest {
        RunRequest {
            environment: "default".into(),
            steps: vec![Step::AssignRole, Step::Approve, Step::Approve],
            mailboxes: mailboxes.iter().map(|m| m.to_string()).collect(),
            selection: None,
            options: BatchOptions::default(),
            retry_failed: false,
        }
    }

    async fn fail(store: &SqliteStore, batch: &Batch, index: u32, code: &str, remedy: Option<&str>) {
        let t = Transition {
            index,
            from: ItemState::Pending,
            from_step: Some(Step::Approve),
            to: ItemState::Failed,
            step: Some(Step::Approve),
            attempts: 1,
            due_at: None,
            error: Some(ItemError {
                code: code.into(),
                message: "m".into(),
                remedy: remedy.map(str::to_string),
            }),
            mailbox_id: None,
            outcome: None,
        };
        assert!(store.transition(batch.id, t, store::clock::now()).await.expect("moved"));
    }

    #[test]
    fn the_key_ignores_address_case_and_changes_with_anything_else() {
        let opts = BatchOptions::default();
        let steps = [Step::Approve];
        let list = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let key = run_key("prod", &steps, &list(&["A@x.com"]), &opts);
        assert_eq!(key, run_key("prod", &steps, &list(&["a@X.com"]), &opts));
        assert!(key.starts_with("run:") && key.ends_with(":1"), "{key}");
        assert_ne!(key, run_key("test", &steps, &list(&["a@x.com"]), &opts));
        assert_ne!(key, run_key("prod", &[Step::DeployApp], &list(&["a@x.com"]), &opts));
        assert_ne!(key, run_key("prod", &steps, &list(&["b@x.com"]), &opts));
        let other = BatchOptions { configure_org: true, ..BatchOptions::default() };
        assert_ne!(key, run_key("prod", &steps, &list(&["a@x.com"]), &other));
        // The boundary between two addresses counts: ["ab", "c"] is not ["a", "bc"].
        assert_ne!(
            run_key("p", &steps, &list(&["ab", "c"]), &opts),
            run_key("p", &steps, &list(&["a", "bc"]), &opts)
        );
    }

    #[tokio::test]
    async fn the_same_request_resumes_its_batch_and_a_rerun_can_retry_its_failures() {
        let store = SqliteStore::in_memory().await.expect("store");
        let first = create_or_resume(&store, &request(&["a@x.com", "b@x.com"])).await.expect("created");
        let RunBatch::Created(batch) = &first else { panic!("expected a new batch, got {first:?}") };
        assert_eq!(batch.steps, vec![Step::Approve, Step::AssignRole], "once each, in rollout order");
        fail(&store, batch, 0, "x", None).await;

        let again = create_or_resume(&store, &request(&["a@x.com", "b@x.com"])).await.expect("resumed");
        let RunBatch::Resumed { batch: same, before, retried } = &again else { panic!("{again:?}") };
        assert_eq!((same.id, before.count(ItemState::Failed), *retried), (batch.id, 1, 0));

        let retrying = RunRequest { retry_failed: true, ..request(&["a@x.com", "b@x.com"]) };
        let RunBatch::Resumed { retried, .. } = create_or_resume(&store, &retrying).await.expect("resumed")
        else {
            panic!("expected the same batch")
        };
        assert_eq!(retried, 1);
        let other = create_or_resume(&store, &request(&["a@x.com"])).await.expect("created");
        assert!(matches!(other, RunBatch::Created(b) if b.id != batch.id), "another list, another batch");
    }

    #[tokio::test]
    async fn a_paused_batch_runs_again_and_a_cancelled_one_is_refused() {
        let store = SqliteStore::in_memory().await.expect("store");
        let batch = create_or_resume(&store, &request(&["a@x.com"])).await.expect("created").batch().clone();
        batch_control::pause(&store, batch.id).await.expect("paused");
        let resumed = create_or_resume(&store, &request(&["a@x.com"])).await.expect("resumed");
        assert_eq!(resumed.batch().state, BatchState::Running);
        batch_control::cancel(&store, batch.id).await.expect("cancelled");
        let refused = create_or_resume(&store, &request(&["a@x.com"])).await.expect_err("cancelled");
        assert!(matches!(refused, RunBatchError::Cancelled(id) if id == batch.id), "{refused}");
    }

    #[tokio::test]
    async fn failures_are_counted_by_code_and_remedy() {
        let store = SqliteStore::in_memory().await.expect("store");
        let batch = create_or_resume(&store, &request(&["a@x", "b@x", "c@x", "d@x"]))
            .await
            .expect("created")
            .batch()
            .clone();
        fail(&store, &batch, 0, "approval_needs_admin", Some("ask an admin")).await;
        fail(&store, &batch, 1, "approval_needs_admin", Some("ask an admin")).await;
        fail(&store, &batch, 2, "not_found", None).await;
        let summary = failure_summary(&store, &batch).await.expect("read");
        let expected = BTreeMap::from([
            (("approval_needs_admin".to_string(), "ask an admin".to_string()), 2),
            (("not_found".to_string(), String::new()), 1),
        ]);
        assert_eq!(summary, expected);
    }
}
