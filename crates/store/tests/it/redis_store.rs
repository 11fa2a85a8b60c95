//! The Redis store: the shared conformance suite, and what only Redis has to show (hash tags,
//! races between processes, large batches).

use crate::conformance::{NOW, move_item, new_batch};
use activator_core::{BatchState, ItemState, Step};
use std::collections::HashSet;
use std::time::Duration;
use store::{BatchStore, RedisStore, StoreError, Transition};
use testkit::{remove_keys, test_redis_url, unique_prefix};
use uuid::Uuid;

pub async fn store() -> RedisStore {
    RedisStore::connect(&test_redis_url().await, &unique_prefix()).await.unwrap()
}

pub async fn raw_connection() -> redis::aio::MultiplexedConnection {
    let client = redis::Client::open(test_redis_url().await).unwrap();
    client.get_multiplexed_async_connection().await.unwrap()
}

conformance_suite!(open: (store().await, ()), close: |store| remove_keys(store.prefix()).await);

#[tokio::test]
async fn every_key_of_a_batch_carries_its_uuid_as_hash_tag() {
    let store = store().await;
    let (a, _) = store.create_batch(new_batch(3, Some("tagged")), NOW).await.unwrap();
    let (b, _) = store.create_batch(new_batch(2, None), NOW).await.unwrap();
    for id in [a.id, b.id] {
        assert!(
            store
                .transition(id, move_item(0, ItemState::Pending, Some(Step::Approve), ItemState::Queued), NOW)
                .await
                .unwrap()
        );
        assert!(store.acquire_lease(id, "w", Duration::from_secs(60), NOW).await.unwrap());
    }
    let mut conn = raw_connection().await;
    let mut keys: Vec<String> = Vec::new();
    let mut cursor: u64 = 0;
    loop {
        let (next, page): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(format!("{}:*", store.prefix()))
            .arg("COUNT")
            .arg(1000)
            .query_async(&mut conn)
            .await
            .unwrap();
        keys.extend(page);
        cursor = next;
        if cursor == 0 {
            break;
        }
    }
    let prefix = store.prefix();
    let mut per_batch = 0;
    for key in &keys {
        let rest = key.strip_prefix(prefix).unwrap();
        if [":batches", ":idem", ":batch_seq"].contains(&rest) {
            continue;
        }
        // Redis hashes only what lies between the first '{' and the next '}'.
        let open = key.find('{').unwrap_or_else(|| panic!("{key} has no hash tag"));
        let close = open + key[open..].find('}').unwrap();
        let tag: Uuid = key[open + 1..close].parse().unwrap_or_else(|_| panic!("{key}: tag is not a uuid"));
        assert!([a.id, b.id].contains(&tag), "{key}");
        assert!(rest.starts_with(&format!(":b:{{{tag}}}:")), "{key}");
        per_batch += 1;
    }
    assert_eq!(per_batch, 2 * 5, "meta, items, counts, due and lease of two batches: {keys:?}");
    assert_eq!(keys.len(), per_batch + 3, "plus the three global keys: {keys:?}");
    remove_keys(store.prefix()).await;
}

#[tokio::test]
async fn fifty_concurrent_identical_transitions_apply_once() {
    let store = store().await;
    let (b, _) = store.create_batch(new_batch(10, None), NOW).await.unwrap();
    let t = move_item(4, ItemState::Pending, Some(Step::Approve), ItemState::Queued);
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..50 {
        let (store, t) = (store.clone(), t.clone());
        tasks.spawn(async move { store.transition(b.id, t, NOW + n).await.unwrap() });
    }
    let applied = tasks.join_all().await.into_iter().filter(|applied| *applied).count();
    assert_eq!(applied, 1);
    let p = store.progress(b.id).await.unwrap();
    assert_eq!((p.count(ItemState::Pending), p.count(ItemState::Queued)), (9, 1));
    assert_eq!(p.by_step[&Step::Approve][&ItemState::Queued], 1);
    assert_eq!(store.item(b.id, 4).await.unwrap().unwrap().state, ItemState::Queued);
    remove_keys(store.prefix()).await;
}

