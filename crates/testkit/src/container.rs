//! A Redis in a container, for machines with a Docker engine but no `redis-server`.

use testcontainers::ContainerAsync;
use testcontainers::runners::AsyncRunner;
use testcontainers_modules::redis::{REDIS_PORT, Redis};
use tokio::sync::OnceCell;

/// Kept for the whole test binary; testcontainers' reaper removes it afterwards.
static CONTAINER: OnceCell<Result<(ContainerAsync<Redis>, String), String>> = OnceCell::const_new();

fn docker_answers() -> bool {
    std::process::Command::new("docker")
        .args(["info", "--format", "{{.ServerVersion}}"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

async fn start() -> Result<(ContainerAsync<Redis>, String), String> {
    if !docker_answers() {
        return Err("no Docker engine answers".to_string());
    }
    let container =
        Redis::default().start().await.map_err(|e| format!("cannot start a Redis container: {e}"))?;
    let host = container.get_host().await.map_err(|e| e.to_string())?;
    let port = container.get_host_port_ipv4(REDIS_PORT).await.map_err(|e| e.to_string())?;
    Ok((container, format!("redis://{host}:{port}")))
}

/// The URL of the container's Redis, starting it the first time.
pub(crate) async fn redis_url() -> Result<String, String> {
    match CONTAINER.get_or_init(start).await {
        Ok((_, url)) => Ok(url.clone()),
        Err(why) => Err(why.clone()),
    }
}
