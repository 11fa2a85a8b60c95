//! Failures of a store.

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("batch {0} does not exist")]
    BatchNotFound(uuid::Uuid),
    #[error("invalid request to the store: {0}")]
    Invalid(String),
    /// The database or Redis failed; the operation may work if tried again.
    #[error(
        "store backend failed: {0}. Check that the database file is writable or Redis is reachable, then try again"
    )]
    Backend(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Backend(e.to_string())
    }
}

impl From<redis::RedisError> for StoreError {
    fn from(e: redis::RedisError) -> Self {
        StoreError::Backend(e.to_string())
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::Backend(format!("stored data could not be read: {e}"))
    }
}
