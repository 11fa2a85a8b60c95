//! Bearer tokens and their roles. Tokens are configured as comma-separated `role:token` or
//! `role:sha256:HEX` entries (role `operator` or `viewer`); only their SHA-256 digests are
//! kept, and a presented token's digest is compared with every configured one in constant
//! time. A viewer may read (GET) under `/v1`; an operator may do everything.

use crate::api_error::ApiError;
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::Response;
use sha2::{Digest, Sha256};
use store::BatchStore;
use subtle::ConstantTimeEq;

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Viewer,
    Operator,
}

impl Role {
    fn parse(s: &str) -> Option<Role> {
        match s.trim() {
            "viewer" => Some(Role::Viewer),
            "operator" => Some(Role::Operator),
            _ => None,
        }
    }
}

type TokenDigest = [u8; 32];

/// Who may call the API.
#[derive(Clone)]
pub enum Auth {
    /// Every request counts as an operator's (`--insecure-no-auth`).
    Open,
    Tokens(Vec<(Role, TokenDigest)>),
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::Open => f.write_str("Auth::Open"),
            Auth::Tokens(t) => write!(f, "Auth::Tokens({} configured)", t.len()),
        }
    }
}

fn digest(token: &str) -> TokenDigest {
    Sha256::digest(token.as_bytes()).into()
}

fn parse_hex(hex: &str) -> Option<TokenDigest> {
    if hex.len() != 64 || !hex.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

impl Auth {
    /// Reads the tokens configuration (`ACTIVATOR_API_TOKENS`). With none configured the API
    /// refuses to start unless `insecure_no_auth` says to let everyone in.
    pub fn from_config(tokens: Option<&str>, insecure_no_auth: bool) -> Result<Auth, String> {
        let spec = tokens.unwrap_or("").trim();
        if spec.is_empty() {
            return if insecure_no_auth {
                Ok(Auth::Open)
            } else {
                Err("no API tokens configured: set ACTIVATOR_API_TOKENS to comma-separated \
                     role:token or role:sha256:HEX entries (role operator or viewer), \
                     or give --insecure-no-auth to let every caller in as an operator"
                    .into())
            };
        }
        if insecure_no_auth {
            return Err("--insecure-no-auth and API tokens exclude each other: drop one of them".into());
        }
        Self::parse(spec).map(Auth::Tokens)
    }

    fn parse(spec: &str) -> Result<Vec<(Role, TokenDigest)>, String> {
        let mut out = Vec::new();
        for (n, entry) in spec.split(',').map(str::trim).enumerate().filter(|(_, e)| !e.is_empty()) {
            let which = format!("API token entry {}", n + 1);
            let (role, secret) = entry
                .split_once(':')
                .ok_or_else(|| format!("{which} has no role: write it as operator:TOKEN or viewer:TOKEN"))?;
            let role = Role::parse(role)
                .ok_or_else(|| format!("{which} has the role '{role}': use operator or viewer"))?;
            let digest = match secret.strip_prefix("sha256:") {
                Some(hex) => parse_hex(hex.trim()).ok_or_else(|| {
                    format!("{which}: after sha256: give the 64 hex digits of the token's SHA-256 digest")
                })?,
                None if secret.trim().is_empty() => {
                    return Err(format!("{which} has an empty token: give the token after the role"));
                }
                None => digest(secret.trim()),
            };
            out.push((role, digest));
        }
        if out.is_empty() {
            return Err("ACTIVATOR_API_TOKENS lists no token: give role:token entries".into());
        }
        Ok(out)
    }

    /// The role of `token`, comparing its digest with every configured one in constant time.
    pub fn role_of(&self, token: Option<&str>) -> Option<Role> {
        let configured = match self {
            Auth::Open => return Some(Role::Operator),
            Auth::Tokens(t) => t,
        };
        let presented = digest(token?);
        let mut found = None;
        for (role, known) in configured {
            // Every entry is compared, whichever matches, so the time does not tell which.
            if bool::from(known.ct_eq(&presented)) {
                found = found.max(Some(*role));
            }
        }
        found
    }
}

/// The token of an `Authorization: Bearer TOKEN` header.
fn bearer(req: &Request) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(token.trim()).filter(|t| !t.is_empty())
}

/// Middleware of the `/v1` routes: 401 without a known token, 403 for a viewer's write.
pub async fn require_role<S: BatchStore>(
    State(state): State<AppState<S>>,
    req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let needed =
        if matches!(*req.method(), Method::GET | Method::HEAD) { Role::Viewer } else { Role::Operator };
    let token = bearer(&req);
    let role = state.auth.role_of(token).ok_or_else(|| {
        ApiError::Unauthorized(if token.is_some() {
            "the bearer token is not one of the configured API tokens: check ACTIVATOR_API_TOKENS".into()
        } else {
            "send an API token as 'Authorization: Bearer TOKEN'".into()
        })
    })?;
    if role < needed {
        return Err(ApiError::Forbidden(
            "this is a viewer token, which may only read: use an operator token to change batches".into(),
        ));
    }
    Ok(next.run(req).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_hashed_tokens_give_their_roles() {
        let hashed = "c0fdc8e6b6e4a4e8e5a6a8b9fa4f5b6a08ce5f5b30e3f6d0b2a0b5f5f41e5c38";
        let spec = format!("operator:op-secret, viewer:sha256:{hashed},viewer:view-secret");
        let auth = Auth::from_config(Some(&spec), false).expect("valid");
        assert_eq!(auth.role_of(Some("op-secret")), Some(Role::Operator));
        assert_eq!(auth.role_of(Some("view-secret")), Some(Role::Viewer));
        assert_eq!(auth.role_of(Some("nope")), None);
        assert_eq!(auth.role_of(None), None);
        let sha = format!("operator:sha256:{}", hex(&digest("s3cret")));
        let auth = Auth::from_config(Some(&sha), false).expect("valid");
        assert_eq!(auth.role_of(Some("s3cret")), Some(Role::Operator));
    }

    fn hex(d: &TokenDigest) -> String {
        d.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn bad_configurations_say_how_to_fix_them() {
        let err = Auth::from_config(None, false).expect_err("nothing configured");
        assert!(err.contains("--insecure-no-auth"), "{err}");
        assert!(matches!(Auth::from_config(None, true), Ok(Auth::Open)));
        let err = Auth::from_config(Some("admin:x"), false).expect_err("role");
        assert!(err.contains("operator or viewer"), "{err}");
        let err = Auth::from_config(Some("viewer:sha256:abc"), false).expect_err("digest");
        assert!(err.contains("64 hex digits"), "{err}");
        let err = Auth::from_config(Some("justatoken"), false).expect_err("no role");
        assert!(err.contains("operator:TOKEN"), "{err}");
    }
}
