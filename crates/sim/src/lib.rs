//! A faithful local stand-in for the Dataverse Web API and the Microsoft Entra token endpoint:
//! a seeded organization with mailboxes, users, roles and teams; the reads, writes and associations
//! the App for Outlook rollout needs; `$batch`; Test & Enable and app deployment as
//! asynchronous processes; the three service protection limits; and injected faults.
//!
//! Shares no code with the client, so a misreading of Dataverse cannot be copied from one
//! into the other.

pub mod auth;
pub mod case;
pub mod faults;
mod http_api;
pub mod limits;
pub mod odata;
pub mod org;
mod processes;
pub mod profile;
pub mod rng;
pub mod schema;
pub mod seed;
mod server;
mod sim_endpoints;
pub mod state;
pub mod stats;
pub mod teams;
mod token_endpoint;
pub mod variants;
pub mod webapi;

pub use auth::{ClientCredential, default_client};
pub use case::{Case, CaseShares};
pub use profile::{Costs, Profile, Range};
pub use server::{RunningSim, router, start, start_at};
pub use state::{Sim, SimConfig};
pub use variants::{ApprovalMode, Variants};
