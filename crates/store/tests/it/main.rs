//! The store's tests, in one binary: the conformance suite run against SQLite (in memory and
//! on a file) and Redis (plain and over TLS), and what only one store has to show.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod conformance;
mod redis_claims;
mod redis_store;
mod redis_tls_store;
mod sqlite_store;
