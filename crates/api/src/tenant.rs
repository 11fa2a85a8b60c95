//! What the API asks of Dataverse itself: resolving a selection into mailboxes when a batch
//! is created from one, and planning a rollout (`POST /v1/plans`). The process that serves the
//! API provides it (with the pipeline's reads); an API that cannot reach Dataverse answers
//! 503 for these requests.

use activator_core::{RolloutPlan, Selection, SelectionFound, Step};
use futures_util::future::BoxFuture;

/// Why the tenant could not answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TenantError {
    /// The request names something the tenant does not have, or finds nothing (422).
    Invalid(String),
    /// Dataverse could not be asked (503).
    Unavailable(String),
}

/// Dataverse as the API reads it.
pub trait Tenant: Send + Sync + 'static {
    /// The mailbox ids `selection` finds in `environment` now, and a summary of what it found.
    fn select<'a>(
        &'a self,
        environment: &'a str,
        selection: &'a Selection,
    ) -> BoxFuture<'a, Result<(Vec<String>, SelectionFound), TenantError>>;

    /// What a rollout of `mailboxes` through `steps` in `environment` would do, by reading only.
    fn plan<'a>(
        &'a self,
        environment: &'a str,
        steps: &'a [Step],
        mailboxes: &'a [String],
    ) -> BoxFuture<'a, Result<RolloutPlan, TenantError>>;
}

/// For an API process without access to Dataverse.
#[derive(Debug, Clone, Copy)]
pub struct NoTenant;

impl Tenant for NoTenant {
    fn select<'a>(
        &'a self,
        _: &'a str,
        _: &'a Selection,
    ) -> BoxFuture<'a, Result<(Vec<String>, SelectionFound), TenantError>> {
        Box::pin(async { Err(unreachable_tenant()) })
    }

    fn plan<'a>(
        &'a self,
        _: &'a str,
        _: &'a [Step],
        _: &'a [String],
    ) -> BoxFuture<'a, Result<RolloutPlan, TenantError>> {
        Box::pin(async { Err(unreachable_tenant()) })
    }
}

fn unreachable_tenant() -> TenantError {
    TenantError::Unavailable(
        "this API process does not read Dataverse: send a list of mailboxes instead".into(),
    )
}
