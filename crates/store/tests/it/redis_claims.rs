//! Claims on idempotency keys: a creation that died half-way is taken over once its claim is
//! stale, and its leftovers removed; a fresh claim is still waited for.
//!
//! A dead creation is written by hand as `create.rs` and `claim.rs` would have left it: the
//! claim `<order member>|<claimed at ms>` in the `idem` hash, some items and due entries, and
//! its place in the batch list, but no meta hash and no counters.

use crate::conformance::{NOW, new_batch};
use crate::redis_store::{raw_connection, store};
use activator_core::ItemState;
use std::collections::HashSet;
use std::time::Duration;
use store::{BatchStore, RedisStore, StoreError};
use testkit::{remove_keys, test_redis_url};
use uuid::Uuid;

/// What a dead creation left under the store's prefix.
struct Leftovers {
    id: Uuid,
    order: String,
    claim: String,
}

impl Leftovers {
    fn keys(&self, prefix: &str) -> Vec<String> {
        ["items", "due"].iter().map(|k| format!("{prefix}:b:{{{}}}:{k}", self.id)).collect()
    }
}

/// Milliseconds on Redis's clock, which claims are timed by.
async fn redis_now_ms(conn: &mut redis::aio::MultiplexedConnection) -> i64 {
    let (secs, micros): (i64, i64) = redis::cmd("TIME").query_async(conn).await.unwrap();
    secs * 1000 + micros / 1000
}

/// Writes what a creation that claimed `key` `claimed_ago` and then died mid-way leaves.
async fn dead_creation(store: &RedisStore, key: &str, claimed_ago: Duration) -> Leftovers {
    let mut conn = raw_connection().await;
    let prefix = store.prefix();
    let id = Uuid::new_v4();
    let order = format!("{:020}|{id}", 7);
    let claimed_at = redis_now_ms(&mut conn).await - i64::try_from(claimed_ago.as_millis()).unwrap();
    let claim = format!("{order}|{claimed_at}");
    let item = r#"{"mailbox":"x@contoso.example","mailbox_id":null,"state":"pending","step":"approve","attempts":0,"due_at":null,"error":null,"updated_at":1800000000000}"#;
    redis::pipe()
        .hset(format!("{prefix}:idem"), key, &claim)
        .hset(format!("{prefix}:b:{{{id}}}:items"), "0000000000", item)
        .zadd(format!("{prefix}:b:{{{id}}}:due"), "0000000000", NOW)
        .zadd(format!("{prefix}:batches"), &order, NOW)
        .query_async::<()>(&mut conn)
        .await
        .unwrap();
    Leftovers { id, order, claim }
}

async fn idem_value(store: &RedisStore, key: &str) -> Option<String> {
    redis::cmd("HGET")
        .arg(format!("{}:idem", store.prefix()))
        .arg(key)
        .query_async(&mut raw_connection().await)
        .await
        .unwrap()
}

async fn leftovers_present(store: &RedisStore, dead: &Leftovers) -> (usize, bool) {
    let mut conn = raw_connection().await;
    let keys: usize =
        redis::cmd("EXISTS").arg(dead.keys(store.prefix())).query_async(&mut conn).await.unwrap();
    let listed: Option<f64> = redis::cmd("ZSCORE")
        .arg(format!("{}:batches", store.prefix()))
        .arg(&dead.order)
        .query_async(&mut conn)
        .await
        .unwrap();
    (keys, listed.is_some())
}

