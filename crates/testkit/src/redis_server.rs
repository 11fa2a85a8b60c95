//! Where the Redis tests find a Redis, and how they keep out of each other's way.
//!
//! In order: the URL in `ACTIVATOR_TEST_REDIS_URL`; else a private `redis-server` (found on
//! PATH) started once for the whole test binary on a free port, without persistence, and
//! stopped when the test binary exits; else one in a container (testcontainers) when a Docker
//! engine answers; else the tests fail, saying how to give them a Redis.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

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

/// A `redis-server` child. It runs under a small `sh` watchdog that reads its stdin, a pipe
/// whose writing end only this process holds: when the test binary exits, however it exits,
/// the pipe closes, `read` returns and the watchdog stops the server.
struct PrivateRedis {
    url: String,
    _watchdog: Child,
    _lifeline: ChildStdin,
}

impl PrivateRedis {
    fn start() -> Result<PrivateRedis, String> {
        let Some(server) = find_on_path("redis-server") else {
            return Err("no redis-server on PATH".to_string());
        };
        let mut last_error = String::new();
        // Another process may take the free port between our probe and the server's bind.
        for _ in 0..5 {
            match Self::start_on_free_port(&server) {
                Ok(redis) => return Ok(redis),
                Err(e) => last_error = e,
            }
        }
        Err(format!("could not start a private redis-server from {}: {last_error}", server.display()))
    }

    fn start_on_free_port(server: &PathBuf) -> Result<PrivateRedis, String> {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port: {e}"))?
            .port();
        const WATCHDOG: &str = r#"server="$1"; shift
"$server" "$@" </dev/null >/dev/null 2>&1 &
pid=$!
read -r _ignored
kill "$pid" 2>/dev/null
wait "$pid""#;
        let mut watchdog = Command::new("sh")
            .arg("-c")
            .arg(WATCHDOG)
            .arg("redis-watchdog")
            .arg(server)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("could not run sh: {e}"))?;
        let lifeline = watchdog.stdin.take().ok_or("no stdin pipe to the watchdog")?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if ping(port) {
                return Ok(PrivateRedis {
                    url: format!("redis://127.0.0.1:{port}"),
                    _watchdog: watchdog,
                    _lifeline: lifeline,
                });
            }
            if let Ok(Some(status)) = watchdog.try_wait() {
                return Err(format!("redis-server on port {port} stopped at once ({status})"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        drop(lifeline);
        let _ = watchdog.wait();
        Err(format!("redis-server on port {port} did not answer PING within 10 s"))
    }
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(name)).find(|p| p.is_file())
}

fn ping(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else { return false };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    let mut reply = [0u8; 7];
    stream.write_all(b"PING\r\n").is_ok() && stream.read_exact(&mut reply).is_ok() && &reply == b"+PONG\r\n"
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
