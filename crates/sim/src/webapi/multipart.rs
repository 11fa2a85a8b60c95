//! `$batch` bodies: parses OData v4 `multipart/mixed` requests the way Dataverse accepts them
//! and writes the matching `multipart/mixed` responses.
//!
//! Clients differ in line endings, so the parser accepts CRLF and bare LF anywhere; the writer
//! always emits CRLF, as Dataverse does.

/// One HTTP request inside a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InnerRequest {
    /// The method exactly as written, e.g. `GET` or `PATCH`.
    pub method: String,
    /// The URL as written: absolute (`http://host/api/data/v9.2/...`) or relative.
    pub url: String,
    /// Header names lowercased, values trimmed, in the order written.
    pub headers: Vec<(String, String)>,
    /// The request body; may be empty.
    pub body: Vec<u8>,
    /// The part's MIME `Content-ID` (used by change set members to reference each other).
    pub content_id: Option<String>,
}

/// One top-level part of a batch request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchItem {
    Single(InnerRequest),
    ChangeSet(Vec<InnerRequest>),
}

/// A malformed `$batch` body; the message says what is wrong and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct MultipartError(pub String);

/// One HTTP response inside a batch response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InnerResponse {
    pub status: u16,
    /// Written exactly as given.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub content_id: Option<String>,
}

/// One top-level part of a batch response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchResponseItem {
    Single(InnerResponse),
    ChangeSet(Vec<InnerResponse>),
}

type Headers = Vec<(String, String)>;

fn fail<T>(message: String) -> Result<T, MultipartError> {
    Err(MultipartError(message))
}

/// Extracts the boundary from a Content-Type value like `multipart/mixed; boundary=batch_123`
/// (quoted or not). `None` if the media type is not multipart/mixed or there is no boundary.
pub fn boundary_of(content_type: &str) -> Option<String> {
    let mut params = content_type.split(';');
    let media_type = params.next()?.trim();
    if !media_type.eq_ignore_ascii_case("multipart/mixed") {
        return None;
    }
    params.find_map(|param| {
        let (name, value) = param.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("boundary") {
            return None;
        }
        let value = value.trim();
        let value = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(value);
        (!value.is_empty()).then(|| value.to_string())
    })
}

/// Parses a whole `$batch` body whose outer boundary is `boundary`.
pub fn parse_batch(body: &[u8], boundary: &str) -> Result<Vec<BatchItem>, MultipartError> {
    split_parts(body, boundary, "The batch request body")?
        .into_iter()
        .enumerate()
        .map(|(index, part)| parse_batch_part(part, &format!("batch part {}", index + 1)))
        .collect()
}

fn parse_batch_part(part: &[u8], place: &str) -> Result<BatchItem, MultipartError> {
    let (mime, content) = read_head(part, place)?;
    let PartKind::ChangeSet(changeset_boundary) = part_kind(&mime, place)? else {
        return parse_request(content, &mime, place).map(BatchItem::Single);
    };
    let Some(changeset_boundary) = changeset_boundary else {
        return fail(format!("The change set in {place} must have a boundary in its Content-Type header."));
    };
    let subject = format!("The change set in {place}");
    split_parts(content, &changeset_boundary, &subject)?
        .into_iter()
        .enumerate()
        .map(|(index, member)| {
            let place = format!("part {} of the change set in {place}", index + 1);
            let (mime, content) = read_head(member, &place)?;
            if let PartKind::ChangeSet(_) = part_kind(&mime, &place)? {
                return fail(format!(
                    "Change sets cannot be nested, but {place} is itself a multipart/mixed change set."
                ));
            }
            let request = parse_request(content, &mime, &place)?;
            // OData: a change set is an atomic unit of *changes*; reads belong outside it.
            if request.method.eq_ignore_ascii_case("GET") {
                return fail(format!("GET requests are not allowed in a change set ({place})."));
            }
            Ok(request)
        })
        .collect::<Result<_, _>>()
        .map(BatchItem::ChangeSet)
}

enum PartKind {
    Http,
    /// A `multipart/mixed` part, with the boundary from its Content-Type if it has one.
    ChangeSet(Option<String>),
}

