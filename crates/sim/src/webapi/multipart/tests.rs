//! Tests of the parent module.
use super::*;

const EXAMPLE: &str = "--batch_AAA123\r\n\
Content-Type: application/http\r\n\
Content-Transfer-Encoding: binary\r\n\
\r\n\
GET https://org.crm.dynamics.com/api/data/v9.2/mailboxes?$select=name HTTP/1.1\r\n\
Accept: application/json\r\n\
\r\n\
--batch_AAA123\r\n\
Content-Type: multipart/mixed; boundary=changeset_BBB456\r\n\
\r\n\
--changeset_BBB456\r\n\
Content-Type: application/http\r\n\
Content-Transfer-Encoding: binary\r\n\
Content-ID: 1\r\n\
\r\n\
PATCH https://org.crm.dynamics.com/api/data/v9.2/mailboxes(00000000-0000-0000-0000-000000000001) HTTP/1.1\r\n\
Content-Type: application/json\r\n\
\r\n\
{\"emailrouteraccessapproval\":1}\r\n\
--changeset_BBB456\r\n\
Content-Type: application/http\r\n\
Content-Transfer-Encoding: binary\r\n\
Content-ID: 2\r\n\
\r\n\
PATCH https://org.crm.dynamics.com/api/data/v9.2/mailboxes(00000000-0000-0000-0000-000000000001) HTTP/1.1\r\n\
Content-Type: application/json\r\n\
\r\n\
{\"testemailconfigurationscheduled\":true}\r\n\
--changeset_BBB456--\r\n\
--batch_AAA123--\r\n";

const MAILBOX: &str =
    "https://org.crm.dynamics.com/api/data/v9.2/mailboxes(00000000-0000-0000-0000-000000000001)";

fn patch(body: &str, id: &str) -> InnerRequest {
    InnerRequest {
        method: "PATCH".into(),
        url: MAILBOX.into(),
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.as_bytes().to_vec(),
        content_id: Some(id.into()),
    }
}

fn expected_example() -> Vec<BatchItem> {
    vec![
        BatchItem::Single(InnerRequest {
            method: "GET".into(),
            url: "https://org.crm.dynamics.com/api/data/v9.2/mailboxes?$select=name".into(),
            headers: vec![("accept".into(), "application/json".into())],
            body: Vec::new(),
            content_id: None,
        }),
        BatchItem::ChangeSet(vec![
            patch("{\"emailrouteraccessapproval\":1}", "1"),
            patch("{\"testemailconfigurationscheduled\":true}", "2"),
        ]),
    ]
}

/// Wraps application/http messages as parts of a batch with boundary `b`.
fn batch_of(messages: &[&str]) -> String {
    let mut out = String::new();
    for message in messages {
        out.push_str("--b\r\nContent-Type: application/http\r\n\r\n");
        out.push_str(message);
        out.push_str("\r\n");
    }
    out.push_str("--b--\r\n");
    out
}

fn parse_str(body: &str, boundary: &str) -> Result<Vec<BatchItem>, MultipartError> {
    parse_batch(body.as_bytes(), boundary)
}

fn single(items: &[BatchItem]) -> &InnerRequest {
    match items {
        [BatchItem::Single(request)] => request,
        other => panic!("expected one single request, got {other:?}"),
    }
}

fn error_of(body: &[u8], boundary: &str) -> String {
    match parse_batch(body, boundary) {
        Err(MultipartError(message)) => message,
        Ok(items) => panic!("expected an error, got {items:?}"),
    }
}

#[test]
fn boundary_of_reads_unquoted_and_quoted_boundaries() {
    assert_eq!(boundary_of("multipart/mixed; boundary=batch_123").as_deref(), Some("batch_123"));
    assert_eq!(boundary_of("multipart/mixed;boundary=\"batch_1 2\"").as_deref(), Some("batch_1 2"));
    assert_eq!(
        boundary_of("Multipart/Mixed; charset=utf-8; BOUNDARY=changeset_x ").as_deref(),
        Some("changeset_x")
    );
}

#[test]
fn boundary_of_rejects_other_media_types_and_missing_boundaries() {
    assert_eq!(boundary_of("application/json; boundary=x"), None);
    assert_eq!(boundary_of("multipart/mixed"), None);
    assert_eq!(boundary_of("multipart/mixed; boundary="), None);
    assert_eq!(boundary_of("multipart/mixed; boundary=\"\""), None);
    assert_eq!(boundary_of(""), None);
}

#[test]
fn parses_the_documented_example_with_crlf() {
    assert_eq!(parse_str(EXAMPLE, "batch_AAA123"), Ok(expected_example()));
}

