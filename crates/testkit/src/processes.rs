//! The project's binaries and examples as processes: built first with the tests' profile so a
//! test never runs a stale one, and killed when the test lets go of them.

use std::path::PathBuf;
use std::process::Command;

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
    // Cargo sets CARGO_MANIFEST_DIR for the test being run; passed on, it differs from a build
    // in a shell and makes build scripts that watch it (ring's) run again, rebuilding half the
    // workspace on every test run.
    build.env_remove("CARGO_MANIFEST_DIR");
    if release {
        build.arg("--release");
    }
    let status = build.status().unwrap_or_else(|e| panic!("cannot run cargo to build {name}: {e}"));
    assert!(status.success(), "building {name} failed");
}

/// Path of a workspace binary, built first.
pub fn binary(name: &str) -> PathBuf {
    build(&["--workspace", "--bin", name], name);
    profile_dir().join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

/// Path of an example of the package whose tests are running, built first.
pub fn example(name: &str) -> PathBuf {
    build(&["--example", name], name);
    profile_dir().join("examples").join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
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
