//! The wire format of Dataverse Web API `$batch` requests, client side.
//!
//! [`build_batch`] writes a `multipart/mixed` request body with one `application/http` part per
//! operation, and [`parse_batch_response`] reads the `multipart/mixed` answer back into one
//! [`OpResponse`] per operation, in order. This follows Microsoft's "Execute batch operations using
//! the Web API" (RFC 2046 multipart framing with embedded HTTP/1.1 messages).
//!
//! Operations are deliberately never put in a change set: a change set is all-or-nothing, and each
//! of our writes must succeed or fail on its own. The parser still understands change sets (a
//! nested `multipart/mixed` part) and flattens their answers in order, because the server may use
//! them.
//!
//! Parsing is lenient about what real servers and proxies vary on (CRLF or bare LF, a quoted
//! boundary, preamble and epilogue, a missing blank line after an empty answer's headers) and
//! strict about framing: a delimiter only counts as a whole line, so response bodies that merely
//! mention the boundary are never cut. Malformed input is an error, never a panic.

/// One operation to put in a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchOp {
    /// The HTTP method: `"PATCH"`, `"POST"`, `"GET"`, `"DELETE"`.
    pub method: String,
    /// The absolute URL, e.g. `https://org.crm.dynamics.com/api/data/v9.2/mailboxes(<id>)`.
    pub url: String,
    /// Extra request headers, e.g. `("If-Match", "*")`. Names and values must not contain line breaks.
    pub headers: Vec<(String, String)>,
    /// JSON text, sent with `Content-Type: application/json` unless `headers` names a content type.
    pub body: Option<String>,
}

/// One operation's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpResponse {
    /// The HTTP status code of this operation (not of the `$batch` request as a whole).
    pub status: u16,
    /// The answer's headers in order, names lowercased, values trimmed.
    pub headers: Vec<(String, String)>,
    /// The answer's body, byte for byte (JSON or empty).
    pub body: Vec<u8>,
}

/// A `$batch` response that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unreadable $batch response: {0}")]
pub struct BatchWireError(pub String);

/// How deep `multipart/mixed` parts may nest. OData allows one level (a change set inside the
/// batch); a little slack costs nothing, while no limit would let a hostile body exhaust the stack.
const MAX_DEPTH: usize = 4;

/// Builds a `$batch` body. Every op (write or GET) goes as its own top-level part, never in a change
/// set, so each succeeds or fails alone. Returns `(content_type_header_value, body)`. `boundary` is
/// chosen by the caller (e.g. `"batch_<uuid>"`) and must not occur at the start of a line in any
/// op body. Lines end in CRLF.
pub fn build_batch(boundary: &str, ops: &[BatchOp]) -> (String, String) {
    let mut out = String::new();
    for op in ops {
        out.push_str(&format!("--{boundary}\r\nContent-Type: application/http\r\n"));
        out.push_str("Content-Transfer-Encoding: binary\r\n\r\n");
        out.push_str(&format!("{} {} HTTP/1.1\r\n", op.method, op.url));
        let caller_sets_type = op.headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("content-type"));
        if op.body.is_some() && !caller_sets_type {
            out.push_str("Content-Type: application/json\r\n");
        }
        for (name, value) in &op.headers {
            out.push_str(&format!("{name}: {value}\r\n"));
        }
        // The blank line ends the embedded request's headers. The CRLF after a body is the one that
        // belongs to the next delimiter, so the body itself arrives unchanged. This is exactly the
        // layout of Microsoft's documented examples.
        out.push_str("\r\n");
        if let Some(body) = &op.body {
            out.push_str(&format!("{body}\r\n"));
        }
    }
    out.push_str(&format!("--{boundary}--\r\n"));
    (format!("multipart/mixed; boundary={boundary}"), out)
}