#[test]
fn parses_the_documented_example_with_bare_lf() {
    let lf = EXAMPLE.replace("\r\n", "\n");
    assert_eq!(parse_str(&lf, "batch_AAA123"), Ok(expected_example()));
}

#[test]
fn parses_mixed_line_endings() {
    // Alternate CRLF and LF line by line.
    let mixed: String = EXAMPLE
        .split("\r\n")
        .enumerate()
        .map(|(i, line)| if i % 2 == 0 { format!("{line}\n") } else { format!("{line}\r\n") })
        .collect();
    let mixed = mixed.strip_suffix(['\r', '\n']).unwrap_or(&mixed).to_string();
    assert_eq!(parse_str(&mixed, "batch_AAA123"), Ok(expected_example()));
}

#[test]
fn ignores_preamble_and_epilogue() {
    let body = format!("This is a preamble.\r\n--not-a-delimiter\r\n{EXAMPLE}epilogue\r\n--batch_AAA123\r\n");
    assert_eq!(parse_str(&body, "batch_AAA123"), Ok(expected_example()));
}

#[test]
fn empty_batch_is_an_empty_list() {
    assert_eq!(parse_str("--batch_1--\r\n", "batch_1"), Ok(Vec::new()));
    assert_eq!(parse_str("--batch_1--", "batch_1"), Ok(Vec::new()));
}

#[test]
fn body_containing_the_delimiter_text_not_at_line_start_is_kept() {
    let body_text = "{\"description\":\"see --batch_AAA123 and --batch_AAA123--\"}";
    let body = format!(
        "--batch_AAA123\r\nContent-Type: application/http\r\n\r\n\
         POST accounts HTTP/1.1\r\nContent-Type: application/json\r\n\r\n{body_text}\r\n--batch_AAA123--\r\n"
    );
    let items = parse_str(&body, "batch_AAA123").expect("parses");
    assert_eq!(single(&items).body, body_text.as_bytes());
}

#[test]
fn line_starting_with_a_longer_boundary_is_content() {
    let body = "--b\r\nContent-Type: application/http\r\n\r\n\
                POST accounts HTTP/1.1\r\n\r\nline one\r\n--bx not a delimiter\r\n--b--\r\n";
    let items = parse_str(body, "b").expect("parses");
    assert_eq!(single(&items).body, b"line one\r\n--bx not a delimiter");
}

#[test]
fn only_the_line_break_before_the_delimiter_is_removed_from_a_body() {
    let items = parse_str(&batch_of(&["POST accounts HTTP/1.1\r\n\r\nabc\r\n"]), "b").expect("parses");
    assert_eq!(single(&items).body, b"abc\r\n");
    let items = parse_str(&batch_of(&["POST accounts HTTP/1.1\r\n\r\nabc"]), "b").expect("parses");
    assert_eq!(single(&items).body, b"abc");
}

#[test]
fn trailing_blank_lines_after_a_get_give_an_empty_body() {
    for trailer in ["", "\r\n", "\r\n\r\n", "\r\n\r\n\r\n", "\n\n\n"] {
        let message = format!("GET accounts HTTP/1.1\r\nAccept: application/json{trailer}");
        let items = parse_str(&batch_of(&[&message]), "b").expect("parses");
        assert_eq!(single(&items).body, b"", "trailer {trailer:?}");
        assert_eq!(single(&items).headers.len(), 1, "trailer {trailer:?}");
    }
}

#[test]
fn binary_body_is_kept_byte_for_byte() {
    let mut body =
        b"--b\r\nContent-Type: application/http\r\n\r\nPUT annotations(1)/documentbody HTTP/1.1\r\n\r\n"
            .to_vec();
    let payload = [0u8, 0xff, 0xfe, b'\r', b'\n', b'-', b'-', b'b', 0x80];
    body.extend_from_slice(&payload);
    body.extend_from_slice(b"\r\n--b--\r\n");
    let items = parse_batch(&body, "b").expect("parses");
    assert_eq!(single(&items).body, payload);
}

#[test]
fn header_names_are_lowercased_and_values_trimmed() {
    let message = "PATCH accounts(1) HTTP/1.1\r\nIf-Match:   *  \r\nPrefer: return=representation,\r\n  odata.include-annotations=\"*\"\r\n\r\n{}";
    let items = parse_str(&batch_of(&[message]), "b").expect("parses");
    assert_eq!(
        single(&items).headers,
        vec![
            ("if-match".to_string(), "*".to_string()),
            ("prefer".to_string(), "return=representation, odata.include-annotations=\"*\"".to_string()),
        ]
    );
}

