//! Application users' credentials and the access tokens issued to them, in the manner of the
//! Microsoft Entra token endpoint (client credentials grant).

use crate::rng::Rng;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, Instant};

/// A client id and secret of one application user.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientCredential {
    pub id: String,
    pub secret: String,
}

impl fmt::Debug for ClientCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCredential").field("id", &self.id).field("secret", &"<redacted>").finish()
    }
}

impl std::str::FromStr for ClientCredential {
    type Err = String;
    /// `ID:SECRET`.
    fn from_str(s: &str) -> Result<Self, String> {
        match s.split_once(':') {
            Some((id, secret)) if !id.is_empty() && !secret.is_empty() => {
                Ok(Self { id: id.to_string(), secret: secret.to_string() })
            }
            _ => Err("a client must be written ID:SECRET, both non-empty".to_string()),
        }
    }
}

/// The application user the simulator has when none is configured.
pub fn default_client() -> ClientCredential {
    ClientCredential {
        id: "51f81489-12ee-4a9e-aaae-a2591f45987d".to_string(),
        secret: "sim-secret".to_string(),
    }
}

/// An error answer of the token endpoint, shaped as Entra's.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenError {
    pub status: u16,
    pub error: &'static str,
    pub code: u32,
    pub description: String,
}

impl TokenError {
    pub fn body(&self) -> Value {
        let now = crate::org::now_utc();
        json!({
            "error": self.error,
            "error_description": format!("AADSTS{}: {}\r\nTimestamp: {now}", self.code, self.description),
            "error_codes": [self.code],
            "timestamp": now,
            "trace_id": "00000000-0000-0000-0000-000000000000",
            "correlation_id": "00000000-0000-0000-0000-000000000000",
            "error_uri": format!("https://login.microsoftonline.com/error?code={}", self.code),
        })
    }
}

#[derive(Debug)]
struct Issued {
    client_id: String,
    expires_at: Instant,
}

/// Why a bearer token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BearerError {
    Missing,
    Invalid,
    Expired,
}

/// Issued access tokens.
#[derive(Debug)]
pub struct TokenStore {
    clients: Vec<ClientCredential>,
    tokens: HashMap<String, Issued>,
    rng: Rng,
}

impl TokenStore {
    pub fn new(clients: Vec<ClientCredential>, rng: Rng) -> Self {
        Self { clients, tokens: HashMap::new(), rng }
    }

    /// Handles a client credentials request given its form fields.
    pub fn grant(
        &mut self,
        tenant: &str,
        form: &HashMap<String, String>,
        lifetime: (u64, u64),
        now: Instant,
    ) -> Result<Value, TokenError> {
        let field = |name: &str| form.get(name).map(String::as_str).filter(|v| !v.is_empty());
        let missing = |name: &str| TokenError {
            status: 400,
            error: "invalid_request",
            code: 900144,
            description: format!("The request body must contain the following parameter: '{name}'."),
        };
        let grant_type = field("grant_type").ok_or_else(|| missing("grant_type"))?;
        if grant_type != "client_credentials" {
            return Err(TokenError {
                status: 400,
                error: "unsupported_grant_type",
                code: 70003,
                description: format!("The app requested an unsupported grant type '{grant_type}'."),
            });
        }
        let client_id = field("client_id").ok_or_else(|| missing("client_id"))?;
        let secret = field("client_secret").ok_or_else(|| missing("client_secret"))?;
        let scope = field("scope").ok_or_else(|| missing("scope"))?;
        let Some(client) = self.clients.iter().find(|c| c.id == client_id) else {
            return Err(TokenError {
                status: 400,
                error: "unauthorized_client",
                code: 700016,
                description: format!(
                    "Application with identifier '{client_id}' was not found in the directory '{tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant."
                ),
            });
        };
        if client.secret != secret {
            return Err(TokenError {
                status: 401,
                error: "invalid_client",
                code: 7000215,
                description: format!(
                    "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'."
                ),
            });
        }
        if !scope.ends_with("/.default") {
            return Err(TokenError {
                status: 400,
                error: "invalid_scope",
                code: 1002012,
                description: format!(
                    "The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."
                ),
            });
        }
        let expires_in = self.rng.range(lifetime.0, lifetime.1);
        let token = format!("sim.{:016x}{:016x}", self.rng.next_u64(), self.rng.next_u64());
        self.tokens.insert(
            token.clone(),
            Issued { client_id: client_id.to_string(), expires_at: now + Duration::from_secs(expires_in) },
        );
        Ok(json!({
            "token_type": "Bearer",
            "expires_in": expires_in,
            "ext_expires_in": expires_in,
            "access_token": token,
        }))
    }

