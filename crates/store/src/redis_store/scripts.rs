//! The Lua scripts, each in its own file beside this one. Redis runs a script atomically, so
//! an item's state and the batch's counters never disagree.

use redis::Script;
use std::sync::LazyLock;

pub(super) static TRANSITION: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/transition.lua")));
pub(super) static SET_BATCH_STATE: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/set_batch_state.lua")));
pub(super) static ACQUIRE_LEASE: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/acquire_lease.lua")));
pub(super) static RELEASE_LEASE: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/release_lease.lua")));
pub(super) static DUE_ITEMS: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/due_items.lua")));
pub(super) static SET_CANARY_DONE: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/set_canary_done.lua")));
pub(super) static FRESH_ITEMS: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/fresh_items.lua")));
pub(super) static LIST_BATCHES: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/list_batches.lua")));
pub(super) static RELEASE_IDEMPOTENCY_KEY: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/release_idempotency_key.lua")));
pub(super) static CLAIM_IDEMPOTENCY_KEY: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/claim_idempotency_key.lua")));
pub(super) static DELETE_BATCH: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/delete_batch.lua")));
pub(super) static REFRESH_IDEMPOTENCY_KEY: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/refresh_idempotency_key.lua")));
