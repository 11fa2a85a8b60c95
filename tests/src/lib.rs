//! Helpers for end-to-end tests that run the project's binaries as separate processes.

use std::path::PathBuf;
use std::process::Command;

/// Path of a workspace binary, built first (with the same profile as the tests) so the tests
/// never run a stale one.
pub fn binary(name: &str) -> PathBuf {
    let profile_dir = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent()?.parent().map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("target/debug"));
    let release = profile_dir.file_name().is_some_and(|n| n == "release");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let mut build = Command::new(cargo);
    build.args(["build", "--quiet", "--workspace", "--bin", name]);
    if release {
        build.arg("--release");
    }
    let status = build.status().unwrap_or_else(|e| panic!("cannot run cargo to build {name}: {e}"));
    assert!(status.success(), "building {name} failed");
    profile_dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

/// A child process killed when dropped, so a failing test leaves nothing running.
#[derive(Debug)]
pub struct Running(pub std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `dataverse-sim --listen 127.0.0.1:0 ARGS…` and returns it with the base URL it
/// printed when ready.
pub fn start_simulator(args: &[&str]) -> (Running, String) {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let mut child = Command::new(binary("dataverse-sim"))
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start dataverse-sim: {e}"));
    let mut line = String::new();
    if let Some(stdout) = child.stdout.take() {
        let _ = BufReader::new(stdout).read_line(&mut line);
    }
    let url = line.trim().rsplit(' ').next().unwrap_or_default().to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "dataverse-sim's ready line was {line:?}");
    (Running(child), url)
}