#[test]
fn relative_urls_are_kept_as_written() {
    let items = parse_str(
        &batch_of(&["GET mailboxes(1) HTTP/1.1", "GET /api/data/v9.2/accounts?$top=1 HTTP/1.1"]),
        "b",
    )
    .expect("parses");
    let urls: Vec<&str> = items
        .iter()
        .map(|item| match item {
            BatchItem::Single(request) => request.url.as_str(),
            BatchItem::ChangeSet(_) => "changeset",
        })
        .collect();
    assert_eq!(urls, ["mailboxes(1)", "/api/data/v9.2/accounts?$top=1"]);
}

#[test]
fn content_id_falls_back_to_the_inner_request_header() {
    let body = "--b\r\nContent-Type: multipart/mixed; boundary=\"cs\"\r\n\r\n\
                --cs\r\nContent-Type: application/http\r\n\r\n\
                POST accounts HTTP/1.1\r\nContent-ID: 7\r\n\r\n{}\r\n--cs--\r\n--b--\r\n";
    let items = parse_str(body, "b").expect("parses");
    let [BatchItem::ChangeSet(members)] = items.as_slice() else {
        panic!("expected one change set, got {items:?}");
    };
    assert_eq!(members[0].content_id.as_deref(), Some("7"));
}

#[test]
fn whitespace_after_a_delimiter_is_transport_padding() {
    let body = "--b  \r\nContent-Type: application/http\r\n\r\nGET accounts HTTP/1.1\r\n--b--\r\n";
    let items = parse_str(body, "b").expect("parses");
    assert_eq!(single(&items).url, "accounts");
}

#[test]
fn error_when_no_delimiter_is_found() {
    let message = error_of(EXAMPLE.as_bytes(), "other_boundary");
    assert!(message.contains("does not contain the boundary delimiter '--other_boundary'"), "{message}");
    assert!(error_of(b"", "b").contains("does not contain"));
}

#[test]
fn error_when_the_closing_delimiter_is_missing() {
    let truncated = EXAMPLE.replace("--batch_AAA123--\r\n", "");
    let message = error_of(truncated.as_bytes(), "batch_AAA123");
    assert!(message.contains("missing the closing delimiter '--batch_AAA123--'"), "{message}");
}

#[test]
fn error_when_a_change_set_is_missing_its_closing_delimiter() {
    let truncated = EXAMPLE.replace("--changeset_BBB456--\r\n", "");
    let message = error_of(truncated.as_bytes(), "batch_AAA123");
    assert!(message.contains("The change set in batch part 2 is missing the closing delimiter"), "{message}");
}

#[test]
fn error_when_a_part_has_no_content_type() {
    let body = "--b\r\nContent-Transfer-Encoding: binary\r\n\r\nGET accounts HTTP/1.1\r\n--b--";
    let message = error_of(body.as_bytes(), "b");
    assert_eq!(message, "Missing Content-Type header in batch part 1.");
}

#[test]
fn error_when_a_part_has_an_unsupported_content_type() {
    let body = "--b\r\nContent-Type: application/json\r\n\r\n{}\r\n--b--";
    let message = error_of(body.as_bytes(), "b");
    assert!(message.contains("Unsupported Content-Type 'application/json' in batch part 1"), "{message}");
}

#[test]
fn error_when_a_change_set_has_no_boundary() {
    let body = EXAMPLE.replace("multipart/mixed; boundary=changeset_BBB456", "multipart/mixed");
    let message = error_of(body.as_bytes(), "batch_AAA123");
    assert_eq!(message, "The change set in batch part 2 must have a boundary in its Content-Type header.");
}

#[test]
fn error_when_change_sets_are_nested() {
    let body = "--b\r\nContent-Type: multipart/mixed; boundary=cs1\r\n\r\n\
                --cs1\r\nContent-Type: multipart/mixed; boundary=cs2\r\n\r\n\
                --cs2\r\nContent-Type: application/http\r\n\r\nPOST accounts HTTP/1.1\r\n\r\n{}\r\n--cs2--\r\n\
                --cs1--\r\n--b--\r\n";
    let message = error_of(body.as_bytes(), "b");
    assert!(message.starts_with("Change sets cannot be nested"), "{message}");
    assert!(message.contains("part 1 of the change set in batch part 1"), "{message}");
}

#[test]
fn error_when_a_change_set_contains_a_get() {
    let body = EXAMPLE.replacen("PATCH", "GET", 1);
    let message = error_of(body.as_bytes(), "batch_AAA123");
    assert!(message.starts_with("GET requests are not allowed in a change set"), "{message}");
}

