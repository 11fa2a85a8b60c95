//! Worker names unique per process: apalis-redis 1.0 refuses to register a name it has seen
//! in the last 300 s, so a restarted process must never reuse its predecessor's name.

use uuid::Uuid;

/// `{host}-{pid}-{8 random hex digits}`.
pub fn worker_name() -> String {
    let suffix = Uuid::new_v4().simple().to_string();
    format!("{}-{}-{}", host(), std::process::id(), &suffix[..8])
}

fn host() -> String {
    let from_env = std::env::var("HOSTNAME").ok();
    let from_file = || std::fs::read_to_string("/etc/hostname").ok();
    from_env
        .or_else(from_file)
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_differ_within_one_process() {
        let (a, b) = (worker_name(), worker_name());
        assert_ne!(a, b);
        assert!(a.contains(&format!("-{}-", std::process::id())), "{a}");
    }
}
