//! A parser for `text/event-stream` (server-sent events), fed with the chunks of a response
//! body as they come: lines may end in LF, CRLF or CR and may be split anywhere between chunks,
//! `data` lines of one event are joined with LF, comments (keep-alives) are skipped, and an
//! event is dispatched at the blank line that ends it, as the WHATWG HTML standard says.

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event` field; `message` when the event had none.
    pub event: String,
    /// The `data` lines joined with LF.
    pub data: String,
}

/// Holds what was read of the event being received.
#[derive(Debug, Default)]
pub struct SseParser {
    /// Bytes of a line whose end has not arrived yet.
    line: Vec<u8>,
    /// The last chunk ended with CR: an LF at the start of the next one belongs to it.
    after_cr: bool,
    /// Nothing has been read yet (a byte order mark is skipped there).
    started: bool,
    event: Option<String>,
    data: String,
    has_data: bool,
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

impl SseParser {
    pub fn new() -> Self {
        SseParser::default()
    }

    /// Reads `chunk` and returns the events it completed, in order.
    pub fn feed(&mut self, mut chunk: &[u8]) -> Vec<SseEvent> {
        let mut out = Vec::new();
        if self.after_cr {
            self.after_cr = false;
            if let Some(rest) = chunk.strip_prefix(b"\n") {
                chunk = rest;
            }
        }
        while let Some(end) = chunk.iter().position(|b| *b == b'\n' || *b == b'\r') {
            self.line.extend_from_slice(&chunk[..end]);
            let line = std::mem::take(&mut self.line);
            if let Some(event) = self.line_done(&line) {
                out.push(event);
            }
            let was_cr = chunk[end] == b'\r';
            chunk = &chunk[end + 1..];
            if was_cr {
                match chunk.first() {
                    Some(b'\n') => chunk = &chunk[1..],
                    Some(_) => {}
                    None => self.after_cr = true,
                }
            }
        }
        self.line.extend_from_slice(chunk);
        out
    }

    fn line_done(&mut self, mut line: &[u8]) -> Option<SseEvent> {
        if !self.started {
            self.started = true;
            line = line.strip_prefix(BOM).unwrap_or(line);
        }
        if line.is_empty() {
            return self.dispatch();
        }
        if line.starts_with(b":") {
            return None;
        }
        let line = String::from_utf8_lossy(line);
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line.as_ref(), ""),
        };
        match field {
            "event" => self.event = Some(value.to_string()),
            "data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            // `id` and `retry` matter to a browser's reconnection; ours reads the whole state
            // again on every connection.
            _ => {}
        }
        None
    }

    fn dispatch(&mut self) -> Option<SseEvent> {
        let event = self.event.take();
        if !std::mem::take(&mut self.has_data) {
            return None;
        }
        Some(SseEvent {
            event: event.filter(|e| !e.is_empty()).unwrap_or_else(|| "message".into()),
            data: std::mem::take(&mut self.data),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(event: &str, data: &str) -> SseEvent {
        SseEvent { event: event.into(), data: data.into() }
    }

    fn all_at_once(text: &str) -> Vec<SseEvent> {
        SseParser::new().feed(text.as_bytes())
    }

    #[test]
    fn named_events_with_multi_line_data() {
        let text = "event: progress\ndata: {\"a\":\ndata: 1}\n\nevent: end\ndata:{}\n\n";
        assert_eq!(all_at_once(text), vec![ev("progress", "{\"a\":\n1}"), ev("end", "{}")]);
    }

    #[test]
    fn comments_and_keep_alives_are_skipped() {
        let text = ": keep-alive\n\n:\n\nevent: progress\n: in between\ndata: x\n\n";
        assert_eq!(all_at_once(text), vec![ev("progress", "x")]);
    }

    #[test]
    fn an_event_without_a_name_is_a_message_and_one_without_data_is_not_dispatched() {
        let text = "event: lonely\n\ndata: plain\n\n";
        assert_eq!(all_at_once(text), vec![ev("message", "plain")]);
    }

    #[test]
    fn only_one_space_after_the_colon_is_removed_and_a_bare_field_is_empty() {
        let text = "data:  two spaces\ndata\n\n";
        assert_eq!(all_at_once(text), vec![ev("message", " two spaces\n")]);
    }

    #[test]
    fn crlf_and_lone_cr_end_lines_too() {
        let text = "event: progress\r\ndata: a\r\n\r\nevent: end\rdata: b\r\r";
        assert_eq!(all_at_once(text), vec![ev("progress", "a"), ev("end", "b")]);
    }

    #[test]
    fn any_split_into_chunks_gives_the_same_events() {
        let text = "\u{FEFF}event: progress\r\ndata: {\"é\": 1}\r\n\r\n: ka\r\nevent: end\ndata: z\n\n";
        let expected = vec![ev("progress", "{\"é\": 1}"), ev("end", "z")];
        let bytes = text.as_bytes();
        for cut in 0..=bytes.len() {
            let mut p = SseParser::new();
            let mut got = p.feed(&bytes[..cut]);
            got.extend(p.feed(&bytes[cut..]));
            assert_eq!(got, expected, "split at byte {cut}");
        }
        let mut p = SseParser::new();
        let got: Vec<SseEvent> = bytes.iter().flat_map(|b| p.feed(std::slice::from_ref(b))).collect();
        assert_eq!(got, expected, "one byte at a time");
    }

    #[test]
    fn an_event_cut_off_by_the_end_of_the_stream_is_not_dispatched() {
        let mut p = SseParser::new();
        assert!(p.feed(b"event: end\ndata: {}\n").is_empty());
    }
}
