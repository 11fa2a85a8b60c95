//! Where things live in Redis.
//!
//! Every key starts with the store's prefix. The keys of one batch share the hash tag `{<uuid>}`
//! so that they land in one slot of a Redis Cluster and a script may touch them together:
//!
//! | key | type | holds |
//! |---|---|---|
//! | `<prefix>:b:{<uuid>}:meta` | hash | `batch` (JSON of the fixed fields), `state`, `updated_at`, `total`, `order` |
//! | `<prefix>:b:{<uuid>}:items` | hash | item member → item JSON (without `batch` and `index`) |
//! | `<prefix>:b:{<uuid>}:counts` | hash | `total`, `<state>` and `<step>\|<state>` → count |
//! | `<prefix>:b:{<uuid>}:due` | sorted set | members of pending and waiting items, scored by the time they are due since |
//! | `<prefix>:b:{<uuid>}:lease` | string | `<until ms>\|<holder>`, with a PX time to live |
//! | `<prefix>:batches` | sorted set | `order` member of every batch, scored by `created_at` |
//! | `<prefix>:idem` | hash | idempotency key → `<order member>\|<claimed at ms>` of the batch holding it (see `claim.rs`) |
//! | `<prefix>:batch_seq` | string | counter that orders batches created in the same millisecond |
//!
//! An item's member is its index written with ten digits (`0000000042`), so that members
//! sort as indexes do and ties in the due set come out in index order.

use crate::model::BatchId;
use std::sync::Arc;

/// The global keys of a store, and the way to the keys of a batch.
#[derive(Debug, Clone)]
pub(super) struct Keys {
    prefix: Arc<str>,
}

/// The keys of one batch.
#[derive(Debug, Clone)]
pub(super) struct BatchKeys {
    pub meta: String,
    pub items: String,
    pub counts: String,
    pub due: String,
    pub lease: String,
}

impl Keys {
    /// A prefix must be non-empty and hold no brace, which would change the hash tag of a
    /// batch's keys.
    pub fn new(prefix: &str) -> Result<Self, String> {
        if prefix.is_empty() {
            return Err("the Redis key prefix is empty: give a name such as 'activator'".into());
        }
        if prefix.contains(['{', '}']) {
            return Err(format!(
                "the Redis key prefix '{prefix}' holds a brace, which would break the hash tags \
                 of batch keys: use a prefix without '{{' and '}}'"
            ));
        }
        Ok(Keys { prefix: prefix.into() })
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    pub fn batches(&self) -> String {
        format!("{}:batches", self.prefix)
    }

    pub fn idem(&self) -> String {
        format!("{}:idem", self.prefix)
    }

    pub fn batch_seq(&self) -> String {
        format!("{}:batch_seq", self.prefix)
    }

    pub fn of(&self, id: BatchId) -> BatchKeys {
        let base = format!("{}:b:{{{}}}", self.prefix, id.hyphenated());
        BatchKeys {
            meta: format!("{base}:meta"),
            items: format!("{base}:items"),
            counts: format!("{base}:counts"),
            due: format!("{base}:due"),
            lease: format!("{base}:lease"),
        }
    }
}

impl BatchKeys {
    pub fn all(&self) -> [&str; 5] {
        [&self.meta, &self.items, &self.counts, &self.due, &self.lease]
    }
}

/// The member (hash field, sorted-set member) of the item at `index`.
pub(super) fn member(index: u32) -> String {
    format!("{index:010}")
}

pub(super) fn parse_member(member: &str) -> Option<u32> {
    member.parse().ok()
}

/// The member of a batch in the `batches` sorted set: newer batches of the same millisecond
/// sort after older ones.
pub(super) fn order_member(seq: u64, id: BatchId) -> String {
    format!("{seq:020}|{}", id.hyphenated())
}

pub(super) fn id_of_order_member(member: &str) -> Option<BatchId> {
    member.split_once('|').and_then(|(_, id)| id.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_keys_share_the_uuid_hash_tag() {
        let keys = Keys::new("act").expect("valid prefix");
        let id = BatchId::from_u128(7);
        for key in keys.of(id).all() {
            assert!(key.starts_with("act:b:{00000000-0000-0000-0000-000000000007}:"), "{key}");
        }
        assert!(Keys::new("a{b").is_err());
        assert!(Keys::new("").is_err());
    }

    #[test]
    fn members_sort_like_indexes() {
        assert!(member(9) < member(10));
        assert_eq!(parse_member(&member(4_294_967_295)), Some(u32::MAX));
        let id = BatchId::from_u128(3);
        assert!(order_member(9, id) < order_member(10, id));
        assert_eq!(id_of_order_member(&order_member(9, id)), Some(id));
    }
}
