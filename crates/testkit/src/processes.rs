//! The project's binaries and examples as processes: built first with the tests' profile so a
//! test never runs a stale one, and killed when the test lets go of them.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;

fn profile_dir() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent()?.parent().map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("target/debug"))
}

fn build(what: &[&str], name: &str) {
    let release = profile_dir().file_name().is_some_and(|n| n == "release");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let mut build = Command::new(cargo);
    build.args(["build", "--quiet"]).args(what);
    for (key, _) in std::env::vars_os() {
        if key.to_str().is_some_and(set_by_cargo_for_the_running_crate) {
            build.env_remove(key);
        }
    }
    if release {
        build.arg("--release");
    }
    let status = build.status().unwrap_or_else(|e| panic!("cannot run cargo to build {name}: {e}"));
    assert!(status.success(), "building {name} failed");
}

/// Whether cargo sets `key` for the crate being run (the test itself). Passed on to the
/// nested build, such variables differ from a build in a shell, and cargo reruns the build
/// scripts that watch them (ring's watches the package name, version and manifest directory),
/// rebuilding half the workspace whenever tests of another package run.
fn set_by_cargo_for_the_running_crate(key: &str) -> bool {
    key.starts_with("CARGO_PKG_")
        || matches!(
            key,
            "CARGO_MANIFEST_DIR"
                | "CARGO_MANIFEST_PATH"
                | "CARGO_MANIFEST_LINKS"
                | "CARGO_CRATE_NAME"
                | "CARGO_BIN_NAME"
                | "CARGO_PRIMARY_PACKAGE"
                | "CARGO_TARGET_TMPDIR"
                | "OUT_DIR"
        )
}

/// Builds `what` once per test process (a test that starts a binary several times waits for
/// cargo once).
fn build_once(what: &[&str], name: &str) {
    static BUILT: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let key = what.join(" ");
    let mut built = BUILT.lock().unwrap_or_else(|p| p.into_inner());
    if !built.contains(&key) {
        build(what, name);
        built.push(key);
    }
}

/// Path of a workspace binary, built first.
pub fn binary(name: &str) -> PathBuf {
    build_once(&["--workspace", "--bin", name], name);
    profile_dir().join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

/// Path of an example of a workspace package, built first. Built with `--workspace`, so with
/// the features the tests' build resolved (and compiled the example with), not those of one
/// package alone, which would compile most dependencies again.
pub fn example(name: &str) -> PathBuf {
    build_once(&["--workspace", "--example", name], name);
    profile_dir().join("examples").join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

/// Spawns `cmd` and returns it with the rest of the first line, on its stdout or stderr, that
/// starts with `prefix` (such as the address a server bound to). Both streams are passed on to
/// the test's stderr, so a failing test shows what the process said. Panics when the process
/// says no such line within two minutes.
pub fn spawn_announcing(mut cmd: Command, prefix: &str) -> (Running, String) {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    use std::sync::mpsc;
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    let program = std::path::Path::new(cmd.get_program());
    let name = program.file_name().and_then(|n| n.to_str()).unwrap_or("process").to_string();
    let (tx, rx) = mpsc::channel();
    let streams: [Box<dyn std::io::Read + Send>; 2] = [
        Box::new(child.stdout.take().unwrap_or_else(|| panic!("no stdout"))),
        Box::new(child.stderr.take().unwrap_or_else(|| panic!("no stderr"))),
    ];
    for stream in streams {
        let (tx, prefix, name) = (tx.clone(), prefix.to_string(), name.clone());
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                eprintln!("{name}: {line}");
                if let Some(rest) = line.strip_prefix(&prefix) {
                    let _ = tx.send(rest.trim().to_string());
                }
            }
        });
    }
    let running = Running(child);
    let said = rx
        .recv_timeout(std::time::Duration::from_secs(120))
        .unwrap_or_else(|e| panic!("{name} never said \"{prefix}…\": {e}"));
    (running, said)
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

#[cfg(test)]
mod tests {
    use super::set_by_cargo_for_the_running_crate as dropped;

    #[test]
    fn the_running_crates_variables_are_dropped_and_cargos_settings_kept() {
        for key in ["CARGO_PKG_NAME", "CARGO_PKG_VERSION_MAJOR", "CARGO_MANIFEST_DIR", "OUT_DIR"] {
            assert!(dropped(key), "{key} passed on");
        }
        for key in ["CARGO", "CARGO_HOME", "CARGO_TARGET_DIR", "CARGO_BUILD_JOBS", "PATH"] {
            assert!(!dropped(key), "{key} dropped");
        }
    }
}
