//! Access tokens for one credential: fetched by the client credentials grant, cached, renewed
//! before they expire (from `expires_in`, never an assumed hour), one fetch at a time however
//! many tasks ask.

use crate::credential::Credential;
use crate::error::DataverseError;
use serde::Deserialize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// Renew this long before expiry at most (a fifth of the lifetime for short-lived tokens).
const RENEW_MARGIN: Duration = Duration::from_secs(300);

#[derive(Clone)]
struct Cached {
    value: String,
    renew_at: Instant,
    expires_at: Instant,
}

impl std::fmt::Debug for Cached {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cached")
            .field("value", &"<redacted>")
            .field("renew_at", &self.renew_at)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// After a failed early renewal, how long the current token is used before trying again.
const RENEW_RETRY: Duration = Duration::from_secs(10);

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    expires_in: u64,
}

#[derive(Deserialize, Default)]
struct EntraError {
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_description: String,
}

/// Tokens of one credential for one resource.
#[derive(Debug)]
pub struct TokenSource {
    http: reqwest::Client,
    credential: Credential,
    scope: String,
    cached: Mutex<Option<Cached>>,
    fetches: AtomicU64,
}

impl TokenSource {
    /// Tokens for the org at `org_url` (scope `{org_url}/.default`).
    pub fn new(http: reqwest::Client, credential: Credential, org_url: &str) -> Self {
        Self {
            http,
            credential,
            scope: format!("{}/.default", org_url.trim_end_matches('/')),
            cached: Mutex::new(None),
            fetches: AtomicU64::new(0),
        }
    }

    pub fn credential(&self) -> &Credential {
        &self.credential
    }

    /// How many tokens were fetched so far.
    pub fn fetches(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    /// A valid token: the cached one, or a new one when it is due for renewal.
    pub async fn token(&self) -> Result<String, DataverseError> {
        // Holding the lock across the fetch makes every concurrent caller wait for one fetch.
        let mut cached = self.cached.lock().await;
        let now = Instant::now();
        if let Some(c) = cached.as_ref().filter(|c| now < c.renew_at) {
            return Ok(c.value.clone());
        }
        match self.fetch().await {
            Ok(fresh) => {
                let value = fresh.value.clone();
                *cached = Some(fresh);
                Ok(value)
            }
            // A failed early renewal keeps using the token while it is still valid, and tries
            // again a little later rather than on every call.
            Err(e) => {
                let now = Instant::now();
                match cached.as_mut().filter(|c| now < c.expires_at) {
                    Some(c) => {
                        c.renew_at = now + RENEW_RETRY.min((c.expires_at - now) / 2);
                        tracing::warn!(error = %e, "token renewal failed; using the current token until it expires");
                        Ok(c.value.clone())
                    }
                    None => Err(e),
                }
            }
        }
    }

    /// Forgets `stale` (refused with 401) so the next call fetches a new token.
    pub async fn invalidate(&self, stale: &str) {
        let mut cached = self.cached.lock().await;
        if cached.as_ref().is_some_and(|c| c.value == stale) {
            *cached = None;
        }
    }

    async fn fetch(&self) -> Result<Cached, DataverseError> {
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", self.credential.client_id.as_str()),
            ("client_secret", self.credential.client_secret.expose()),
            ("scope", self.scope.as_str()),
        ];
        let started = Instant::now();
        let resp = self
            .http
            .post(self.credential.token_url())
            .form(&form)
            .send()
            .await
            .map_err(|e| DataverseError::from_transport(&e))?;
        let status = resp.status().as_u16();
        let body = resp.bytes().await.map_err(|e| DataverseError::from_transport(&e))?;
        if status != 200 {
            let err: EntraError = serde_json::from_slice(&body).unwrap_or_default();
            let message = format!(
                "token request for client {} at {} failed: {}",
                self.credential.client_id,
                self.credential.authority,
                if err.error_description.is_empty() {
                    format!("HTTP {status}")
                } else {
                    err.error_description
                }
            );
            return Err(match status {
                500..=599 | 408 | 429 => {
                    DataverseError::Transient { status: Some(status), code: err.error, message }
                }
                _ => DataverseError::Unauthorized { code: err.error, message },
            });
        }
        let answer: TokenAnswer =
            serde_json::from_slice(&body).map_err(|e| DataverseError::Unauthorized {
                code: String::new(),
                message: format!("the token endpoint answered 200 without a readable token: {e}"),
            })?;
        let lifetime = Duration::from_secs(answer.expires_in);
        let margin = RENEW_MARGIN.min(lifetime / 5);
        Ok(Cached {
            value: answer.access_token,
            renew_at: started + lifetime.saturating_sub(margin),
            expires_at: started + lifetime,
        })
    }
}
