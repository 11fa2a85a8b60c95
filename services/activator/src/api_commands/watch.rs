//! `activator watch BATCH`: follows the batch's event stream and draws the same bars as
//! `activator run` (plain lines every 5 s when stderr is not a terminal) until the API says the
//! batch has ended. A dropped stream is opened again, waiting 0.5 s, then twice as long each
//! time up to 10 s; after 2 minutes without a connection it gives up.

use crate::args::ApiClientArgs;
use crate::progress::{Bars, PLAIN_EVERY, summary_line};
use api_client::model::{BatchView, PausedReason};
use api_client::{ApiClient, ApiClientError, EventStream, decode};
use std::time::Duration;
use tokio::time::Instant;

const FIRST_DELAY: Duration = Duration::from_millis(500);
const MAX_DELAY: Duration = Duration::from_secs(10);
/// How long the API may stay out of reach before `watch` gives up.
const GIVE_UP: Duration = Duration::from_secs(120);
/// The API sends a keep-alive every 15 s: this long without a byte means the connection is gone.
const IDLE: Duration = Duration::from_secs(45);
/// How long the API may take to answer the request for the stream.
const OPEN_TIMEOUT: Duration = Duration::from_secs(30);

pub const AFTER_HELP: &str = "Example:\n  activator watch 0193d2c4-...\n\n\
Draws bars on a terminal; otherwise (a log, CI) prints a progress line every 5 s. When the connection \
drops, it connects again (0.5 s, doubling to 10 s between tries) and gives up after 2 minutes without \
a connection.\n\
Exit status: 0 when the batch completed with no failed mailbox, 1 when some failed or the batch was \
cancelled (`activator failures BATCH` lists them), 2 when the API answered an error or stayed out of reach \
for 2 minutes. Interrupting watch (Ctrl-C) leaves the batch running.";

#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct Args {
    /// Batch id, as `activator submit` printed it.
    #[arg(value_name = "BATCH")]
    batch: String,
    #[command(flatten)]
    api: ApiClientArgs,
}

pub async fn run(args: Args) -> i32 {
    super::with_client(&args.api, |client| watch(client, args.batch)).await
}

/// Follows `batch` until it ends; the exit status says how it ended.
pub async fn watch(client: ApiClient, batch: String) -> Result<i32, ApiClientError> {
    let mut screen = Screen::default();
    let mut retry = Retry::default();
    loop {
        let opened = tokio::time::timeout(OPEN_TIMEOUT, client.events(&batch)).await.unwrap_or_else(|_| {
            Err(ApiClientError::Transport { api: client.api().into(), detail: "no answer in time".into() })
        });
        let (progressed, e) = match opened {
            Ok(answer) => match follow(answer, &mut screen).await {
                Ok(Followed::Ended(view)) => return Ok(screen.end(&view)),
                Ok(Followed::Dropped { saw_events, why }) => {
                    (saw_events, ApiClientError::Transport { api: client.api().into(), detail: why })
                }
                Err(e) => return Err(screen.abandon(e)),
            },
            Err(e) if e.is_transient() => (false, e),
            Err(e) => return Err(screen.abandon(e)),
        };
        let Some(delay) = retry.next(progressed, Instant::now()) else {
            let api = client.api().to_string();
            return Err(screen.abandon(ApiClientError::GaveUp {
                api,
                secs: GIVE_UP.as_secs(),
                last: Box::new(e),
            }));
        };
        let why = e.to_string();
        screen.say(&format!("{why}; connecting again in {:.1} s", delay.as_secs_f64()));
        tokio::time::sleep(delay).await;
    }
}

/// When to connect again after a connection ended without `end`.
#[derive(Debug, Default)]
struct Retry {
    /// The wait after the last try (none yet: the first wait is [`FIRST_DELAY`]).
    last: Option<Duration>,
    /// When the API last failed to bring an event, after one that did.
    failing_since: Option<Instant>,
}

