//! Helpers for end-to-end tests that run the project's binaries as separate processes.

use std::process::Command;

pub use testkit::{Running, binary};

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
