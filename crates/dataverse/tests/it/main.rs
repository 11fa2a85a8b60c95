//! The Dataverse client against the simulator, in one binary.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod against_simulator;
mod directory;
mod operations;
