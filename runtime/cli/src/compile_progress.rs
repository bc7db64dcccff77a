//! What the `strand` commands say while the plugin host compiles a
//! component that is not in the compiled cache (a 12–18 MiB Python or
//! JavaScript component takes tens of seconds).
//!
//! * [`Progress::Terminal`] (`check`, `inspect`, `deploy` with stderr on a
//!   terminal): after about a second, one line on stderr redrawn every
//!   second — what, its size, elapsed — and a last line when it is done.
//! * [`Progress::Announce`] (participants): one line when a compile starts
//!   and one when it ends, so a log shows why start-up takes a while.
//! * [`Progress::Quiet`] (`--json`, or stderr not a terminal): nothing.

use std::io::{IsTerminal, Write};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use strand_plugin_host::{CompileEvent, CompileObserver};

/// How long a compile runs before the terminal line appears.
const SHOW_AFTER: Duration = Duration::from_secs(1);
/// How often the terminal line is redrawn.
const REDRAW: Duration = Duration::from_secs(1);

/// How compile progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// A live line on a terminal.
    Terminal,
    /// One line at the start and one at the end.
    Announce,
    /// Nothing.
    Quiet,
}

impl Progress {
    /// For a plugin command: a live line when stderr is a terminal, and
    /// quiet with `--json` or when stderr is a pipe or a file (a script's
    /// errors stay one line).
    pub fn for_command(json: bool) -> Self {
        if !json && std::io::stderr().is_terminal() {
            Self::Terminal
        } else {
            Self::Quiet
        }
    }

    /// The host observer that shows progress this way on stderr.
    pub fn observer(self) -> Option<CompileObserver> {
        self.observer_to(Arc::new(Mutex::new(std::io::stderr())), SHOW_AFTER)
    }

    fn observer_to(
        self,
        out: Arc<Mutex<dyn Write + Send>>,
        show_after: Duration,
    ) -> Option<CompileObserver> {
        let running: Mutex<Option<mpsc::Sender<()>>> = Mutex::new(None);
        let observer = move |event: &CompileEvent<'_>| {
            let write = |text: &str| {
                let mut out = out.lock().unwrap_or_else(PoisonError::into_inner);
                // Progress output is best effort: a closed stderr is no reason to fail.
                let _ = out.write_all(text.as_bytes());
                let _ = out.flush();
            };
            match (self, event) {
                (Self::Quiet, _) => {}
                (Self::Announce, CompileEvent::Started { what, bytes }) => {
                    write(&format!("compiling {what} ({})…\n", size(*bytes)));
                }
                (Self::Announce, CompileEvent::Finished { what, elapsed, .. }) => {
                    write(&format!("compiled {what} in {}\n", seconds(*elapsed)));
                }
                (Self::Terminal, CompileEvent::Started { what, bytes }) => {
                    let (stop, stopped) = mpsc::channel();
                    *running.lock().unwrap_or_else(PoisonError::into_inner) = Some(stop);
                    let line = format!("compiling {what} ({})", size(*bytes));
                    let out = Arc::clone(&out);
                    std::thread::spawn(move || live_line(&line, &out, &stopped, show_after));
                }
                (Self::Terminal, CompileEvent::Finished { .. }) => {
                    // Dropping the sender ends the live line.
                    running
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .take();
                }
            }
        };
        (self != Self::Quiet).then(|| Arc::new(observer) as CompileObserver)
    }
}

/// Draws `line` with the elapsed time until `stopped` fires, once
/// `show_after` has passed; then leaves a final line.
fn live_line(
    line: &str,
    out: &Mutex<dyn Write + Send>,
    stopped: &mpsc::Receiver<()>,
    show_after: Duration,
) {
    let started = std::time::Instant::now();
    if !matches!(
        stopped.recv_timeout(show_after),
        Err(RecvTimeoutError::Timeout)
    ) {
        return;
    }
    let draw = |text: &str| {
        let mut out = out.lock().unwrap_or_else(PoisonError::into_inner);
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    };
    loop {
        draw(&format!("\r\x1b[2K{line}… {}", seconds(started.elapsed())));
        match stopped.recv_timeout(REDRAW) {
            Err(RecvTimeoutError::Timeout) => continue,
            _ => break,
        }
    }
    draw(&format!(
        "\r\x1b[2K{line}: done in {}\n",
        seconds(started.elapsed())
    ));
}

/// `18.0 MiB`, `60 KiB`, `512 B`.
pub fn size(bytes: usize) -> String {
    #[allow(clippy::cast_precision_loss)] // display only
    let b = bytes as f64;
    if bytes >= 1 << 20 {
        format!("{:.1} MiB", b / f64::from(1 << 20))
    } else if bytes >= 1 << 10 {
        format!("{:.0} KiB", b / f64::from(1 << 10))
    } else {
        format!("{bytes} B")
    }
}

fn seconds(d: Duration) -> String {
    format!("{:.0} s", d.as_secs_f64().floor())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Captured(Vec<u8>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn text(out: &Mutex<Captured>) -> String {
        String::from_utf8_lossy(&out.lock().expect("lock").0).into_owned()
    }

    #[test]
    fn a_slow_compile_gets_a_live_line_and_a_fast_one_none() {
        let out = Arc::new(Mutex::new(Captured::default()));
        let observer = Progress::Terminal
            .observer_to(out.clone(), Duration::from_millis(50))
            .expect("observer");
        let started = CompileEvent::Started {
            what: "MasterSlave",
            bytes: 18 << 20,
        };
        let finished = CompileEvent::Finished {
            what: "MasterSlave",
            bytes: 18 << 20,
            elapsed: Duration::from_millis(300),
        };
        observer(&started);
        // Wait for the line to show rather than for a fixed time.
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while !text(&out).contains("compiling MasterSlave (18.0 MiB)… 0 s") {
            assert!(std::time::Instant::now() < deadline, "{}", text(&out));
            std::thread::sleep(Duration::from_millis(10));
        }
        observer(&finished);
        while !text(&out).contains("MasterSlave (18.0 MiB): done in") {
            assert!(std::time::Instant::now() < deadline, "{}", text(&out));
            std::thread::sleep(Duration::from_millis(10));
        }

        let quick = Arc::new(Mutex::new(Captured::default()));
        let observer = Progress::Terminal
            .observer_to(quick.clone(), Duration::from_secs(3600))
            .expect("observer");
        observer(&started);
        observer(&finished);
        assert_eq!(text(&quick), "");
    }

    #[test]
    fn announce_says_start_and_end_and_quiet_says_nothing() {
        let out = Arc::new(Mutex::new(Captured::default()));
        let observer = Progress::Announce
            .observer_to(out.clone(), SHOW_AFTER)
            .expect("observer");
        observer(&CompileEvent::Started {
            what: "py-noisy",
            bytes: 12 << 20,
        });
        observer(&CompileEvent::Finished {
            what: "py-noisy",
            bytes: 12 << 20,
            elapsed: Duration::from_secs(41),
        });
        assert_eq!(
            text(&out),
            "compiling py-noisy (12.0 MiB)…\ncompiled py-noisy in 41 s\n"
        );
        assert!(Progress::Quiet.observer().is_none());
    }

    #[test]
    fn sizes_read_like_the_readme() {
        assert_eq!(size(60 << 10), "60 KiB");
        assert_eq!(size(18_350_080), "17.5 MiB");
        assert_eq!(size(100), "100 B");
    }
}