    /// The client id a bearer token was issued to, if it is valid at `now`.
    pub fn check(&self, authorization: Option<&str>, now: Instant) -> Result<String, BearerError> {
        let token = authorization
            .and_then(|h| h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer ")))
            .map(str::trim)
            .ok_or(BearerError::Missing)?;
        let issued = self.tokens.get(token).ok_or(BearerError::Invalid)?;
        if now >= issued.expires_at {
            return Err(BearerError::Expired);
        }
        Ok(issued.client_id.clone())
    }

    /// Ends a token's life now (the "expired token" fault).
    pub fn expire(&mut self, authorization: Option<&str>, now: Instant) {
        if let Some(token) = authorization.and_then(|h| h.strip_prefix("Bearer "))
            && let Some(issued) = self.tokens.get_mut(token.trim())
        {
            issued.expires_at = now;
        }
    }

    /// Ends every issued token's life now, as if all had expired.
    pub fn expire_all(&mut self, now: Instant) {
        for issued in self.tokens.values_mut() {
            issued.expires_at = issued.expires_at.min(now);
        }
    }

    pub fn clients(&self) -> &[ClientCredential] {
        &self.clients
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn store() -> TokenStore {
        TokenStore::new(vec![ClientCredential { id: "app".into(), secret: "s3cret".into() }], Rng::new(1))
    }

    fn good() -> HashMap<String, String> {
        form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "app"),
            ("client_secret", "s3cret"),
            ("scope", "https://x.crm.dynamics.com/.default"),
        ])
    }

    #[test]
    fn a_granted_token_is_accepted_until_it_expires() {
        let mut s = store();
        let now = Instant::now();
        let body = s.grant("t", &good(), (60, 60), now).expect("granted");
        assert_eq!(body["expires_in"], 60);
        let header = format!("Bearer {}", body["access_token"].as_str().expect("token"));
        assert_eq!(s.check(Some(&header), now), Ok("app".to_string()));
        assert_eq!(s.check(Some(&header), now + Duration::from_secs(60)), Err(BearerError::Expired));
        assert_eq!(s.check(None, now), Err(BearerError::Missing));
        assert_eq!(s.check(Some("Bearer nope"), now), Err(BearerError::Invalid));
    }

    #[test]
    fn bad_secret_is_401_invalid_client() {
        let mut f = good();
        f.insert("client_secret".into(), "wrong".into());
        let err = store().grant("t", &f, (60, 60), Instant::now()).expect_err("refused");
        assert_eq!((err.status, err.error, err.code), (401, "invalid_client", 7000215));
        assert_eq!(err.body()["error_codes"][0], 7000215);
    }

    #[test]
    fn scope_must_be_a_default_scope() {
        let mut f = good();
        f.insert("scope".into(), "https://x.crm.dynamics.com/user_impersonation".into());
        assert_eq!(
            store().grant("t", &f, (60, 60), Instant::now()).expect_err("refused").error,
            "invalid_scope"
        );
    }

    #[test]
    fn secrets_do_not_show_in_debug_output() {
        let c: ClientCredential = "id:topsecret".parse().expect("parses");
        assert!(!format!("{c:?}").contains("topsecret"));
        assert!("nocolon".parse::<ClientCredential>().is_err());
    }
}
