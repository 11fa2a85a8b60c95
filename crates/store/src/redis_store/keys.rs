//! Where things live in Redis.
//!
//! Every key starts with the store's prefix. The keys of one batch share the hash tag `{<uuid>}`
//! so that they land in one slot of a Redis Cluster and a script may touch them together:
//!
//! | key | type | holds |
//! |---|---|---|
//! | `<prefix>:b:{<uuid>}:meta` | hash | `batch` (JSON of the fixed fields), `state`, `updated_at`, `total`, `order`, `paused_reason` (JSON), `canary_done` |
//! | `<prefix>:b:{<uuid>}:items` | hash | item member → item JSON (without `batch` and `index`) |
//! | `<prefix>:b:{<uuid>}:counts` | hash | `total`, `not_started`, `<state>` and `<step>\|<state>` → count |
//! | `<prefix>:b:{<uuid>}:due` | sorted set | members of started pending and waiting items, scored by the time they are due since |
//! | `<prefix>:b:{<uuid>}:fresh` | sorted set | members of the items not started yet, all scored by the batch's creation time (so in index order) |
//! | `<prefix>:b:{<uuid>}:outcomes:<step>` | list | the latest outcomes of a step, newest first: `''` for a success, else the error code |
//! | `<prefix>:b:{<uuid>}:lease` | string | `<until ms>\|<holder>`, with a PX time to live |
//! | `<prefix>:batches` | sorted set | `order` member of every batch, scored by `created_at` |
//! | `<prefix>:idem` | hash | idempotency key → `<order member>\|<claimed at ms>` of the batch holding it (see `claim.rs`) |
//! | `<prefix>:batch_seq` | string | counter that orders batches created in the same millisecond |
//!
//! An item's member is its index written with ten digits (`0000000042`), so that members
//! sort as indexes do and ties in the due set come out in index order.

use crate::model::BatchId;
use activator_core::Step;
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
    pub fresh: String,
    pub lease: String,
    /// The outcome lists, by step, in rollout order.
    pub outcomes: [String; 4],
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
            fresh: format!("{base}:fresh"),
            lease: format!("{base}:lease"),
            outcomes: Step::ALL.map(|step| format!("{base}:outcomes:{}", step.name())),
        }
    }
}

impl BatchKeys {
    pub fn all(&self) -> Vec<&str> {
        let mut keys = vec![
            self.meta.as_str(),
            self.items.as_str(),
            self.counts.as_str(),
            self.due.as_str(),
            self.fresh.as_str(),
            self.lease.as_str(),
        ];
        keys.extend(self.outcomes.iter().map(String::as_str));
        keys
    }

    /// The outcome list of `step`.
    pub fn outcomes_of(&self, step: Step) -> &str {
        let at = Step::ALL.iter().position(|s| *s == step).unwrap_or(0);
        &self.outcomes[at]
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
