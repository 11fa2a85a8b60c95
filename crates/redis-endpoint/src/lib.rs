//! How to reach a deployment's Redis: its URL (`redis://` or, with TLS, `rediss://`, a user
//! and password allowed), and for TLS a private CA and an optional client certificate. The
//! batch store, the shared limits and the job queue all connect through [`RedisEndpoint`],
//! so each speaks TLS the same way, and none prints the password.

use std::fmt;
use std::path::{Path, PathBuf};

/// A Redis to connect to. Its `Debug` and every error show the address, never the password.
#[derive(Clone, PartialEq, Eq)]
pub struct RedisEndpoint {
    url: String,
    ca_file: Option<PathBuf>,
    client_identity: Option<ClientIdentity>,
}

/// A client certificate and its private key (PEM files), for a Redis that asks clients for one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientIdentity {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
}

/// Why a Redis client could not be made from an endpoint.
#[derive(Debug, thiserror::Error)]
pub enum RedisEndpointError {
    #[error(
        "the Redis URL is not valid ({0}); write it as redis://[user:password@]host:port[/db], or rediss://... for TLS"
    )]
    InvalidUrl(String),
    #[error("{what} {} cannot be read: {source}; check the path and that this process may read it", path.display())]
    File { what: &'static str, path: PathBuf, source: std::io::Error },
    #[error(
        "a CA file or client certificate was given, but the Redis URL does not use TLS; write it as rediss://..."
    )]
    TlsFilesWithoutTls,
    #[error("cannot set up TLS for Redis at {address}: {reason}")]
    Tls { address: String, reason: String },
}

impl RedisEndpoint {
    /// The Redis at `url`, trusting the system's certificate authorities when it is `rediss://`.
    pub fn new(url: impl Into<String>) -> Self {
        RedisEndpoint { url: url.into(), ca_file: None, client_identity: None }
    }

    /// Trust only the CA certificates (PEM) in `ca_file`: a private CA, or a managed service's.
    pub fn with_ca_file(mut self, ca_file: impl Into<PathBuf>) -> Self {
        self.ca_file = Some(ca_file.into());
        self
    }

    /// Present `identity` to a Redis that authenticates clients by certificate.
    pub fn with_client_identity(mut self, identity: ClientIdentity) -> Self {
        self.client_identity = Some(identity);
        self
    }

    /// The URL as given, password included: for handing to a child process, never for printing.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn ca_file(&self) -> Option<&Path> {
        self.ca_file.as_deref()
    }

    pub fn client_identity(&self) -> Option<&ClientIdentity> {
        self.client_identity.as_ref()
    }

    /// Whether the URL asks for TLS (`rediss://`).
    pub fn uses_tls(&self) -> bool {
        self.url.trim_start().to_ascii_lowercase().starts_with("rediss://")
    }

    /// `host:port` (and the database), without user or password: for messages and logs.
    pub fn address(&self) -> String {
        redacted(&self.url)
    }

    /// A client for this Redis; nothing is connected yet.
    pub fn client(&self) -> Result<redis::Client, RedisEndpointError> {
        let tls_files = self.ca_file.is_some() || self.client_identity.is_some();
        if tls_files && !self.uses_tls() {
            return Err(RedisEndpointError::TlsFilesWithoutTls);
        }
        if self.uses_tls() {
            install_crypto_provider();
        }
        let invalid =
            |e: redis::RedisError| RedisEndpointError::InvalidUrl(without_secrets(&e.to_string(), &self.url));
        if !tls_files {
            return redis::Client::open(self.url.as_str()).map_err(invalid);
        }
        let root_cert = match &self.ca_file {
            Some(path) => Some(read("the Redis CA file", path)?),
            None => None,
        };
        let client_tls = match &self.client_identity {
            Some(identity) => Some(redis::ClientTlsConfig {
                client_cert: read("the Redis client certificate", &identity.cert_file)?,
                client_key: read("the Redis client key", &identity.key_file)?,
            }),
            None => None,
        };
        redis::Client::build_with_tls(self.url.as_str(), redis::TlsCertificates { client_tls, root_cert })
            .map_err(|e| RedisEndpointError::Tls {
                address: self.address(),
                reason: without_secrets(&e.to_string(), &self.url),
            })
    }
}