/// Parses a `$batch` response body given the response's `Content-Type` header value. Returns the
/// answers in order; answers inside a change set (a nested `multipart/mixed` part) are flattened in
/// order.
pub fn parse_batch_response(content_type: &str, body: &[u8]) -> Result<Vec<OpResponse>, BatchWireError> {
    let mut answers = Vec::new();
    parse_multipart(content_type, body, 0, &mut answers)?;
    Ok(answers)
}

fn fail<T>(why: impl Into<String>) -> Result<T, BatchWireError> {
    Err(BatchWireError(why.into()))
}

fn parse_multipart(
    content_type: &str,
    body: &[u8],
    depth: usize,
    answers: &mut Vec<OpResponse>,
) -> Result<(), BatchWireError> {
    let boundary = boundary_of(content_type)?;
    for part in split_parts(body, boundary.as_bytes())? {
        let (mime_headers, content) = split_head(part);
        let part_type = mime_headers.iter().find(|(n, _)| n == "content-type").map(|(_, v)| v.as_str());
        match part_type {
            Some(t) if is_multipart_mixed(t) => {
                if depth + 1 >= MAX_DEPTH {
                    return fail("multipart parts nested too deeply");
                }
                parse_multipart(t, content, depth + 1, answers)?;
            }
            // Anything else is an embedded HTTP message (`application/http`); servers that omit
            // the part's Content-Type are read the same way.
            _ => answers.push(parse_http(content)?),
        }
    }
    Ok(())
}

fn is_multipart_mixed(content_type: &str) -> bool {
    content_type.split(';').next().unwrap_or("").trim().eq_ignore_ascii_case("multipart/mixed")
}

/// The `boundary` parameter of a `multipart/mixed` content type, unquoted.
fn boundary_of(content_type: &str) -> Result<String, BatchWireError> {
    if !is_multipart_mixed(content_type) {
        return fail(format!("content type is not multipart/mixed: {content_type:?}"));
    }
    for param in content_type.split(';').skip(1) {
        let Some((name, value)) = param.split_once('=') else { continue };
        if !name.trim().eq_ignore_ascii_case("boundary") {
            continue;
        }
        let value = value.trim();
        let value = match value.strip_prefix('"') {
            Some(rest) => match rest.strip_suffix('"') {
                Some(inner) => inner,
                None => return fail("unterminated quoted boundary"),
            },
            None => value,
        };
        if value.is_empty() {
            return fail("empty boundary");
        }
        return Ok(value.to_owned());
    }
    fail(format!("no boundary in content type: {content_type:?}"))
}

/// The line starting at `from` without its line break (CRLF or LF), and where the next line starts.
fn next_line(buf: &[u8], from: usize) -> (&[u8], usize) {
    let rest = buf.get(from..).unwrap_or_default();
    match rest.iter().position(|&b| b == b'\n') {
        Some(nl) => {
            let line = &rest[..nl];
            (line.strip_suffix(b"\r").unwrap_or(line), from + nl + 1)
        }
        None => (rest, buf.len()),
    }
}

/// `None` if `line` is not a delimiter, `Some(true)` for the closing one. Only an exact
/// `--boundary` counts, optionally followed by `--` and/or trailing whitespace, so a body line such
/// as `--boundary_and_more` is content.
fn delimiter(line: &[u8], boundary: &[u8]) -> Option<bool> {
    let rest = line.strip_prefix(b"--")?.strip_prefix(boundary)?.trim_ascii_end();
    match rest {
        b"" => Some(false),
        b"--" => Some(true),
        _ => None,
    }
}