#[test]
fn error_when_the_request_line_is_malformed() {
    for line in [
        "GET accounts",
        "GET accounts HTTP/1.1 extra",
        "GET accounts FTP/1.0",
        "G3T accounts HTTP/1.1",
        "{\"name\":\"no request line\"}",
    ] {
        let message = error_of(batch_of(&[line]).as_bytes(), "b");
        assert!(message.starts_with("Malformed request line"), "{line}: {message}");
        assert!(message.contains("batch part 1"), "{line}: {message}");
    }
}

#[test]
fn error_when_a_part_has_no_request_line() {
    let message = error_of(batch_of(&[""]).as_bytes(), "b");
    assert_eq!(message, "No HTTP request line in batch part 1.");
}

#[test]
fn error_when_mime_headers_are_not_utf8() {
    let body = b"--b\r\nContent-Type: application/http\r\nX-Bad: \xff\xfe\r\n\r\nGET a HTTP/1.1\r\n--b--";
    assert_eq!(error_of(body, "b"), "The headers of batch part 1 are not valid UTF-8.");
}

#[test]
fn error_when_request_line_or_inner_headers_are_not_utf8() {
    let body = b"--b\r\nContent-Type: application/http\r\n\r\nGET a\xff HTTP/1.1\r\n--b--";
    assert_eq!(error_of(body, "b"), "The request line in batch part 1 is not valid UTF-8.");
    let body = b"--b\r\nContent-Type: application/http\r\n\r\nGET a HTTP/1.1\r\nAccept: \xc3\r\n--b--";
    assert_eq!(error_of(body, "b"), "The headers of batch part 1 are not valid UTF-8.");
}

#[test]
fn error_when_a_header_line_has_no_colon() {
    let message = error_of(batch_of(&["GET a HTTP/1.1\r\nAccept application/json"]).as_bytes(), "b");
    assert_eq!(message, "Malformed header line 'Accept application/json' in batch part 1.");
}

#[test]
fn reason_phrases_cover_the_statuses_the_simulator_uses() {
    let expected = [
        (200, "OK"),
        (201, "Created"),
        (204, "No Content"),
        (400, "Bad Request"),
        (401, "Unauthorized"),
        (403, "Forbidden"),
        (404, "Not Found"),
        (405, "Method Not Allowed"),
        (412, "Precondition Failed"),
        (413, "Payload Too Large"),
        (429, "Too Many Requests"),
        (500, "Internal Server Error"),
        (503, "Service Unavailable"),
        (299, "Unknown"),
    ];
    for (status, phrase) in expected {
        assert_eq!(reason_phrase(status), phrase, "{status}");
    }
}

fn response(status: u16, headers: &[(&str, &str)], body: &str, id: Option<&str>) -> InnerResponse {
    InnerResponse {
        status,
        headers: headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect(),
        body: body.as_bytes().to_vec(),
        content_id: id.map(str::to_string),
    }
}

#[test]
fn writes_the_exact_dataverse_layout() {
    let items = [
        BatchResponseItem::Single(response(200, &[("OData-Version", "4.0")], "{\"value\":[]}", None)),
        BatchResponseItem::ChangeSet(vec![response(
            204,
            &[("OData-Version", "4.0"), ("OData-EntityId", "https://org/api/data/v9.2/mailboxes(1)")],
            "",
            Some("1"),
        )]),
    ];
    let written = write_batch_response(&items, "batchresponse_X");
    let expected = "--batchresponse_X\r\n\
Content-Type: application/http\r\n\
Content-Transfer-Encoding: binary\r\n\
\r\n\
HTTP/1.1 200 OK\r\n\
OData-Version: 4.0\r\n\
\r\n\
{\"value\":[]}\r\n\
--batchresponse_X\r\n\
Content-Type: multipart/mixed; boundary=changesetresponse_X_1\r\n\
\r\n\
--changesetresponse_X_1\r\n\
Content-Type: application/http\r\n\
Content-Transfer-Encoding: binary\r\n\
Content-ID: 1\r\n\
\r\n\
HTTP/1.1 204 No Content\r\n\
OData-Version: 4.0\r\n\
OData-EntityId: https://org/api/data/v9.2/mailboxes(1)\r\n\
\r\n\
\r\n\
--changesetresponse_X_1--\r\n\
--batchresponse_X--\r\n";
    assert_eq!(String::from_utf8_lossy(&written), expected);
}

#[test]
fn writes_only_the_closing_delimiter_for_no_items() {
    assert_eq!(write_batch_response(&[], "batchresponse_1"), b"--batchresponse_1--\r\n");
}

