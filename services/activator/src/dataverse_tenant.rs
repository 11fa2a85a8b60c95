//! The API's view of Dataverse (`api::Tenant`): selections and plans read through a client of
//! the environment the request names, made for that request so its request count and timings
//! are its own. With Redis, the client spends the application users' shared budget.

use activator_core::{RolloutPlan, Selection, SelectionFound, Step};
use api::{Tenant, TenantError};
use dataverse::{Dataverse, DataverseOptions, EnvironmentConfig};
use futures_util::future::BoxFuture;
use metrics::Metrics;
use pipeline::request_metrics::RequestMetrics;
use pipeline::rollout_plan::{DEFAULT_PROCESS_SECS, PlanRequest, make_plan};
use pipeline::selection::{SelectionError, select};
use pipeline::{PipelineError, RedisLocation};
use std::sync::Arc;

pub struct DataverseTenant {
    environments: Vec<EnvironmentConfig>,
    options: DataverseOptions,
    shared: Option<RedisLocation>,
}

impl DataverseTenant {
    /// Reads the `environments` with `options` (limits), through the budget shared in `shared`.
    pub fn new(
        environments: &[EnvironmentConfig],
        options: DataverseOptions,
        shared: Option<RedisLocation>,
    ) -> DataverseTenant {
        DataverseTenant { environments: environments.to_vec(), options, shared }
    }

    /// A client of `environment` counting its requests in `metrics`.
    async fn connect(
        &self,
        environment: &str,
        metrics: &Arc<Metrics>,
    ) -> Result<Arc<Dataverse>, TenantError> {
        let env = self.environments.iter().find(|e| e.name == environment).ok_or_else(|| {
            TenantError::Invalid(format!("no environment named '{environment}' is configured"))
        })?;
        let mut options = self.options.clone();
        options.observer = Some(Arc::new(RequestMetrics(Arc::clone(metrics))));
        // Reads go one by one; there is nothing to gather into $batch requests.
        options.batching = None;
        pipeline::connect_dataverse(env, options, self.shared.as_ref()).await.map_err(unavailable)
    }
}

fn unavailable(e: PipelineError) -> TenantError {
    TenantError::Unavailable(format!(
        "{e}: try again later, or check the environment with `activator doctor`"
    ))
}

impl Tenant for DataverseTenant {
    fn select<'a>(
        &'a self,
        environment: &'a str,
        selection: &'a Selection,
    ) -> BoxFuture<'a, Result<(Vec<String>, SelectionFound), TenantError>> {
        Box::pin(async move {
            let metrics = Arc::new(Metrics::new());
            let dataverse = self.connect(environment, &metrics).await?;
            match select(&*dataverse, selection).await {
                Ok(selected) => {
                    let found = selected.found(selection);
                    Ok((selected.mailboxes.iter().map(ToString::to_string).collect(), found))
                }
                Err(SelectionError::Dataverse(e)) => Err(unavailable(PipelineError::Dataverse(e))),
                Err(other) => Err(TenantError::Invalid(other.to_string())),
            }
        })
    }

    fn plan<'a>(
        &'a self,
        environment: &'a str,
        steps: &'a [Step],
        mailboxes: &'a [String],
    ) -> BoxFuture<'a, Result<RolloutPlan, TenantError>> {
        Box::pin(async move {
            let metrics = Arc::new(Metrics::new());
            let dataverse = self.connect(environment, &metrics).await?;
            let request = PlanRequest {
                environment: environment.to_string(),
                steps: steps.to_vec(),
                mailboxes: mailboxes.to_vec(),
                process_secs: DEFAULT_PROCESS_SECS,
            };
            make_plan(&*dataverse, &request, &metrics).await.map_err(|e| match e {
                e @ (PipelineError::Dataverse(_)
                | PipelineError::Environment { .. }
                | PipelineError::Connect(_)) => unavailable(e),
                other => TenantError::Invalid(other.to_string()),
            })
        })
    }
}