fn part_kind(mime: &Headers, place: &str) -> Result<PartKind, MultipartError> {
    let Some(content_type) = header(mime, "content-type") else {
        return fail(format!("Missing Content-Type header in {place}."));
    };
    let media_type = content_type.split(';').next().unwrap_or_default().trim();
    if media_type.eq_ignore_ascii_case("application/http") {
        Ok(PartKind::Http)
    } else if media_type.eq_ignore_ascii_case("multipart/mixed") {
        Ok(PartKind::ChangeSet(boundary_of(content_type)))
    } else {
        fail(format!(
            "Unsupported Content-Type '{content_type}' in {place}; expected 'application/http' or 'multipart/mixed'."
        ))
    }
}

fn parse_request(content: &[u8], mime: &Headers, place: &str) -> Result<InnerRequest, MultipartError> {
    // Some clients put blank lines between the MIME headers and the request line.
    let mut pos = 0;
    let line = loop {
        if pos >= content.len() {
            return fail(format!("No HTTP request line in {place}."));
        }
        let (line, next) = next_line(content, pos);
        pos = next;
        if !line.is_empty() {
            break line;
        }
    };
    let Ok(line) = std::str::from_utf8(line) else {
        return fail(format!("The request line in {place} is not valid UTF-8."));
    };
    let tokens: Vec<&str> = line.split_ascii_whitespace().collect();
    let [method, url, version] = tokens.as_slice() else {
        return malformed_request_line(line, place);
    };
    if !method.bytes().all(|b| b.is_ascii_alphabetic()) || !version.starts_with("HTTP/") {
        return malformed_request_line(line, place);
    }
    let (headers, body) = read_head(content.get(pos..).unwrap_or_default(), place)?;
    // The delimiter owns only one line break, so a GET followed by several blank lines would
    // otherwise get a body made of line breaks.
    let body = if body.iter().all(|b| matches!(b, b'\r' | b'\n')) { Vec::new() } else { body.to_vec() };
    // OData puts Content-ID in the MIME headers, but some clients put it on the inner request.
    let content_id =
        header(mime, "content-id").or_else(|| header(&headers, "content-id")).map(str::to_string);
    Ok(InnerRequest { method: method.to_string(), url: url.to_string(), headers, body, content_id })
}

fn malformed_request_line<T>(line: &str, place: &str) -> Result<T, MultipartError> {
    let shown: String = line.chars().take(200).collect();
    fail(format!("Malformed request line '{shown}' in {place}; expected 'METHOD URL HTTP/1.1'."))
}

fn header<'a>(headers: &'a Headers, name: &str) -> Option<&'a str> {
    headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

/// Returns the line starting at `pos` without its line break, and where the next line starts.
fn next_line(buf: &[u8], pos: usize) -> (&[u8], usize) {
    let rest = buf.get(pos..).unwrap_or_default();
    let (line, next) = match rest.iter().position(|&b| b == b'\n') {
        Some(i) => (&rest[..i], pos + i + 1),
        None => (rest, buf.len()),
    };
    (line.strip_suffix(b"\r").unwrap_or(line), next)
}

/// Reads header lines up to the first blank line (or the end) and returns the rest.
fn read_head<'a>(buf: &'a [u8], place: &str) -> Result<(Headers, &'a [u8]), MultipartError> {
    let mut headers: Headers = Vec::new();
    let mut pos = 0;
    while pos < buf.len() {
        let (raw, next) = next_line(buf, pos);
        pos = next;
        if raw.is_empty() {
            break;
        }
        let Ok(line) = std::str::from_utf8(raw) else {
            return fail(format!("The headers of {place} are not valid UTF-8."));
        };
        let malformed = || fail(format!("Malformed header line '{line}' in {place}."));
        // Obsolete line folding (RFC 7230 §3.2.4) continues the previous header's value.
        if line.starts_with([' ', '\t']) {
            let Some((_, value)) = headers.last_mut() else {
                return malformed();
            };
            value.push(' ');
            value.push_str(line.trim());
            continue;
        }
        let Some((name, value)) = line.split_once(':') else {
            return malformed();
        };
        let name = name.trim();
        if name.is_empty() {
            return malformed();
        }
        headers.push((name.to_ascii_lowercase(), value.trim().to_string()));
    }
    Ok((headers, buf.get(pos..).unwrap_or_default()))
}

