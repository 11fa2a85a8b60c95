//! Where the Redis tests find a Redis, and how they keep out of each other's way.
//!
//! In order: the URL in `ACTIVATOR_TEST_REDIS_URL`; else a private `redis-server` (found on
//! PATH) started once for the whole test binary on a free port, without persistence, and
//! stopped when the test binary exits; else one in a container (testcontainers) when a Docker
//! engine answers; else the tests fail, saying how to give them a Redis.

use crate::redis_process::{RedisProcess, free_port};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

pub const URL_VARIABLE: &str = "ACTIVATOR_TEST_REDIS_URL";

/// A Redis server for this test binary: `ACTIVATOR_TEST_REDIS_URL`, else a private one.
pub async fn test_redis_url() -> String {
    if let Ok(url) = std::env::var(URL_VARIABLE)
        && !url.trim().is_empty()
    {
        return url;
    }
    static PRIVATE: OnceLock<Result<PrivateRedis, String>> = OnceLock::new();
    let no_server = match PRIVATE.get_or_init(PrivateRedis::start) {
        Ok(redis) => return redis.url.clone(),
        Err(why) => why.clone(),
    };
    match crate::container::redis_url().await {
        Ok(url) => url,
        Err(no_docker) => panic!(
            "the Redis tests need a Redis server and found none. Give them one of three ways: \
             (1) set {URL_VARIABLE} to a Redis they may write to (e.g. redis://127.0.0.1:6379); \
             (2) install redis-server so that it is on PATH (apt-get install redis-server) and \
             they start a private one; (3) run a Docker engine and they start one with \
             testcontainers. Here: {no_server}; {no_docker}"
        ),
    }
}

/// A key prefix no other test (or earlier run) uses.
pub fn unique_prefix() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    format!("activator-test:{}:{nanos}:{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// A private `redis-server` for the whole test binary, without persistence.
struct PrivateRedis {
    url: String,
    _process: RedisProcess,
}

impl PrivateRedis {
    fn start() -> Result<PrivateRedis, String> {
        let mut last_error = String::new();
        // Another process may take the free port between our probe and the server's bind.
        for _ in 0..5 {
            let port = free_port()?;
            let args =
                ["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
            match RedisProcess::start(port, args.map(String::from).to_vec()) {
                Ok(process) => {
                    return Ok(PrivateRedis { url: format!("redis://127.0.0.1:{port}"), _process: process });
                }
                Err(e) => last_error = e,
            }
        }
        Err(format!("could not start a private redis-server: {last_error}"))
    }
}

/// Deletes every key under `prefix` (a test's own), so that a shared Redis given by
/// `ACTIVATOR_TEST_REDIS_URL` does not fill up with test data.
pub async fn remove_keys(prefix: &str) {
    let client = redis::Client::open(test_redis_url().await).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let mut cursor: u64 = 0;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(format!("{prefix}:*"))
            .arg("COUNT")
            .arg(1000)
            .query_async(&mut conn)
            .await
            .unwrap();
        if !keys.is_empty() {
            redis::cmd("UNLINK").arg(&keys).query_async::<()>(&mut conn).await.unwrap();
        }
        cursor = next;
        if cursor == 0 {
            break;
        }
    }
}
