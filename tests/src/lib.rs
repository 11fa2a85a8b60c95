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
