//! Batches and their mailbox items: the [`BatchStore`] trait and its two implementations,
//! SQLite (embedded, one file) and Redis (shared by many processes).

pub mod batch_control;
pub mod batch_store;
pub mod clock;
pub mod error;
mod ids;
pub mod model;
pub mod redis_store;
pub mod retention;
pub mod sqlite_store;

pub use batch_store::{BatchStore, StoreResult, all_items};
pub use error::StoreError;
pub use model::{
    Batch, BatchId, Deletion, DueSummary, Item, ItemError, Millis, NewBatch, OUTCOMES_KEPT, StepOutcome,
    Transition,
};
pub use redis_store::RedisStore;
pub use sqlite_store::SqliteStore;