/// The contents of each part between the first delimiter and the closing one. Preamble and
/// epilogue are dropped. A part ends right before the line break that precedes the next delimiter
/// line: that line break belongs to the delimiter, so a body ending in a newline keeps it.
fn split_parts<'a>(body: &'a [u8], boundary: &[u8]) -> Result<Vec<&'a [u8]>, BatchWireError> {
    let mut parts = Vec::new();
    let mut open: Option<usize> = None;
    let mut pos = 0;
    while pos < body.len() {
        let (line, next) = next_line(body, pos);
        if let Some(closing) = delimiter(line, boundary) {
            if let Some(start) = open {
                let mut end = pos;
                if end > start && body[end - 1] == b'\n' {
                    end -= 1;
                    if end > start && body[end - 1] == b'\r' {
                        end -= 1;
                    }
                }
                parts.push(&body[start..end]);
            }
            if closing {
                return Ok(parts);
            }
            open = Some(next);
        }
        pos = next;
    }
    match open {
        None => fail("no multipart delimiter"),
        Some(_) => fail("missing closing multipart delimiter"),
    }
}

/// Splits a header block from what follows the blank line ending it. Names are lowercased and
/// values trimmed; folded continuation lines are joined; lines without a colon are skipped. A block
/// with no blank line is all headers (an answer without a body often ends that way, because the
/// last line break belongs to the delimiter).
fn split_head(buf: &[u8]) -> (Vec<(String, String)>, &[u8]) {
    let mut headers: Vec<(String, String)> = Vec::new();
    let mut pos = 0;
    while pos < buf.len() {
        let (line, next) = next_line(buf, pos);
        pos = next;
        if line.is_empty() {
            return (headers, &buf[pos..]);
        }
        let text = String::from_utf8_lossy(line);
        if line[0] == b' ' || line[0] == b'\t' {
            if let Some((_, value)) = headers.last_mut() {
                value.push(' ');
                value.push_str(text.trim());
            }
        } else if let Some((name, value)) = text.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    (headers, &buf[buf.len()..])
}

/// Reads one embedded HTTP response: status line, headers, then the body byte for byte.
fn parse_http(message: &[u8]) -> Result<OpResponse, BatchWireError> {
    // Tolerate stray blank lines between the part's headers and the status line.
    let mut pos = 0;
    let status_line = loop {
        if pos >= message.len() {
            return fail("part without status line");
        }
        let (line, next) = next_line(message, pos);
        pos = next;
        if !line.is_empty() {
            break line;
        }
    };
    let status = parse_status_line(status_line)?;
    let (headers, body) = split_head(&message[pos..]);
    Ok(OpResponse { status, headers, body: body.to_vec() })
}

/// `HTTP/1.1 204 No Content` → 204. The reason phrase is optional and ignored.
fn parse_status_line(line: &[u8]) -> Result<u16, BatchWireError> {
    let text = String::from_utf8_lossy(line);
    let mut words = text.split_ascii_whitespace();
    let version_ok = words.next().is_some_and(|v| v.starts_with("HTTP/"));
    let code = words.next().unwrap_or("");
    let code_ok = code.len() == 3 && code.bytes().all(|b| b.is_ascii_digit()) && !code.starts_with('0');
    match code.parse::<u16>() {
        Ok(status) if version_ok && code_ok => Ok(status),
        _ => fail(format!("malformed status line: {text:?}")),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const BOUNDARY_CT: &str = "multipart/mixed; boundary=batchresponse_c1bd45c1";

    const ERROR_BODY: &str = r#"{"error":{"code":"0x80040217","message":"Entity 'mailbox' With Id = 00000000-0000-0000-0000-000000000009 Does Not Exist"}}"#;

    /// Microsoft's example response, with LF line endings.
    fn example_lf() -> String {
        format!(
            "--batchresponse_c1bd45c1
Content-Type: application/http
Content-Transfer-Encoding: binary

HTTP/1.1 204 No Content
OData-Version: 4.0
OData-EntityId: https://org.crm.dynamics.com/api/data/v9.2/mailboxes(00000000-0000-0000-0000-000000000001)

--batchresponse_c1bd45c1
Content-Type: application/http
Content-Transfer-Encoding: binary

HTTP/1.1 404 Not Found
Content-Type: application/json; odata.metadata=minimal
OData-Version: 4.0

{ERROR_BODY}
--batchresponse_c1bd45c1
Content-Type: multipart/mixed; boundary=changesetresponse_ff83b4f1

--changesetresponse_ff83b4f1
Content-Type: application/http
Content-Transfer-Encoding: binary
Content-ID: 1

HTTP/1.1 204 No Content
OData-Version: 4.0

--changesetresponse_ff83b4f1--
--batchresponse_c1bd45c1--
"
        )
    }

    fn example_crlf() -> String {
        example_lf().replace('\n', "\r\n")
    }

    fn header<'a>(r: &'a OpResponse, name: &str) -> Option<&'a str> {
        r.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// A minimal response with the given parts (each already an embedded HTTP message).
    fn wrap(parts: &[&str]) -> String {
        let mut s = String::new();
        for p in parts {
            s.push_str("--b\r\nContent-Type: application/http\r\n\r\n");
            s.push_str(p);
            s.push_str("\r\n");
        }
        s.push_str("--b--\r\n");
        s
    }

    fn err(ct: &str, body: &str) -> String {
        parse_batch_response(ct, body.as_bytes()).unwrap_err().0
    }

    #[test]
    fn build_writes_exact_bytes_for_patch_and_get() {
        let ops = [
            BatchOp {
                method: "PATCH".into(),
                url: "https://org.crm.dynamics.com/api/data/v9.2/mailboxes(00000000-0000-0000-0000-000000000001)"
                    .into(),
                headers: vec![("If-Match".into(), "*".into())],
                body: Some(r#"{"emailrouteraccessapproval":1}"#.into()),
            },
            BatchOp {
                method: "GET".into(),
                url: "https://org.crm.dynamics.com/api/data/v9.2/WhoAmI".into(),
                headers: vec![("Accept".into(), "application/json".into())],
                body: None,
            },
        ];
        let (content_type, body) = build_batch("batch_AAA123", &ops);
        assert_eq!(content_type, "multipart/mixed; boundary=batch_AAA123");
        let expected = "--batch_AAA123\r\n\
            Content-Type: application/http\r\n\
            Content-Transfer-Encoding: binary\r\n\
            \r\n\
            PATCH https://org.crm.dynamics.com/api/data/v9.2/mailboxes(00000000-0000-0000-0000-000000000001) HTTP/1.1\r\n\
            Content-Type: application/json\r\n\
            If-Match: *\r\n\
            \r\n\
            {\"emailrouteraccessapproval\":1}\r\n\
            --batch_AAA123\r\n\
            Content-Type: application/http\r\n\
            Content-Transfer-Encoding: binary\r\n\
            \r\n\
            GET https://org.crm.dynamics.com/api/data/v9.2/WhoAmI HTTP/1.1\r\n\
            Accept: application/json\r\n\
            \r\n\
            --batch_AAA123--\r\n";
        assert_eq!(body, expected);
    }

    #[test]
    fn build_keeps_a_callers_content_type() {
        let op = BatchOp {
            method: "POST".into(),
            url: "https://x/api/data/v9.2/things".into(),
            headers: vec![("content-type".into(), "application/json; charset=utf-8".into())],
            body: Some("{}".into()),
        };
        let (_, body) = build_batch("b", &[op]);
        assert_eq!(body.matches("ontent-type: application/json").count(), 1, "{body}");
        assert!(!body.contains("Content-Type: application/json\r\n"), "{body}");
    }

    #[test]
    fn build_with_no_ops_is_just_the_closing_delimiter() {
        assert_eq!(build_batch("b", &[]).1, "--b--\r\n");
    }

    fn check_example(answers: &[OpResponse]) {
        let statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
        assert_eq!(statuses, [204, 404, 204]);
        assert_eq!(answers[1].body, ERROR_BODY.as_bytes());
        assert!(answers[0].body.is_empty());
        assert!(answers[2].body.is_empty());
        assert_eq!(
            header(&answers[0], "odata-entityid"),
            Some(
                "https://org.crm.dynamics.com/api/data/v9.2/mailboxes(00000000-0000-0000-0000-000000000001)"
            )
        );
        assert_eq!(header(&answers[1], "content-type"), Some("application/json; odata.metadata=minimal"));
        assert_eq!(header(&answers[2], "odata-version"), Some("4.0"));
        for a in answers {
            assert!(a.headers.iter().all(|(n, _)| *n == n.to_ascii_lowercase()), "{:?}", a.headers);
        }
    }

    #[test]
    fn parses_the_documented_example_with_crlf() {
        check_example(&parse_batch_response(BOUNDARY_CT, example_crlf().as_bytes()).unwrap());
    }

    #[test]
    fn parses_the_documented_example_with_bare_lf() {
        check_example(&parse_batch_response(BOUNDARY_CT, example_lf().as_bytes()).unwrap());
    }

    #[test]
    fn accepts_a_quoted_boundary_and_case_insensitive_names() {
        let ct = "Multipart/Mixed;  BOUNDARY=\"batchresponse_c1bd45c1\"";
        check_example(&parse_batch_response(ct, example_crlf().as_bytes()).unwrap());
    }

    #[test]
    fn ignores_preamble_and_epilogue() {
        let valid = wrap(&["HTTP/1.1 204 No Content"]);
        let body =
            format!("This is a preamble.\r\n--b-- not yet\r\n{valid}epilogue\r\n--b\r\nHTTP/1.1 500 X\r\n");
        let answers = parse_batch_response("multipart/mixed; boundary=b", body.as_bytes()).unwrap();
        assert_eq!(answers.len(), 1);
        assert_eq!(answers[0].status, 204);
    }

    #[test]
    fn boundary_text_inside_a_body_line_stays_in_the_body() {
        let text = "{\"note\":\"see --batchresponse_c1bd45c1 here\"}";
        let body = example_crlf().replace(ERROR_BODY, text);
        let answers = parse_batch_response(BOUNDARY_CT, body.as_bytes()).unwrap();
        assert_eq!(answers.len(), 3);
        assert_eq!(answers[1].body, text.as_bytes());
    }

    #[test]
    fn a_line_that_only_starts_with_the_boundary_is_not_a_delimiter() {
        let text = "first\r\n--batchresponse_c1bd45c1x\r\n--batchresponse_c1bd45c1-- extra\r\nlast";
        let body = example_crlf().replace(ERROR_BODY, text);
        let answers = parse_batch_response(BOUNDARY_CT, body.as_bytes()).unwrap();
        assert_eq!(answers.len(), 3);
        assert_eq!(answers[1].body, text.as_bytes());
    }

    #[test]
    fn delimiters_may_carry_trailing_whitespace() {
        let body =
            wrap(&["HTTP/1.1 200 OK\r\n\r\n{}"]).replace("--b\r\n", "--b \t\r\n").replace("--b--", "--b-- ");
        let answers = parse_batch_response("multipart/mixed; boundary=b", body.as_bytes()).unwrap();
        assert_eq!(answers.len(), 1);
        assert_eq!(answers[0].body, b"{}");
    }

    #[test]
    fn only_the_line_break_before_the_delimiter_is_dropped_from_a_body() {
        let body = wrap(&["HTTP/1.1 200 OK\r\n\r\nline\r\n"]);
        let answers = parse_batch_response("multipart/mixed; boundary=b", body.as_bytes()).unwrap();
        assert_eq!(answers[0].body, b"line\r\n");
    }

    #[test]
    fn error_when_content_type_is_not_multipart_mixed() {
        assert!(err("application/json", &example_crlf()).contains("not multipart/mixed"));
    }

    #[test]
    fn error_when_content_type_has_no_boundary() {
        assert!(err("multipart/mixed; charset=utf-8", &example_crlf()).contains("no boundary"));
        assert!(err("multipart/mixed; boundary=\"\"", &example_crlf()).contains("empty boundary"));
        assert!(err("multipart/mixed; boundary=\"abc", &example_crlf()).contains("unterminated"));
    }

    #[test]
    fn error_when_body_has_no_delimiter() {
        assert!(err(BOUNDARY_CT, "").contains("no multipart delimiter"));
        assert!(err("multipart/mixed; boundary=other", &example_crlf()).contains("no multipart delimiter"));
    }

    #[test]
    fn error_when_closing_delimiter_is_missing() {
        let body = example_crlf().replace("--batchresponse_c1bd45c1--", "");
        assert!(err(BOUNDARY_CT, &body).contains("missing closing"));
        let inner = example_crlf().replace("--changesetresponse_ff83b4f1--", "");
        assert!(err(BOUNDARY_CT, &inner).contains("missing closing"));
    }

    #[test]
    fn error_when_a_part_has_no_status_line() {
        assert!(err("multipart/mixed; boundary=b", &wrap(&[""])).contains("without status line"));
        assert!(err("multipart/mixed; boundary=b", "--b\r\n--b--\r\n").contains("without status line"));
    }

    #[test]
    fn error_when_a_status_line_is_malformed() {
        for bad in ["HTTP/1.1 abc Oops", "HTTP/1.1", "FTP/1.1 200 OK", "HTTP/1.1 2000 OK", "HTTP/1.1 099 X"] {
            let message = err("multipart/mixed; boundary=b", &wrap(&[bad]));
            assert!(message.contains("malformed status line"), "{bad}: {message}");
        }
    }

    #[test]
    fn error_when_a_nested_part_has_no_boundary() {
        let body = example_crlf().replace("; boundary=changesetresponse_ff83b4f1", "");
        assert!(err(BOUNDARY_CT, &body).contains("no boundary"));
    }

    #[test]
    fn error_when_parts_nest_too_deeply() {
        let mut body = wrap(&["HTTP/1.1 204 No Content"]);
        for level in 0..MAX_DEPTH {
            body = format!(
                "--b{level}\r\nContent-Type: multipart/mixed; boundary=b{}\r\n\r\n{body}\r\n--b{level}--\r\n",
                if level == 0 { String::new() } else { (level - 1).to_string() }
            );
        }
        assert!(err(&format!("multipart/mixed; boundary=b{}", MAX_DEPTH - 1), &body).contains("too deeply"));
    }

    /// Truncations and byte mutations of a valid response must give a result, never a panic; every
    /// truncation before the closing delimiter is an error.
    #[test]
    fn damaged_responses_never_panic() {
        let valid = example_crlf().into_bytes();
        let closing_end = valid.windows(2).rposition(|w| w == b"--").unwrap() + 2;
        for len in (0..closing_end).step_by(3) {
            assert!(parse_batch_response(BOUNDARY_CT, &valid[..len]).is_err(), "prefix {len}");
        }
        // A fixed linear congruential generator: deterministic, no extra crates.
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = |bound: usize| {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            usize::try_from(seed >> 33).unwrap() % bound
        };
        let alphabet = b"-\r\n :;\"HTTP/1.1 204x";
        for _ in 0..400 {
            let mut damaged = valid.clone();
            for _ in 0..1 + next(4) {
                let at = next(damaged.len());
                match next(3) {
                    0 => damaged[at] = alphabet[next(alphabet.len())],
                    1 => {
                        damaged.remove(at);
                    }
                    _ => damaged.insert(at, alphabet[next(alphabet.len())]),
                }
            }
            let _ = parse_batch_response(BOUNDARY_CT, &damaged);
            let cut = next(damaged.len());
            let _ = parse_batch_response(BOUNDARY_CT, &damaged[..cut]);
        }
    }
}