impl fmt::Debug for RedisEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisEndpoint")
            .field("address", &self.address())
            .field("tls", &self.uses_tls())
            .field("ca_file", &self.ca_file)
            .field("client_identity", &self.client_identity)
            .finish()
    }
}

impl From<&str> for RedisEndpoint {
    fn from(url: &str) -> Self {
        RedisEndpoint::new(url)
    }
}

impl From<String> for RedisEndpoint {
    fn from(url: String) -> Self {
        RedisEndpoint::new(url)
    }
}

impl From<&String> for RedisEndpoint {
    fn from(url: &String) -> Self {
        RedisEndpoint::new(url.as_str())
    }
}

impl From<&RedisEndpoint> for RedisEndpoint {
    fn from(endpoint: &RedisEndpoint) -> Self {
        endpoint.clone()
    }
}

fn read(what: &'static str, path: &Path) -> Result<Vec<u8>, RedisEndpointError> {
    std::fs::read(path).map_err(|source| RedisEndpointError::File { what, path: path.to_path_buf(), source })
}

/// rustls needs one process-wide crypto provider; the build may link two (ring comes with
/// some dependencies), so the choice is made here rather than left to feature detection,
/// which refuses to choose. Another part of the process may have chosen first: that is fine.
fn install_crypto_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

/// The URL with any `user:password@` taken out.
fn redacted(url: &str) -> String {
    let url = url.trim();
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    let path = path.split(['?', '#']).next().unwrap_or("");
    let address = format!("{host}{path}");
    if scheme.is_empty() { address } else { format!("{scheme}://{address}") }
}

/// `message` with the URL's password (and the whole URL) replaced, in case a library quotes it.
fn without_secrets(message: &str, url: &str) -> String {
    let mut message = message.replace(url, &redacted(url));
    if let Some(password) = password(url) {
        message = message.replace(&password, "***");
    }
    message
}

fn password(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let userinfo = authority.rsplit_once('@')?.0;
    let password = userinfo.split_once(':').map_or(userinfo, |(_, p)| p);
    (!password.is_empty()).then(|| password.to_string())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_address_leaves_out_user_and_password() {
        assert_eq!(
            RedisEndpoint::new("rediss://app:s3cr%40t@cache.example.net:6380/2").address(),
            "rediss://cache.example.net:6380/2"
        );
        assert_eq!(RedisEndpoint::new("redis://:pw@127.0.0.1:6379").address(), "redis://127.0.0.1:6379");
        assert_eq!(RedisEndpoint::new("redis://127.0.0.1:6379").address(), "redis://127.0.0.1:6379");
    }

    #[test]
    fn debug_shows_no_password() {
        let endpoint = RedisEndpoint::new("rediss://default:hunter2@cache:6380").with_ca_file("/etc/ca.pem");
        let shown = format!("{endpoint:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("cache:6380") && shown.contains("ca.pem"), "{shown}");
    }

    #[test]
    fn a_ca_file_with_a_plain_url_is_refused() {
        let err =
            RedisEndpoint::new("redis://:pw@localhost:6379").with_ca_file("/ca.pem").client().unwrap_err();
        assert!(matches!(err, RedisEndpointError::TlsFilesWithoutTls), "{err}");
        assert!(err.to_string().contains("rediss://"), "{err}");
    }

    #[test]
    fn a_missing_ca_file_is_named_in_the_error() {
        let err = RedisEndpoint::new("rediss://:pw@localhost:6380")
            .with_ca_file("/no/such/ca.pem")
            .client()
            .unwrap_err();
        let message = err.to_string();
        assert!(message.contains("/no/such/ca.pem") && message.contains("CA file"), "{message}");
        assert!(!message.contains("pw@"), "{message}");
    }

    #[test]
    fn an_invalid_url_error_does_not_quote_the_password() {
        let err = RedisEndpoint::new("redis://:topsecret@host:notaport").client().unwrap_err();
        assert!(!err.to_string().contains("topsecret"), "{err}");
    }

    #[test]
    fn a_tls_url_makes_a_client_without_files() {
        let client = RedisEndpoint::new("rediss://:pw@localhost:6380").client().unwrap();
        assert_eq!(client.get_connection_info().addr().to_string(), "localhost:6380");
    }
}
