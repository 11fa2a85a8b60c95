//! The Dataverse Web API client: the only code that speaks HTTP to Dataverse.
//!
//! Tokens per credential, standard headers, one token renewal on 401, limits per application
//! user (requests, execution time, concurrency, pause on 429), a pool of application users,
//! the rollout's operations as typed functions, the read-only directory reads (users, business
//! units, teams, roles, mailboxes in bulk, every page), and every failure classified as a
//! [`DataverseError`] that says whether trying again can help.

pub mod batch_wire;
pub mod business_units;
pub mod coalescer;
pub mod config;
pub mod connection;
pub mod credential;
pub mod dataverse_client;
pub mod doctor;
pub mod error;
pub mod lane;
pub mod mailboxes;
pub mod observer;
pub mod odata;
pub mod org;
pub mod pool;
pub mod request;
pub mod roles;
pub mod steps;
pub mod teams;
pub mod token;
pub mod users;
pub mod whoami;

pub use business_units::BusinessUnit;
pub use coalescer::{Coalescer, CoalescingOptions};
pub use config::EnvironmentConfig;
pub use connection::{Answer, Connection};
pub use credential::{Credential, Secret, default_authority};
pub use dataverse_client::{Dataverse, DataverseOptions};
pub use error::{DataverseError, Limit};
pub use mailboxes::{DeploymentOutcome, Mailbox, TestOutcome};
pub use observer::RequestObserver;
pub use org::{EmailProcessing, OrgSettings};
pub use request::WebApiRequest;
pub use roles::{APP_ROLE_NAME, RoleAssignment};
pub use users::User;
pub use whoami::WhoAmI;
