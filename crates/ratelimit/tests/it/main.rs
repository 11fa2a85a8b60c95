//! The limiter's tests against a real Redis, in one binary.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod redis_shared;
