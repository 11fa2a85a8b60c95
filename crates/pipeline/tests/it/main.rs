//! The pipeline's tests, in one binary: workers in process, fair feeding, pause and cancel against the simulator, and worker processes killed mid-batch.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod fair_window;
mod in_process;
mod kill_worker;
mod pause_and_cancel;
mod plan_agreement;
mod rollout_setup;
mod safety;
mod selection;
