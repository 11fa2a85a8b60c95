//! Every failure of a Dataverse call, classified in one place: what happened, whether trying
//! again can help, and Dataverse's own code and message.

use std::time::Duration;

/// Which service protection limit answered 429.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Limit {
    Requests,
    ExecutionTime,
    Concurrency,
}

impl Limit {
    /// The limit named by a 429's error code, if it is one of the documented three.
    pub fn from_code(code: &str) -> Option<Limit> {
        match code.to_ascii_lowercase().as_str() {
            "0x80072322" | "-2147015902" => Some(Limit::Requests),
            "0x80072321" | "-2147015903" => Some(Limit::ExecutionTime),
            "0x80072326" | "-2147015898" => Some(Limit::Concurrency),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Limit::Requests => "requests",
            Limit::ExecutionTime => "execution_time",
            Limit::Concurrency => "concurrency",
        }
    }
}

/// A failed Dataverse call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DataverseError {
    /// 429: wait `retry_after`, then send again (does not count as a failed attempt).
    #[error("throttled by the {} limit for {retry_after:?}: {message}", limit.map_or("unknown", Limit::name))]
    Throttled { retry_after: Duration, limit: Option<Limit>, code: String, message: String },
    /// The token was refused, or no token could be had.
    #[error(
        "not authorized ({code}): {message}. Check the client id and secret, and that the application user exists in the environment"
    )]
    Unauthorized { code: String, message: String },
    /// The application user lacks a privilege; permanent until someone grants it.
    #[error("privilege denied ({code}): {message}. {remedy}")]
    PrivilegeDenied { code: String, message: String, remedy: String },
    /// The row does not exist; permanent.
    #[error("not found ({code}): {message}")]
    NotFound { code: String, message: String },
    /// What was asked is already so (a duplicate association); treat as done.
    #[error("already done ({code}): {message}")]
    AlreadyDone { code: String, message: String },
    /// The row changed since it was read (`If-Match`); read again, then decide.
    #[error("conflict ({code}): {message}")]
    Conflict { code: String, message: String },
    /// Server error, timeout or broken connection: may work if sent again.
    #[error("transient failure{}: {message}", status.map(|s| format!(" (HTTP {s})")).unwrap_or_default())]
    Transient { status: Option<u16>, code: String, message: String },
    /// A request Dataverse cannot accept: a bug on our side; permanent.
    #[error("invalid request (HTTP {status}, {code}): {message}")]
    Invalid { status: u16, code: String, message: String },
}

impl DataverseError {
    /// Whether sending the same request again can succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Throttled { .. } | Self::Transient { .. } | Self::Conflict { .. })
    }

    /// The HTTP status the failure came with, when there was an answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Throttled { .. } => Some(429),
            Self::Unauthorized { .. } => Some(401),
            Self::PrivilegeDenied { .. } => Some(403),
            Self::NotFound { .. } => Some(404),
            Self::AlreadyDone { .. } | Self::Conflict { .. } => Some(412),
            Self::Transient { status, .. } => *status,
            Self::Invalid { status, .. } => (*status != 0).then_some(*status),
        }
    }

    /// Dataverse's error code (empty when it gave none).
    pub fn code(&self) -> &str {
        match self {
            Self::Throttled { code, .. }
            | Self::Unauthorized { code, .. }
            | Self::PrivilegeDenied { code, .. }
            | Self::NotFound { code, .. }
            | Self::AlreadyDone { code, .. }
            | Self::Conflict { code, .. }
            | Self::Transient { code, .. }
            | Self::Invalid { code, .. } => code,
        }
    }

    /// Dataverse's message.
    pub fn message(&self) -> &str {
        match self {
            Self::Throttled { message, .. }
            | Self::Unauthorized { message, .. }
            | Self::PrivilegeDenied { message, .. }
            | Self::NotFound { message, .. }
            | Self::AlreadyDone { message, .. }
            | Self::Conflict { message, .. }
            | Self::Transient { message, .. }
            | Self::Invalid { message, .. } => message,
        }
    }

    /// Classifies an HTTP error answer from its status, `Retry-After` and body.
    pub fn from_response(status: u16, retry_after: Option<&str>, body: &[u8]) -> Self {
        let (code, message) = parse_body(body);
        let message =
            if message.is_empty() { format!("HTTP {status} with no error message") } else { message };
        // Whatever the status (the documented 412 is unconfirmed), a duplicate key means the
        // association exists already.
        if code.eq_ignore_ascii_case("0x80040237") || code == "-2147220937" {
            return Self::AlreadyDone { code, message };
        }
        match status {
            429 => Self::Throttled {
                retry_after: parse_retry_after(retry_after),
                limit: Limit::from_code(&code),
                code,
                message,
            },
            401 => Self::Unauthorized { code, message },
            403 => {
                let remedy = remedy_for_privilege(&message);
                Self::PrivilegeDenied { code, message, remedy }
            }
            404 => Self::NotFound { code, message },
            409 | 412 => Self::Conflict { code, message },
            408 | 500..=599 => Self::Transient { status: Some(status), code, message },
            _ => Self::Invalid { status, code, message },
        }
    }

    /// Classifies a failure to get any answer (connection refused or dropped, timeout).
    pub fn from_transport(err: &reqwest::Error) -> Self {
        let what = if err.is_timeout() {
            "timed out"
        } else if err.is_connect() {
            "could not connect"
        } else {
            "connection failed"
        };
        Self::Transient { status: None, code: String::new(), message: format!("{what}: {err}") }
    }
}

