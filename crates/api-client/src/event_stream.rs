//! An open event stream of the API (`text/event-stream`), read chunk by chunk so that the
//! caller sees keep-alives too (a quiet connection may be a dead one).

use crate::ApiClientError;
use crate::sse::{SseEvent, SseParser};
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use reqwest::header::CONTENT_TYPE;

pub struct EventStream {
    body: BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    parser: SseParser,
}

impl std::fmt::Debug for EventStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventStream").finish_non_exhaustive()
    }
}

impl EventStream {
    /// Takes a successful answer, refusing one that is not an event stream (say, another
    /// service at the address given).
    pub(crate) fn open(answer: reqwest::Response) -> Result<EventStream, ApiClientError> {
        let content_type = answer.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        if !content_type.to_ascii_lowercase().starts_with("text/event-stream") {
            return Err(ApiClientError::Protocol(format!(
                "the answer to GET {} is {content_type:?}, not an event stream: is --api the address of \
                 `activator api`?",
                answer.url().path()
            )));
        }
        Ok(EventStream { body: answer.bytes_stream().boxed(), parser: SseParser::new() })
    }

    /// The events completed by the next chunk of the body (none for a keep-alive); `None` when
    /// the API closed the stream, an error saying why when it broke. Cancel-safe.
    pub async fn next_events(&mut self) -> Option<Result<Vec<SseEvent>, String>> {
        match self.body.next().await? {
            Ok(bytes) => Some(Ok(self.parser.feed(&bytes))),
            Err(e) => Some(Err(format!("the event stream broke: {}", crate::root_cause(&e)))),
        }
    }
}
