//! What can go wrong talking to the API, told so that the user knows what to do: the API's own
//! message and problems, or which flag or variable to check.

use crate::model::{ErrorBody, ErrorDetail, Problem, show_value};
use std::fmt;

#[derive(Debug)]
pub enum ApiClientError {
    /// No connection could be made (refused, unknown host, connect timeout).
    Unreachable { api: String, detail: String },
    /// The connection broke or the API did not answer in time.
    Transport { api: String, detail: String },
    /// The API answered with an error status.
    Status { status: u16, detail: ErrorDetail },
    /// The answer was not what the contract says.
    Protocol(String),
    /// Anything wrong before a request was sent (a bad --api URL, an unreadable file).
    Usage(String),
    /// No event came from the API for longer than `watch` waits.
    GaveUp { api: String, secs: u64, last: Box<ApiClientError> },
}

impl ApiClientError {
    /// Reads an error answer; a body not in the contract's shape (a proxy's page, say) is
    /// shown as its first line.
    pub fn from_answer(status: u16, body: &str) -> ApiClientError {
        let detail = match serde_json::from_str::<ErrorBody>(body) {
            Ok(b) => b.error,
            Err(_) => ErrorDetail {
                message: body
                    .lines()
                    .find(|l| !l.trim().is_empty())
                    .unwrap_or("")
                    .chars()
                    .take(200)
                    .collect(),
                ..ErrorDetail::default()
            },
        };
        ApiClientError::Status { status, detail }
    }

    /// Worth trying again later: the API may come back (restarting, behind a proxy).
    pub fn is_transient(&self) -> bool {
        match self {
            ApiClientError::Unreachable { .. } | ApiClientError::Transport { .. } => true,
            ApiClientError::Status { status, .. } => matches!(status, 408 | 429 | 500 | 502 | 503 | 504),
            _ => false,
        }
    }
}

impl fmt::Display for ApiClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiClientError::Unreachable { api, detail } => write!(
                f,
                "cannot reach the API at {api}: is `activator api` (or `activator serve`) running? \
                 Check --api / ACTIVATOR_API ({detail})"
            ),
            ApiClientError::Transport { api, detail } => write!(f, "lost the API at {api}: {detail}"),
            ApiClientError::Status { status, detail } => write_status(f, *status, detail),
            ApiClientError::Protocol(m) | ApiClientError::Usage(m) => f.write_str(m),
            ApiClientError::GaveUp { api, secs, last } => {
                write!(f, "gave up: no event from the API at {api} for {secs} s; last error: {last}")
            }
        }
    }
}

fn write_status(f: &mut fmt::Formatter<'_>, status: u16, detail: &ErrorDetail) -> fmt::Result {
    let message = if detail.message.is_empty() { "(no message)" } else { detail.message.as_str() };
    match status {
        401 => write!(
            f,
            "{message}\nthe API needs a token: give --token TOKEN or set ACTIVATOR_TOKEN (HTTP 401)"
        )?,
        403 => {
            write!(f, "{message}\nthe token is a viewer token, and this needs an operator token (HTTP 403)")?
        }
        _ if detail.code.is_empty() => write!(f, "the API answered HTTP {status}: {message}")?,
        _ => write!(f, "the API answered HTTP {status} ({}): {message}", detail.code)?,
    }
    for p in &detail.problems {
        write!(f, "\n  {}", problem_line(p))?;
    }
    Ok(())
}

/// `mailboxes row 7 "x": reason`, `mailboxes index 4 "bob@": reason`, `steps "foo": reason`.
pub fn problem_line(p: &Problem) -> String {
    let mut at: Vec<String> = Vec::new();
    at.extend(p.field.clone());
    at.extend(p.row.map(|r| format!("row {r}")));
    at.extend(p.index.map(|i| format!("index {i}")));
    at.extend(p.value.as_ref().map(show_value));
    if at.is_empty() { p.reason.clone() } else { format!("{}: {}", at.join(" "), p.reason) }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = r#"{"error": {"code": "validation_failed", "message": "2 problems in the request; nothing was created",
        "problems": [{"field": "mailboxes", "index": 4, "value": "bob@", "reason": "neither a mailbox id (GUID) nor an email address"},
                     {"field": "mailboxes", "row": 7, "value": "x", "reason": "not a mailbox"},
                     {"reason": "environment is required"}]}}"#;

    #[test]
    fn problems_are_listed_with_their_index_or_row_as_the_api_states_them() {
        let text = ApiClientError::from_answer(422, BODY).to_string();
        assert_eq!(
            text,
            "the API answered HTTP 422 (validation_failed): 2 problems in the request; nothing was created\n  \
             mailboxes index 4 \"bob@\": neither a mailbox id (GUID) nor an email address\n  \
             mailboxes row 7 \"x\": not a mailbox\n  \
             environment is required"
        );
    }

    #[test]
    fn missing_and_viewer_tokens_say_what_to_give() {
        let body = r#"{"error": {"code": "unauthorized", "message": "a bearer token is required"}}"#;
        let text = ApiClientError::from_answer(401, body).to_string();
        assert!(text.starts_with("a bearer token is required\n"), "{text}");
        assert!(text.contains("--token") && text.contains("ACTIVATOR_TOKEN"), "{text}");
        let text = ApiClientError::from_answer(403, r#"{"error": {"code": "forbidden", "message": "no"}}"#)
            .to_string();
        assert!(text.contains("viewer token") && text.contains("operator token"), "{text}");
    }

    #[test]
    fn a_body_outside_the_contract_is_shown_by_its_first_line() {
        let e = ApiClientError::from_answer(502, "\n<html>Bad Gateway</html>\nmore");
        assert_eq!(e.to_string(), "the API answered HTTP 502: <html>Bad Gateway</html>");
        assert!(e.is_transient());
        assert!(!ApiClientError::from_answer(404, BODY).is_transient());
    }
}