#[tokio::test]
async fn concurrent_creates_with_one_key_make_one_batch() {
    let url = test_redis_url().await;
    let prefix = unique_prefix();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..20 {
        // Separate connections, as separate processes would have.
        let store = RedisStore::connect(&url, &prefix).await.unwrap();
        tasks
            .spawn(async move { store.create_batch(new_batch(3_000, Some("same-key")), NOW).await.unwrap() });
    }
    let results = tasks.join_all().await;
    assert_eq!(results.iter().filter(|(_, created)| *created).count(), 1);
    let ids: HashSet<Uuid> = results.iter().map(|(b, _)| b.id).collect();
    assert_eq!(ids.len(), 1);
    assert!(results.iter().all(|(b, _)| b.total == 3_000));
    let store = RedisStore::connect(&url, &prefix).await.unwrap();
    assert_eq!(store.list_batches(None, 100).await.unwrap().len(), 1);
    remove_keys(store.prefix()).await;
}

#[tokio::test]
async fn twenty_thousand_items_keep_exact_counts_and_page_until_started() {
    let store = store().await;
    let (b, _) = store.create_batch(new_batch(20_000, None), NOW).await.unwrap();
    let p = store.progress(b.id).await.unwrap();
    assert_eq!((p.total, p.count(ItemState::Pending)), (20_000, 20_000));
    assert_eq!(p.by_step[&Step::Approve][&ItemState::Pending], 20_000);

    // Take the items not started a page at a time, as the feeder does: each page is queued,
    // so the next call returns the next ones, in index order.
    let mut expected_next = 0;
    for _ in 0..3 {
        let page = store.fresh_items(b.id, 1_000).await.unwrap();
        assert_eq!(page.len(), 1_000);
        assert_eq!(
            page.iter().map(|i| i.index).collect::<Vec<_>>(),
            (expected_next..expected_next + 1_000).collect::<Vec<_>>()
        );
        let mut tasks = tokio::task::JoinSet::new();
        for item in page {
            let store = store.clone();
            tasks.spawn(async move {
                let t = move_item(item.index, ItemState::Pending, item.step, ItemState::Queued);
                store.transition(b.id, t, NOW + 1).await.unwrap()
            });
        }
        assert!(tasks.join_all().await.into_iter().all(|applied| applied));
        expected_next += 1_000;
    }
    let p = store.progress(b.id).await.unwrap();
    assert_eq!((p.count(ItemState::Pending), p.count(ItemState::Queued)), (17_000, 3_000));
    assert_eq!(p.not_started, 17_000);
    assert_eq!(store.fresh_items(b.id, 100_000).await.unwrap().len(), 17_000);
    assert!(store.due_items(b.id, NOW, 100_000).await.unwrap().is_empty(), "the queued ones are not due");

    let mut seen = 0;
    let mut after = None;
    loop {
        let page = store.items(b.id, Some(ItemState::Queued), after, 700).await.unwrap();
        let Some(last) = page.last() else { break };
        assert!(page.iter().all(|i| i.state == ItemState::Queued && i.index < 3_000));
        after = Some(last.index);
        seen += page.len();
    }
    assert_eq!(seen, 3_000);
    assert_eq!(store.items(b.id, None, Some(19_994), 100).await.unwrap().len(), 5);
    remove_keys(store.prefix()).await;
}