impl Retry {
    /// The wait before the next try, or none: give up. A connection that brought an event starts
    /// over; one that brought none (refused, or accepted and closed) counts as failing.
    fn next(&mut self, progressed: bool, now: Instant) -> Option<Duration> {
        if progressed {
            *self = Retry::default();
        } else if now.duration_since(*self.failing_since.get_or_insert(now)) >= GIVE_UP {
            return None;
        }
        let delay = self.last.map_or(FIRST_DELAY, |d| (d * 2).min(MAX_DELAY));
        self.last = Some(delay);
        Some(delay)
    }
}

#[derive(Debug)]
enum Followed {
    /// The `end` event, with the final view.
    Ended(Box<BatchView>),
    /// The stream stopped before `end`.
    Dropped { saw_events: bool, why: String },
}

/// Reads one connection's events into `screen` until `end` or until the stream stops.
async fn follow(mut stream: EventStream, screen: &mut Screen) -> Result<Followed, ApiClientError> {
    let mut saw_events = false;
    let idle = tokio::time::sleep(IDLE);
    tokio::pin!(idle);
    let mut plain = tokio::time::interval_at(Instant::now() + PLAIN_EVERY, PLAIN_EVERY);
    let dropped = |saw_events, why: String| Ok(Followed::Dropped { saw_events, why });
    loop {
        tokio::select! {
            chunk = stream.next_events() => match chunk {
                None => return dropped(saw_events, "the API closed the event stream".into()),
                Some(Err(why)) => return dropped(saw_events, why),
                Some(Ok(events)) => {
                    idle.as_mut().reset(Instant::now() + IDLE);
                    for event in events {
                        if event.event == "paused" {
                            let view: BatchView = decode("the `paused` event", &event.data)?;
                            if let Some(r) = &view.paused_reason {
                                screen.say(&paused_lines(&view.id, r));
                            }
                        }
                        if !matches!(event.event.as_str(), "progress" | "paused" | "end") {
                            continue;
                        }
                        let view: BatchView = decode(&format!("the `{}` event", event.event), &event.data)?;
                        screen.show(&view, !saw_events);
                        saw_events = true;
                        if event.event == "end" {
                            return Ok(Followed::Ended(Box::new(view)));
                        }
                    }
                }
            },
            _ = &mut idle => return dropped(saw_events, format!("nothing from the API for {} s", IDLE.as_secs())),
            _ = plain.tick() => screen.plain(),
        }
    }
}

/// What the user sees: bars (created at the first view, when the steps are known) or plain lines.
#[derive(Debug, Default)]
struct Screen {
    bars: Option<Bars>,
    last: Option<BatchView>,
}

impl Screen {
    /// Shows `view`; the first of a connection also as a plain line.
    fn show(&mut self, view: &BatchView, first_of_connection: bool) {
        let bars = self.bars.get_or_insert_with(|| Bars::new(&view.known_steps()));
        bars.update(&view.progress());
        bars.set_notice(notice(view).join(" · "));
        self.last = Some(view.clone());
        if first_of_connection {
            self.plain();
        }
    }

    /// The plain progress line, when the bars are not drawn.
    fn plain(&self) {
        if let (Some(bars), Some(view)) = (&self.bars, &self.last)
            && !bars.terminal()
        {
            eprintln!("progress: {}", plain_line(view));
        }
    }

    fn say(&self, line: &str) {
        match &self.bars {
            Some(bars) => bars.println(line),
            None => eprintln!("{line}"),
        }
    }

    fn abandon(self, e: ApiClientError) -> ApiClientError {
        if let Some(bars) = self.bars {
            bars.finish();
        }
        e
    }

    fn end(self, view: &BatchView) -> i32 {
        if let Some(bars) = self.bars {
            bars.finish();
        }
        print!("{}", final_summary(view));
        exit_code(view)
    }
}

