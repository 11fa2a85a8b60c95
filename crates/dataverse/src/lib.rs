//! The Dataverse Web API client: the only code that speaks HTTP to Dataverse.
//!
//! Tokens per credential, standard headers, one token renewal on 401, and every failure
//! classified as a [`DataverseError`] that says whether trying again can help.

pub mod client;
pub mod credential;
pub mod error;
pub mod mailboxes;
pub mod token;
pub mod whoami;

pub use client::{Answer, Connection};
pub use credential::{Credential, Secret, default_authority};
pub use error::{DataverseError, Limit};
pub use mailboxes::Mailbox;
pub use whoami::WhoAmI;
