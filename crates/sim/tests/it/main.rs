//! The simulator's tests, in one binary: the token endpoint, the Web API, teams and role holders,
//! approval variants, `$batch`, limits, faults, processes and its own endpoints.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod approval;
mod auth;
mod batch;
mod common;
mod faults;
mod limits;
mod processes;
mod sim_endpoints;
mod teams;
mod web_api;