#[tokio::test]
async fn a_failed_creation_leaves_nothing_and_frees_its_key() {
    let store = store().await;
    let mut conn = raw_connection().await;
    let prefix = store.prefix().to_string();
    // Keys of the wrong type make the batch list (then the order counter) fail to update.
    for global in ["batches", "batch_seq"] {
        redis::cmd("SET")
            .arg(format!("{prefix}:{global}"))
            .arg("x")
            .query_async::<()>(&mut conn)
            .await
            .unwrap();
        let err = store.create_batch(new_batch(2_500, Some("retry-me")), NOW).await.unwrap_err();
        assert!(matches!(err, StoreError::Backend(_)), "{err:?}");
        redis::cmd("DEL").arg(format!("{prefix}:{global}")).query_async::<()>(&mut conn).await.unwrap();
        let left: Vec<String> =
            redis::cmd("KEYS").arg(format!("{prefix}:b:*")).query_async(&mut conn).await.unwrap();
        assert!(left.is_empty(), "{left:?}");
    }
    let (b, created) = store.create_batch(new_batch(2_500, Some("retry-me")), NOW).await.unwrap();
    assert!(created, "the key was freed");
    assert_eq!(store.progress(b.id).await.unwrap().count(ItemState::Pending), 2_500);
    remove_keys(store.prefix()).await;
}

#[tokio::test]
async fn due_items_come_longest_due_first() {
    let store = store().await;
    let (b, _) = store.create_batch(new_batch(3, None), NOW).await.unwrap();
    for i in [0, 1] {
        crate::conformance::start_running(&store, b.id, i).await;
    }
    crate::conformance::start_pending(&store, b.id, 2, NOW).await;
    let wait = |i: u32, due: i64| Transition {
        due_at: Some(due),
        ..move_item(i, ItemState::Running, Some(Step::Approve), ItemState::Waiting)
    };
    assert!(store.transition(b.id, wait(0, NOW + 50), NOW + 1).await.unwrap());
    assert!(store.transition(b.id, wait(1, NOW - 50), NOW + 1).await.unwrap());
    let order: Vec<u32> =
        store.due_items(b.id, NOW + 100, 10).await.unwrap().iter().map(|i| i.index).collect();
    assert_eq!(order, vec![1, 2, 0], "due since NOW-50, NOW (handed back), NOW+50");
    // Back to pending: due from the time it became pending.
    let back = move_item(0, ItemState::Waiting, Some(Step::Approve), ItemState::Pending);
    assert!(store.transition(b.id, back, NOW + 200).await.unwrap());
    let order: Vec<u32> =
        store.due_items(b.id, NOW + 200, 10).await.unwrap().iter().map(|i| i.index).collect();
    assert_eq!(order, vec![1, 2, 0]);
    assert_eq!(store.due_items(b.id, NOW + 199, 10).await.unwrap().len(), 2);
    remove_keys(store.prefix()).await;
}

#[tokio::test]
async fn batches_of_the_same_millisecond_list_in_creation_order() {
    let store = store().await;
    let mut ids = Vec::new();
    for _ in 0..6 {
        ids.push(store.create_batch(new_batch(1, None), NOW).await.unwrap().0.id);
    }
    ids.reverse();
    let mut listed = Vec::new();
    let mut before = None;
    loop {
        let page = store.list_batches(before, 4).await.unwrap();
        let Some(last) = page.last() else { break };
        before = Some(last.id);
        listed.extend(page.iter().map(|b| b.id));
    }
    assert_eq!(listed, ids);
    assert!(store.list_batches(Some(Uuid::from_u128(5)), 10).await.unwrap().is_empty(), "unknown cursor");
    assert!(store.list_batches(None, 0).await.unwrap().is_empty());
    remove_keys(store.prefix()).await;
}

#[tokio::test]
async fn unknown_batches_and_items_are_reported_by_every_method() {
    let store = store().await;
    let unknown = Uuid::from_u128(7);
    let t = move_item(0, ItemState::Pending, Some(Step::Approve), ItemState::Queued);
    assert!(matches!(store.transition(unknown, t.clone(), NOW).await, Err(StoreError::BatchNotFound(_))));
    assert!(matches!(
        store.set_batch_state(unknown, BatchState::Running, BatchState::Paused, NOW).await,
        Err(StoreError::BatchNotFound(_))
    ));
    assert!(matches!(store.items(unknown, None, None, 10).await, Err(StoreError::BatchNotFound(_))));
    assert!(matches!(store.due_items(unknown, NOW, 10).await, Err(StoreError::BatchNotFound(_))));
    assert!(matches!(
        store.acquire_lease(unknown, "w", Duration::from_secs(1), NOW).await,
        Err(StoreError::BatchNotFound(_))
    ));
    assert!(!store.release_lease(unknown, "w").await.unwrap());
    assert!(store.item(unknown, 0).await.unwrap().is_none());

    let (b, _) = store.create_batch(new_batch(2, None), NOW).await.unwrap();
    let beyond = Transition { index: 2, ..t };
    assert!(matches!(store.transition(b.id, beyond, NOW).await, Err(StoreError::Invalid(_))));
    remove_keys(store.prefix()).await;
}

