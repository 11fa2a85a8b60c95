//! The crate's one error type.

use store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("could not open the queue: {0}")]
    Open(String),
    #[error("could not push a job into the queue: {0}")]
    Push(String),
    #[error("the worker stopped with an error: {0}")]
    Worker(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("Dataverse: {0}")]
    Dataverse(#[from] dataverse::DataverseError),
    /// Redis (or another shared service) could not be reached.
    #[error("cannot reach {0}: check --redis (ACTIVATOR_REDIS_URL) and that Redis runs")]
    Connect(String),
    /// The environment's Dataverse did not answer as it should when first asked.
    #[error("cannot reach environment {name} at {url}: {source}")]
    Environment { name: String, url: String, source: dataverse::DataverseError },
    #[error("{0}")]
    Options(String),
    #[error("cannot write the results: {0}")]
    Results(String),
}