#[tokio::test]
async fn a_dead_creations_stale_claim_is_taken_over_once_and_its_leftovers_removed() {
    let url = test_redis_url().await;
    let store = store().await;
    let dead = dead_creation(&store, "orphaned", Duration::from_secs(61)).await;
    assert_eq!(leftovers_present(&store, &dead).await, (2, true));

    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..10 {
        // Separate connections, as separate processes would have.
        let store = RedisStore::connect(&url, store.prefix()).await.unwrap();
        tasks
            .spawn(async move { store.create_batch(new_batch(2_500, Some("orphaned")), NOW).await.unwrap() });
    }
    let results = tasks.join_all().await;
    assert_eq!(results.iter().filter(|(_, created)| *created).count(), 1, "exactly one taker wins");
    let ids: HashSet<Uuid> = results.iter().map(|(b, _)| b.id).collect();
    assert_eq!(ids.len(), 1, "everyone gets the winner's batch");
    let id = *ids.iter().next().unwrap();
    assert_ne!(id, dead.id);

    let p = store.progress(id).await.unwrap();
    assert_eq!((p.total, p.count(ItemState::Pending)), (2_500, 2_500));
    assert_eq!(store.items(id, None, None, 10_000).await.unwrap().len(), 2_500);
    assert_eq!(store.fresh_items(id, 10_000).await.unwrap().len(), 2_500);
    let listed: Vec<Uuid> = store.list_batches(None, 10).await.unwrap().iter().map(|b| b.id).collect();
    assert_eq!(listed, vec![id]);
    assert_eq!(leftovers_present(&store, &dead).await, (0, false), "the dead creation's keys are gone");
    assert!(idem_value(&store, "orphaned").await.unwrap().contains(&id.to_string()));
    remove_keys(store.prefix()).await;
}

#[tokio::test]
async fn a_fresh_claim_is_waited_for_and_taken_over_only_once_stale() {
    let store = store().await;
    let dead = dead_creation(&store, "busy", Duration::ZERO).await;

    let impatient = store.clone().with_claim_wait(Duration::from_millis(300));
    let err = impatient.create_batch(new_batch(10, Some("busy")), NOW).await.unwrap_err();
    assert!(matches!(&err, StoreError::Backend(m) if m.contains("still being created")), "{err:?}");
    assert_eq!(idem_value(&store, "busy").await.as_deref(), Some(dead.claim.as_str()), "not taken over");
    assert_eq!(leftovers_present(&store, &dead).await, (2, true), "nothing removed");

    // A caller that waits long enough sees the claim go stale, and takes it over.
    let patient = store.clone().with_stale_claim_after(Duration::from_secs(1));
    let (b, created) = patient.create_batch(new_batch(10, Some("busy")), NOW).await.unwrap();
    assert!(created);
    assert_eq!(store.progress(b.id).await.unwrap().count(ItemState::Pending), 10);
    assert_eq!(leftovers_present(&store, &dead).await, (0, false));
    // And its own claim, fresh, makes the next caller return its batch as before.
    let (again, created) = impatient.create_batch(new_batch(10, Some("busy")), NOW).await.unwrap();
    assert_eq!((again.id, created), (b.id, false));
    remove_keys(store.prefix()).await;
}

#[tokio::test]
async fn a_creation_whose_claim_was_taken_over_stops_and_leaves_nothing() {
    let store = store().await;
    let mut conn = raw_connection().await;
    let creating = {
        let store = store.clone();
        tokio::spawn(async move { store.create_batch(new_batch(100_000, Some("stalled")), NOW).await })
    };
    // As soon as the creation has claimed the key, another request takes it over (as if the
    // creation had stalled for longer than the stale limit).
    let own = loop {
        if let Some(claim) = idem_value(&store, "stalled").await {
            break claim;
        }
        assert!(!creating.is_finished(), "created before its claim was seen");
        tokio::task::yield_now().await;
    };
    let taker = format!("{:020}|{}|{}", 8, Uuid::new_v4(), redis_now_ms(&mut conn).await);
    let _: () = redis::cmd("HSET")
        .arg(format!("{}:idem", store.prefix()))
        .arg("stalled")
        .arg(&taker)
        .query_async(&mut conn)
        .await
        .unwrap();

    let err = creating.await.unwrap().unwrap_err();
    assert!(matches!(&err, StoreError::Backend(m) if m.contains("took the key over")), "{err:?}");
    let (order, _) = own.rsplit_once('|').unwrap();
    let id: Uuid = order.split_once('|').unwrap().1.parse().unwrap();
    let dead = Leftovers { id, order: order.to_string(), claim: own.clone() };
    assert_eq!(leftovers_present(&store, &dead).await, (0, false), "the stopped creation cleaned up");
    assert!(store.batch(id).await.unwrap().is_none());
    assert_eq!(idem_value(&store, "stalled").await, Some(taker), "the taker keeps the key");
    remove_keys(store.prefix()).await;
}