/// Reads `{"error":{"code","message"}}`; tolerates other bodies.
fn parse_body(body: &[u8]) -> (String, String) {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
        return (String::new(), String::from_utf8_lossy(body).chars().take(500).collect());
    };
    let error = &value["error"];
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
    (text(&error["code"]), text(&error["message"]))
}

/// Longest wait taken from a `Retry-After`; Dataverse's windows are five minutes.
const MAX_RETRY_AFTER_SECS: f64 = 3600.0;

/// `Retry-After` in seconds (fractions allowed), at most an hour; one second when absent or
/// unreadable.
fn parse_retry_after(value: Option<&str>) -> Duration {
    value
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map_or(Duration::from_secs(1), |s| Duration::from_secs_f64(s.min(MAX_RETRY_AFTER_SECS)))
}

fn remedy_for_privilege(message: &str) -> String {
    if message.contains("prvApproveRejectEmailAddress") {
        "Approval needs an Exchange or Global admin, or the Delegated Mailbox Approver role: approve these mailboxes as such an admin, or give the application user's owner that role".into()
    } else {
        "Give the application user a security role with the privilege named above".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(code: &str, message: &str) -> Vec<u8> {
        serde_json::json!({"error": {"code": code, "message": message}}).to_string().into_bytes()
    }

    #[test]
    fn each_429_code_names_its_limit_and_waits_as_told() {
        for (code, limit) in [
            ("0x80072322", Limit::Requests),
            ("0x80072321", Limit::ExecutionTime),
            ("0x80072326", Limit::Concurrency),
        ] {
            let e = DataverseError::from_response(429, Some("7"), &body(code, "m"));
            assert_eq!(
                e,
                DataverseError::Throttled {
                    retry_after: Duration::from_secs(7),
                    limit: Some(limit),
                    code: code.into(),
                    message: "m".into()
                }
            );
            assert!(e.is_retryable());
        }
    }

    #[test]
    fn statuses_map_to_classes() {
        let class = |status, code: &str| DataverseError::from_response(status, None, &body(code, "m"));
        assert!(matches!(class(401, ""), DataverseError::Unauthorized { .. }));
        assert!(matches!(class(403, "0x80040220"), DataverseError::PrivilegeDenied { .. }));
        assert!(matches!(class(404, "0x80040217"), DataverseError::NotFound { .. }));
        assert!(matches!(class(412, "0x80040237"), DataverseError::AlreadyDone { .. }));
        assert!(matches!(class(412, "0x80060882"), DataverseError::Conflict { .. }));
        assert!(matches!(class(503, ""), DataverseError::Transient { status: Some(503), .. }));
        assert!(matches!(class(400, "0x0"), DataverseError::Invalid { status: 400, .. }));
        assert!(!class(404, "").is_retryable() && !class(400, "").is_retryable());
    }

    #[test]
    fn a_duplicate_key_is_already_done_whatever_the_status() {
        for status in [400, 412, 500] {
            let e = DataverseError::from_response(
                status,
                None,
                &body("0x80040237", "Cannot insert duplicate key."),
            );
            assert!(matches!(e, DataverseError::AlreadyDone { .. }), "{status}: {e:?}");
        }
    }

    #[test]
    fn an_absurd_retry_after_is_capped() {
        let e = DataverseError::from_response(429, Some("1e300"), &body("0x80072322", "m"));
        assert!(
            matches!(e, DataverseError::Throttled { retry_after, .. } if retry_after == Duration::from_secs(3600))
        );
    }

    #[test]
    fn approval_privilege_error_names_the_admin_roles() {
        let e = DataverseError::from_response(
            403,
            None,
            &body("0x80040220", "missing prvApproveRejectEmailAddress"),
        );
        assert!(e.to_string().contains("Delegated Mailbox Approver"), "{e}");
    }

    #[test]
    fn odd_bodies_and_headers_do_not_break_classification() {
        let e = DataverseError::from_response(429, Some("soon"), b"<html>busy</html>");
        assert_eq!(e.code(), "");
        assert!(e.message().contains("busy"));
        assert!(
            matches!(e, DataverseError::Throttled { retry_after, limit: None, .. } if retry_after == Duration::from_secs(1))
        );
        let e = DataverseError::from_response(500, None, b"");
        assert_eq!(e.message(), "HTTP 500 with no error message");
    }
}