#[test]
fn change_set_boundaries_are_deterministic_and_distinct() {
    let items = [
        BatchResponseItem::ChangeSet(vec![response(204, &[], "", Some("1"))]),
        BatchResponseItem::ChangeSet(vec![response(204, &[], "", Some("1"))]),
    ];
    let first = write_batch_response(&items, "batchresponse_abc");
    assert_eq!(first, write_batch_response(&items, "batchresponse_abc"));
    let text = String::from_utf8_lossy(&first);
    assert!(text.contains("boundary=changesetresponse_abc_0\r\n"), "{text}");
    assert!(text.contains("boundary=changesetresponse_abc_1\r\n"), "{text}");
}

/// Reads a written response back with the module's own multipart splitter.
fn parse_response(body: &[u8], boundary: &str) -> Vec<BatchResponseItem> {
    let read_http = |part: &[u8]| -> InnerResponse {
        let (mime, content) = read_head(part, "response part").expect("mime headers");
        assert_eq!(header(&mime, "content-type"), Some("application/http"));
        assert_eq!(header(&mime, "content-transfer-encoding"), Some("binary"));
        let (status_line, next) = next_line(content, 0);
        let status_line = std::str::from_utf8(status_line).expect("utf-8 status line");
        let mut words = status_line.splitn(3, ' ');
        assert_eq!(words.next(), Some("HTTP/1.1"));
        let status: u16 = words.next().and_then(|s| s.parse().ok()).expect("status code");
        assert_eq!(words.next(), Some(reason_phrase(status)));
        let (headers, body) = read_head(&content[next..], "response").expect("headers");
        InnerResponse {
            status,
            headers,
            body: body.to_vec(),
            content_id: header(&mime, "content-id").map(str::to_string),
        }
    };
    split_parts(body, boundary, "response")
        .expect("outer parts")
        .into_iter()
        .map(|part| {
            let (mime, content) = read_head(part, "response part").expect("mime headers");
            match header(&mime, "content-type").and_then(boundary_of) {
                Some(nested) => BatchResponseItem::ChangeSet(
                    split_parts(content, &nested, "change set")
                        .expect("change set parts")
                        .into_iter()
                        .map(read_http)
                        .collect(),
                ),
                None => BatchResponseItem::Single(read_http(part)),
            }
        })
        .collect()
}

#[test]
fn written_response_round_trips() {
    let items = vec![
        BatchResponseItem::Single(response(
            200,
            &[("content-type", "application/json; odata.metadata=minimal")],
            "{\"value\":[{\"name\":\"--batchresponse_r\"}]}\r\n",
            None,
        )),
        BatchResponseItem::ChangeSet(vec![
            response(204, &[("odata-version", "4.0")], "", Some("1")),
            response(201, &[("location", "https://org/api/data/v9.2/accounts(2)")], "{}", Some("2")),
        ]),
        BatchResponseItem::ChangeSet(Vec::new()),
        BatchResponseItem::Single(response(404, &[], "{\"error\":{}}", Some("9"))),
    ];
    let written = write_batch_response(&items, "batchresponse_r");
    assert_eq!(parse_response(&written, "batchresponse_r"), items);
}

/// xorshift64: deterministic pseudo-random numbers without extra crates.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n.max(1) as u64) as usize
    }
}

#[test]
fn truncated_and_mutated_bodies_never_panic() {
    let valid = EXAMPLE.as_bytes();
    let mut cases: Vec<Vec<u8>> = (0..=valid.len()).step_by(3).map(|n| valid[..n].to_vec()).collect();
    let interesting = [b'-', b'\r', b'\n', b':', b' ', b';', b'"', b'=', 0xff, 0xc3, b'G', 0];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..400 {
        let mut body = valid.to_vec();
        for _ in 0..1 + rng.below(4) {
            let at = rng.below(body.len());
            match rng.below(4) {
                0 => body[at] = interesting[rng.below(interesting.len())],
                1 => {
                    body.remove(at);
                }
                2 => body.insert(at, interesting[rng.below(interesting.len())]),
                _ => {
                    let end = (at + rng.below(40)).min(body.len());
                    let chunk = body[at..end].to_vec();
                    body.splice(at..at, chunk);
                }
            }
        }
        cases.push(body);
    }
    assert!(cases.len() > 500);
    let mut parsed = 0;
    for case in &cases {
        for boundary in ["batch_AAA123", "changeset_BBB456", "b", ""] {
            if parse_batch(case, boundary).is_ok() {
                parsed += 1;
            }
        }
    }
    // Some cases must still parse, or only the earliest error paths would be exercised.
    assert!(parsed > 0);
}