#[tokio::test]
async fn a_lease_also_expires_by_the_callers_clock() {
    let store = store().await;
    let (b, _) = store.create_batch(new_batch(1, None), NOW).await.unwrap();
    let ttl = Duration::from_secs(60);
    assert!(store.acquire_lease(b.id, "a", ttl, NOW).await.unwrap());
    assert!(!store.acquire_lease(b.id, "b", ttl, NOW + 59_999).await.unwrap());
    assert!(store.acquire_lease(b.id, "b", ttl, NOW + 60_000).await.unwrap());
    assert!(!store.release_lease(b.id, "a").await.unwrap());
    assert!(store.release_lease(b.id, "b").await.unwrap());
    assert!(!store.release_lease(b.id, "b").await.unwrap());
    remove_keys(store.prefix()).await;
}

#[tokio::test]
async fn item_text_survives_the_scripts_unchanged() {
    let store = store().await;
    let mut new = new_batch(1, None);
    let odd = "Zoë \"Ω\" O'Brien/\\ <zoe@contoso.example> \u{1F600}\t\u{0001}";
    new.mailboxes = vec![odd.to_string()];
    let (b, _) = store.create_batch(new, NOW).await.unwrap();
    let mut t = move_item(0, ItemState::Pending, Some(Step::Approve), ItemState::Queued);
    t.mailbox_id = Some(Uuid::from_u128(u128::MAX));
    t.attempts = u32::MAX;
    t.error = Some(store::ItemError { code: "x/y".into(), message: odd.into(), remedy: None });
    assert!(store.transition(b.id, t, NOW + 123_456).await.unwrap());
    let item = store.item(b.id, 0).await.unwrap().unwrap();
    assert_eq!(item.mailbox, odd);
    assert_eq!(item.error.as_ref().unwrap().message, odd);
    assert_eq!(
        (item.attempts, item.updated_at, item.mailbox_id),
        (u32::MAX, NOW + 123_456, Some(Uuid::from_u128(u128::MAX)))
    );
    remove_keys(store.prefix()).await;
}

#[tokio::test]
async fn times_beyond_what_lua_keeps_exactly_are_refused() {
    let store = store().await;
    let (b, _) = store.create_batch(new_batch(1, None), NOW).await.unwrap();
    let t = Transition {
        due_at: Some(i64::MAX),
        ..move_item(0, ItemState::Pending, Some(Step::Approve), ItemState::Queued)
    };
    assert!(matches!(store.transition(b.id, t, NOW).await, Err(StoreError::Invalid(_))));
    assert!(matches!(store.create_batch(new_batch(1, None), i64::MAX).await, Err(StoreError::Invalid(_))));
    remove_keys(store.prefix()).await;
}

#[tokio::test]
async fn a_prefix_with_braces_is_refused() {
    let url = test_redis_url().await;
    assert!(matches!(RedisStore::connect(&url, "a{b}").await, Err(StoreError::Invalid(_))));
    assert!(matches!(RedisStore::connect(&url, "").await, Err(StoreError::Invalid(_))));
}

#[tokio::test]
async fn an_unreachable_redis_is_a_backend_error_without_the_password() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let err = RedisStore::connect(&format!("redis://:hunter2@127.0.0.1:{port}"), "p").await.unwrap_err();
    assert!(matches!(err, StoreError::Backend(_)), "{err:?}");
    assert!(!err.to_string().contains("hunter2"), "{err}");
    assert!(matches!(RedisStore::connect("http://nope", "p").await, Err(StoreError::Invalid(_))));
}
