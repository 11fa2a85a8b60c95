//! An application user's client credentials, with a secret that never shows in logs or `Debug`.

use std::fmt;

/// A secret string: `Debug` and `Display` print `<redacted>`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// One application user: where it gets tokens and with what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    /// Authority including the tenant, e.g. `https://login.microsoftonline.com/{tenant}`.
    pub authority: String,
    pub client_id: String,
    pub client_secret: Secret,
}

impl Credential {
    /// The token endpoint of the authority.
    pub fn token_url(&self) -> String {
        format!("{}/oauth2/v2.0/token", self.authority.trim_end_matches('/'))
    }
}

/// The default authority for a tenant.
pub fn default_authority(tenant: &str) -> String {
    format!("https://login.microsoftonline.com/{tenant}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_show_in_debug_or_display() {
        let c = Credential {
            authority: default_authority("contoso"),
            client_id: "app".into(),
            client_secret: Secret::new("hunter2"),
        };
        assert!(!format!("{c:?}").contains("hunter2"));
        assert_eq!(c.client_secret.to_string(), "<redacted>");
        assert_eq!(c.token_url(), "https://login.microsoftonline.com/contoso/oauth2/v2.0/token");
    }
}
