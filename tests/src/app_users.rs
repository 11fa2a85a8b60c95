//! Several application users of the simulator, for the benchmarks that measure how each added
//! user adds its budget: their client ids, the simulator's arguments that register them, and
//! an `activator` configuration naming them as environment `sim`.

/// The secret of every application user registered here.
pub const SECRET: &str = "sim-secret";

/// The client id of the `n`th application user.
pub fn client_id(n: usize) -> String {
    format!("51f81489-12ee-4a9e-aaae-a2591f4598{n:02}")
}

/// `--client ID:SECRET` for each of `users` application users.
pub fn sim_args(users: usize) -> Vec<String> {
    (0..users).flat_map(|n| ["--client".to_string(), format!("{}:{SECRET}", client_id(n))]).collect()
}

/// Writes an `activator.toml` in `dir` with environment `sim` at the simulator `sim` and
/// `users` application users; returns its path.
pub fn config(dir: &std::path::Path, sim: &str, users: usize) -> std::path::PathBuf {
    let mut toml = format!("[environments.sim]\nurl = \"{sim}\"\nauthority = \"{sim}/tenant\"\n");
    for n in 0..users {
        toml.push_str(&format!(
            "[[environments.sim.app_users]]\nclient_id = \"{}\"\nclient_secret = \"{SECRET}\"\n",
            client_id(n)
        ));
    }
    let path = dir.join("activator.toml");
    std::fs::write(&path, toml).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    path
}