/// Splits a multipart body into the contents of its parts (RFC 2046 §5.1.1). A delimiter is
/// `--boundary` at the start of a line, followed by optional whitespace and a line break; the
/// line break before it belongs to the delimiter, not to the preceding part.
fn split_parts<'a>(body: &'a [u8], boundary: &str, subject: &str) -> Result<Vec<&'a [u8]>, MultipartError> {
    let delimiter = format!("--{boundary}");
    let delimiter = delimiter.as_bytes();
    let mut parts = Vec::new();
    let mut part_start: Option<usize> = None;
    let mut search_from = 0;
    while let Some(at) = find_delimiter(body, delimiter, search_from) {
        let after = at + delimiter.len();
        let rest = body.get(after..).unwrap_or_default();
        let close = rest.starts_with(b"--");
        let line_end = if close {
            Some(after)
        } else {
            let padding = rest.iter().take_while(|&&b| b == b' ' || b == b'\t').count();
            match rest.get(padding..).unwrap_or_default() {
                [b'\r', b'\n', ..] => Some(after + padding + 2),
                [b'\n', ..] => Some(after + padding + 1),
                [] => Some(after + padding),
                // A longer boundary that merely starts with ours: ordinary content.
                _ => None,
            }
        };
        let Some(line_end) = line_end else {
            search_from = after;
            continue;
        };
        if let Some(start) = part_start {
            parts.push(body.get(start..content_end(body, start, at)).unwrap_or_default());
        }
        if close {
            return Ok(parts);
        }
        part_start = Some(line_end);
        search_from = line_end;
    }
    match part_start {
        None => fail(format!("{subject} does not contain the boundary delimiter '--{boundary}'.")),
        Some(_) => fail(format!("{subject} is missing the closing delimiter '--{boundary}--'.")),
    }
}

fn find_delimiter(body: &[u8], delimiter: &[u8], from: usize) -> Option<usize> {
    (from..body.len()).find(|&at| {
        (at == 0 || body.get(at - 1) == Some(&b'\n'))
            && body.get(at..).is_some_and(|rest| rest.starts_with(delimiter))
    })
}

/// Where a part's content ends, given the delimiter at `at`: just before its CRLF or LF.
fn content_end(body: &[u8], start: usize, at: usize) -> usize {
    if at <= start {
        return start;
    }
    let end = at - 1; // the '\n' that find_delimiter required
    if end > start && body.get(end - 1) == Some(&b'\r') { end - 1 } else { end }
}

/// Writes a `$batch` response body with outer boundary `boundary` (e.g. `batchresponse_<uuid>`).
/// Change set boundaries are derived from it and the item index, so output is reproducible.
pub fn write_batch_response(items: &[BatchResponseItem], boundary: &str) -> Vec<u8> {
    let suffix = boundary.strip_prefix("batchresponse_").unwrap_or(boundary);
    let mut out = Vec::new();
    for (index, item) in items.iter().enumerate() {
        out.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match item {
            BatchResponseItem::Single(response) => write_http_part(&mut out, response),
            BatchResponseItem::ChangeSet(responses) => {
                let nested = format!("changesetresponse_{suffix}_{index}");
                out.extend_from_slice(
                    format!("Content-Type: multipart/mixed; boundary={nested}\r\n\r\n").as_bytes(),
                );
                for response in responses {
                    out.extend_from_slice(format!("--{nested}\r\n").as_bytes());
                    write_http_part(&mut out, response);
                    out.extend_from_slice(b"\r\n");
                }
                out.extend_from_slice(format!("--{nested}--").as_bytes());
            }
        }
        // The line break before the next delimiter belongs to that delimiter.
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    out
}

fn write_http_part(out: &mut Vec<u8>, response: &InnerResponse) {
    let mut head = String::from("Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n");
    if let Some(id) = &response.content_id {
        head.push_str(&format!("Content-ID: {id}\r\n"));
    }
    let status = response.status;
    head.push_str(&format!("\r\nHTTP/1.1 {status} {}\r\n", reason_phrase(status)));
    for (name, value) in &response.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    out.extend_from_slice(head.as_bytes());
    out.extend_from_slice(&response.body);
}

/// The standard reason phrase for a status code; "Unknown" for codes the simulator never uses.
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        412 => "Precondition Failed",
        413 => "Payload Too Large",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

#[cfg(test)]
mod tests;