/// What a batch that paused itself says: the cause, the code, what to do.
pub fn paused_lines(batch: &str, r: &PausedReason) -> String {
    format!(
        "batch {batch} paused itself ({}): {}\n  error code: {}\n  what to do: {}",
        r.by, r.message, r.code, r.remedy
    )
}

/// What the line under the bars says: paused, throttled.
fn notice(v: &BatchView) -> Vec<String> {
    let mut out = Vec::new();
    match (&v.paused_reason, v.state == "paused") {
        (Some(r), true) => {
            out.push(format!("paused by the {} ({}): see above; `activator resume {}`", r.by, r.code, v.id))
        }
        (None, true) => out.push(format!("paused: `activator resume {}` continues it", v.id)),
        _ => {}
    }
    if v.throttled > 0 {
        out.push(format!("throttled by Dataverse: {} mailboxes waiting out a 429", v.throttled));
    }
    out
}

pub fn plain_line(v: &BatchView) -> String {
    let mut line = summary_line(&v.progress());
    if let Some(rate) = v.rate_per_sec {
        line.push_str(&format!("; {rate:.2}/s"));
    }
    if let Some(eta) = v.eta_secs {
        line.push_str(&format!(", ETA {}", crate::text_table::duration(eta)));
    }
    for n in notice(v) {
        line.push_str("; ");
        line.push_str(&n);
    }
    line
}

pub fn final_summary(v: &BatchView) -> String {
    let mut out = format!("batch {} {}: {}\n", v.id, v.state, summary_line(&v.progress()));
    out.push_str(&super::failed_hint(v));
    out
}

/// 0: completed with no failed mailbox; 1: some failed, or the batch did not complete.
pub fn exit_code(v: &BatchView) -> i32 {
    i32::from(v.failed() > 0 || v.state != "completed")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(state: &str, failed: u64, throttled: u64) -> BatchView {
        serde_json::from_value(serde_json::json!({
            "id": "b1", "state": state, "total": 4, "steps": ["approve"],
            "counts": {"done": 4 - failed, "failed": failed}, "finished": 4,
            "rate_per_sec": 2.0, "eta_secs": 0.0, "throttled": throttled
        }))
        .expect("a view")
    }

    #[test]
    fn waits_double_up_to_10_s_start_over_after_an_event_and_end_after_2_minutes_without_one() {
        let start = Instant::now();
        let mut retry = Retry::default();
        let mut at = start;
        let mut waits = Vec::new();
        while let Some(wait) = retry.next(false, at) {
            waits.push(wait.as_secs_f64());
            at += wait;
        }
        assert_eq!(&waits[..7], &[0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0]);
        assert!(at.duration_since(start) >= GIVE_UP && at.duration_since(start) < GIVE_UP + MAX_DELAY);
        assert_eq!(retry.next(true, at), Some(FIRST_DELAY), "an event starts over");
        assert_eq!(retry.next(false, at + GIVE_UP - Duration::from_millis(1)), Some(Duration::from_secs(1)));
    }

    #[test]
    fn the_exit_status_follows_the_final_view() {
        assert_eq!(exit_code(&view("completed", 0, 0)), 0);
        assert_eq!(exit_code(&view("completed", 1, 0)), 1);
        assert_eq!(exit_code(&view("cancelled", 0, 0)), 1);
    }

    #[test]
    fn plain_lines_and_the_summary_say_rate_throttling_and_what_to_do() {
        let line = plain_line(&view("paused", 1, 2));
        assert!(line.starts_with("4/4 finished: done 3, skipped 0, failed 1"), "{line}");
        assert!(line.ends_with(
            "; 2.00/s, ETA 0s; paused: `activator resume b1` continues it; \
             throttled by Dataverse: 2 mailboxes waiting out a 429"
        ));
        let summary = final_summary(&view("completed", 1, 0));
        assert!(summary.starts_with("batch b1 completed: 4/4 finished"), "{summary}");
        assert!(summary.contains("`activator failures b1`"), "{summary}");
    }
}
