//! Progress of a batch on the terminal: an overall bar, one bar per requested step (done,
//! failed, waiting, verifying, rate, ETA) and a line while Dataverse throttles. Without a
//! terminal, a plain line every few seconds instead. [`Bars`] draws the same for `activator run`
//! (from the store) and `activator watch` (from the API's events).

use activator_core::Progress;
use activator_core::{ItemState, Step};
use dataverse::Dataverse;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::{Duration, Instant};
use store::{BatchId, BatchStore};
use tokio::sync::watch;

const REDRAW: Duration = Duration::from_millis(250);
pub const PLAIN_EVERY: Duration = Duration::from_secs(5);

/// Items that have passed `step`: at a later step (in any state), done, or skipped.
pub fn passed(progress: &Progress, step: Step) -> u64 {
    let later: u64 = progress
        .by_step
        .iter()
        .filter(|(s, _)| **s > step)
        .flat_map(|(_, states)| states.iter())
        .filter(|(state, _)| !matches!(state, ItemState::Done | ItemState::Skipped))
        .map(|(_, n)| *n)
        .sum();
    later + progress.count(ItemState::Done) + progress.count(ItemState::Skipped)
}

fn at_step(progress: &Progress, step: Step, state: ItemState) -> u64 {
    progress.by_step.get(&step).and_then(|m| m.get(&state)).copied().unwrap_or(0)
}

pub fn summary_line(p: &Progress) -> String {
    format!(
        "{}/{} finished: done {}, skipped {}, failed {}, cancelled {}; not started {}; in progress: queued {}, running {}, waiting {}, verifying {}",
        p.finished(),
        p.total,
        p.count(ItemState::Done),
        p.count(ItemState::Skipped),
        p.count(ItemState::Failed),
        p.count(ItemState::Cancelled),
        p.not_started,
        // Mailboxes not started are pending at the first step: not in progress yet.
        (p.count(ItemState::Queued) + p.count(ItemState::Pending)).saturating_sub(p.not_started),
        p.count(ItemState::Running),
        p.count(ItemState::Waiting),
        p.count(ItemState::Verifying),
    )
}

/// The bars of one batch: overall, one per requested step, and a line for notices (throttling).
/// Drawn on stderr when it is a terminal, else hidden (callers print plain lines instead).
#[derive(Debug)]
pub struct Bars {
    multi: MultiProgress,
    overall: ProgressBar,
    steps: Vec<(Step, ProgressBar)>,
    notice: ProgressBar,
    terminal: bool,
    updated: bool,
}

/// A rate as people read it: one decimal below 100 a second (`29.9/s`), whole above.
fn rate_text(per_sec: f64) -> String {
    if !per_sec.is_finite() || per_sec <= 0.0 {
        "0/s".to_string()
    } else if per_sec < 100.0 {
        format!("{per_sec:.1}/s")
    } else {
        format!("{per_sec:.0}/s")
    }
}

