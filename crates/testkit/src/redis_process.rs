//! A `redis-server` of a test's own, started with the arguments the test needs (TLS, a
//! password, AOF in a folder), which the test may kill and start again on the same data.
//!
//! It runs under a small `sh` watchdog that reads its stdin, a pipe whose writing end only the
//! test process holds: when the test process exits, however it exits, the pipe closes, `read`
//! returns and the watchdog stops the server.

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

const WATCHDOG: &str = r#"server="$1"; shift
"$server" "$@" </dev/null >/dev/null 2>&1 &
pid=$!
echo "$pid"
read -r _ignored
kill "$pid" 2>/dev/null
wait "$pid""#;

/// A running `redis-server`; stopped when dropped.
#[derive(Debug)]
pub struct RedisProcess {
    server: PathBuf,
    args: Vec<String>,
    port: u16,
    pid: u32,
    watchdog: Child,
    lifeline: Option<ChildStdin>,
}

impl RedisProcess {
    /// Starts `redis-server` (from PATH) with `args`; `port` is where it accepts connections
    /// once ready (`--port` or `--tls-port` among `args`).
    pub fn start(port: u16, args: Vec<String>) -> Result<RedisProcess, String> {
        let server = find_on_path("redis-server").ok_or("no redis-server on PATH")?;
        let (watchdog, lifeline, pid) = spawn(&server, &args)?;
        let mut process = RedisProcess { server, args, port, pid, watchdog, lifeline: Some(lifeline) };
        process.wait_accepting()?;
        Ok(process)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Kills the server with SIGKILL (no shutdown, no last write) and waits until it is gone.
    pub fn kill(&mut self) {
        let _ = Command::new("kill").args(["-KILL", &self.pid.to_string()]).status();
        drop(self.lifeline.take());
        let _ = self.watchdog.wait();
    }

    /// Starts the server again with the same arguments (so the same port and data).
    pub fn restart(&mut self) -> Result<(), String> {
        let (watchdog, lifeline, pid) = spawn(&self.server, &self.args)?;
        self.watchdog = watchdog;
        self.lifeline = Some(lifeline);
        self.pid = pid;
        self.wait_accepting()
    }

    fn wait_accepting(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return Ok(());
            }
            if let Ok(Some(status)) = self.watchdog.try_wait() {
                return Err(format!("redis-server on port {} stopped at once ({status})", self.port));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(format!("redis-server on port {} accepted no connection within 20 s", self.port))
    }
}

impl Drop for RedisProcess {
    fn drop(&mut self) {
        drop(self.lifeline.take());
        let _ = self.watchdog.wait();
    }
}

fn spawn(server: &PathBuf, args: &[String]) -> Result<(Child, ChildStdin, u32), String> {
    let mut watchdog = Command::new("sh")
        .arg("-c")
        .arg(WATCHDOG)
        .arg("redis-watchdog")
        .arg(server)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("could not run sh: {e}"))?;
    let lifeline = watchdog.stdin.take().ok_or("no stdin pipe to the watchdog")?;
    let stdout = watchdog.stdout.take().ok_or("no stdout pipe from the watchdog")?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).map_err(|e| format!("the watchdog said nothing: {e}"))?;
    let pid = line.trim().parse().map_err(|_| format!("the watchdog printed {line:?}, not a process id"))?;
    Ok((watchdog, lifeline, pid))
}

/// A port free at the moment of asking.
pub fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

pub(crate) fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(name)).find(|p| p.is_file())
}
