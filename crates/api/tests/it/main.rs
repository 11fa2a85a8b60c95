//! The HTTP API through its router (`tower::ServiceExt::oneshot`) on a real SQLite store in a
//! temp file: every endpoint, every class of bad input, auth, control rules, events.
#![allow(clippy::unwrap_used)]

mod auth;
mod batch_actions;
mod batches;
mod create_batch;
mod events;
mod openapi;
mod ops;
mod retention;
mod store_gauges;
mod support;
