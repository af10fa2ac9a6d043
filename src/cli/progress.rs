//! A progress bar on stderr for long runs (indicatif): one aggregate bar over all chains with
//! rate and ETA, fed by the shared step counter the chains' recorders increment. Drawn only
//! when stderr is a terminal and the run is not `--quiet`.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// A running progress display; [`Progress::done`] stops and clears it.
pub struct Progress {
    done: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Progress {
    /// Starts a bar for `total` steps counted by `counter`, or nothing when `quiet` or when
    /// stderr is not a terminal.
    pub fn start(counter: &Arc<AtomicU64>, total: u64, quiet: bool) -> Progress {
        let done = Arc::new(AtomicBool::new(false));
        if quiet || !std::io::stderr().is_terminal() || total == 0 {
            return Progress { done, thread: None };
        }
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template(
            "{elapsed_precise} [{bar:40}] {percent:>3}% {human_pos}/{human_len} steps, {per_sec}, ETA {eta}",
        )
        .map(|s| s.progress_chars("=> "));
        if let Ok(style) = style {
            bar.set_style(style);
        }
        let (c, d) = (Arc::clone(counter), Arc::clone(&done));
        let thread = std::thread::spawn(move || {
            while !d.load(Ordering::Relaxed) {
                bar.set_position(c.load(Ordering::Relaxed).min(total));
                std::thread::sleep(Duration::from_millis(100));
            }
            bar.finish_and_clear();
        });
        Progress {
            done,
            thread: Some(thread),
        }
    }

    /// Stops the display.
    pub fn done(mut self) {
        self.done.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