impl Bars {
    pub fn new(steps: &[Step]) -> Bars {
        let terminal = std::io::stderr().is_terminal();
        let multi = MultiProgress::with_draw_target(if terminal {
            ProgressDrawTarget::stderr_with_hz(4)
        } else {
            ProgressDrawTarget::hidden()
        });
        let style = |template: &str| {
            ProgressStyle::with_template(template)
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .with_key("rate", |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = w.write_str(&rate_text(state.per_sec()));
                })
                .progress_chars("█▉▊▋▌▍▎▏ ")
        };
        let overall = multi.add(ProgressBar::new(0));
        overall.set_style(style("{prefix:>16} [{bar:30.green}] {pos}/{len} {rate:>9} ETA {eta:>4}  {msg}"));
        overall.set_prefix("all mailboxes");
        let steps = steps
            .iter()
            .map(|s| {
                let bar = multi.add(ProgressBar::new(0));
                bar.set_style(style(
                    "{prefix:>16} [{bar:30.cyan}] {pos}/{len} {rate:>9} ETA {eta:>4}  {msg}",
                ));
                bar.set_prefix(s.name().to_string());
                (*s, bar)
            })
            .collect();
        let notice = multi.add(ProgressBar::new_spinner());
        Bars { multi, overall, steps, notice, terminal, updated: false }
    }

    /// Whether the bars are drawn (stderr is a terminal).
    pub fn terminal(&self) -> bool {
        self.terminal
    }

    pub fn update(&mut self, p: &Progress) {
        self.overall.set_length(p.total);
        self.overall.set_position(p.finished());
        self.overall.set_message(format!(
            "done {} · skipped {} · failed {}",
            p.count(ItemState::Done),
            p.count(ItemState::Skipped),
            p.count(ItemState::Failed)
        ));
        for (step, bar) in &self.steps {
            bar.set_length(p.total);
            bar.set_position(passed(p, *step));
            bar.set_message(format!(
                "failed {} · waiting {} · verifying {}",
                at_step(p, *step, ItemState::Failed),
                at_step(p, *step, ItemState::Waiting),
                at_step(p, *step, ItemState::Verifying)
            ));
        }
        if !self.updated {
            // What was finished before the bars existed (a resumed run, a batch being watched)
            // is not progress made in the first instant: rates count from here.
            self.updated = true;
            self.overall.reset_eta();
            self.steps.iter().for_each(|(_, bar)| bar.reset_eta());
        }
    }

    /// The line under the bars (empty: nothing to say).
    pub fn set_notice(&self, text: String) {
        self.notice.set_message(text);
    }

    /// A line above the bars on a terminal, else a line on stderr.
    pub fn println(&self, line: &str) {
        if self.terminal {
            let _ = self.multi.println(line);
        } else {
            eprintln!("{line}");
        }
    }

    /// Leaves the bars as they are last drawn.
    pub fn finish(self) {
        self.overall.abandon();
        for (_, bar) in self.steps {
            bar.abandon();
        }
        self.notice.finish_and_clear();
    }
}

/// Draws until `stop` turns true.
pub async fn show<S: BatchStore>(
    store: Arc<S>,
    api: Arc<Dataverse>,
    batch: BatchId,
    steps: Vec<Step>,
    mut stop: watch::Receiver<bool>,
) {
    let mut bars = Bars::new(&steps);
    let mut last_plain = Instant::now();
    loop {
        if let Ok(p) = store.progress(batch).await {
            bars.update(&p);
            let paused =
                api.lanes().iter().map(|l| l.limiter.snapshot().paused_for).max().unwrap_or_default();
            bars.set_notice(if paused.is_zero() {
                String::new()
            } else {
                format!(
                    "throttled by Dataverse: waiting {:.0} s as it asked (Retry-After)",
                    paused.as_secs_f64().ceil()
                )
            });
            if !bars.terminal() && last_plain.elapsed() >= PLAIN_EVERY {
                eprintln!("progress: {}", summary_line(&p));
                last_plain = Instant::now();
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(REDRAW) => {}
            _ = stop.wait_for(|s| *s) => break,
        }
    }
    bars.finish();
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn an_item_at_a_later_step_has_passed_the_earlier_ones() {
        let mut p = Progress { total: 4, ..Progress::default() };
        p.by_state = BTreeMap::from([(ItemState::Done, 1), (ItemState::Failed, 1), (ItemState::Pending, 2)]);
        p.by_step = BTreeMap::from([
            (Step::Approve, BTreeMap::from([(ItemState::Failed, 1), (ItemState::Pending, 1)])),
            (Step::AssignRole, BTreeMap::from([(ItemState::Pending, 1)])),
            (Step::DeployApp, BTreeMap::from([(ItemState::Done, 1)])),
        ]);
        assert_eq!(passed(&p, Step::Approve), 2);
        assert_eq!(passed(&p, Step::TestAndEnable), 2);
        assert_eq!(passed(&p, Step::AssignRole), 1);
        assert_eq!(passed(&p, Step::DeployApp), 1);
    }

    #[test]
    fn mailboxes_not_started_are_not_counted_as_queued() {
        let mut p = Progress { total: 10, not_started: 6, ..Progress::default() };
        p.by_state = BTreeMap::from([(ItemState::Pending, 7), (ItemState::Queued, 2), (ItemState::Done, 1)]);
        let line = summary_line(&p);
        assert!(line.contains("not started 6; in progress: queued 3,"), "{line}");
    }

    #[test]
    fn rates_read_as_people_write_them() {
        assert_eq!(rate_text(29.933369766), "29.9/s");
        assert_eq!(rate_text(0.04), "0.0/s");
        assert_eq!(rate_text(157.4), "157/s");
        assert_eq!(rate_text(0.0), "0/s");
        assert_eq!(rate_text(f64::NAN), "0/s");
    }
}
