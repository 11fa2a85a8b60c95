//! New batch ids: random (version 4) UUIDs, without a random-number crate.

use crate::model::BatchId;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A fresh random batch id. Each half comes from a `RandomState` hasher (randomly keyed per
/// process and thread, and a new key for every `RandomState`) fed the time, a counter, the
/// process id and the thread.
pub(crate) fn new_batch_id() -> BatchId {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let mut bytes = [0u8; 16];
    for (half, chunk) in bytes.chunks_exact_mut(8).enumerate() {
        let seed = (half, nanos, count, std::process::id(), std::thread::current().id());
        chunk.copy_from_slice(&RandomState::new().hash_one(seed).to_le_bytes());
    }
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_version_4_and_distinct() {
        let ids: HashSet<BatchId> = (0..10_000).map(|_| new_batch_id()).collect();
        assert_eq!(ids.len(), 10_000);
        assert!(ids.iter().all(|id| id.get_version_num() == 4));
    }
}
