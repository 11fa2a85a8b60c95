//! End-to-end tests in one binary: the product's binaries as separate processes (the simulator, `activator run`, `serve`, `api` and `worker` over Redis), and the deployment assets.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod api_serve;
mod api_workers;
mod canary;
mod cli_client;
mod deploy_assets;
mod docs_links;
mod doctor;
mod metrics_scrape;
mod plan;
mod production_redis;
mod rollout_embedded;
mod rollout_redis;
mod simulator_process;
