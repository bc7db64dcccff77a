//! A plugin's stdout and stderr when the operator did not grant it the
//! host's stdio: line by line into the host's log (`tracing`, target
//! `strand_plugin`, tagged with the plugin's `name@version` and the
//! stream), at most [`Limits::output_bytes`](crate::Limits::output_bytes)
//! per call, and the call's stderr kept so a failure can say what the
//! plugin printed before it trapped (a Python traceback, a JavaScript
//! exception, a Rust panic message).
//!
//! # Guarantees
//! * Writes never block and never fail: past the cap, output is counted
//!   and dropped (one warning per call says how much), so a chatty plugin
//!   cannot fill the log or stall its call.
//! * A line longer than [`MAX_LINE`] is logged in pieces; a partial last
//!   line is logged when the call ends.
//! * Nothing here needs an async runtime (wasmtime-wasi's default stdio
//!   does, and panicked on tokio threads).

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

/// The longest line logged in one record.
pub(crate) const MAX_LINE: usize = 4096;
/// How much of a call's stderr is kept for its error report (the end).
pub(crate) const KEPT_STDERR: usize = 8192;
/// What `check-write` grants per write.
const PERMIT: usize = 64 << 10;

/// Which stream a write came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    fn name(self) -> &'static str {
        match self {
            Self::Stdout => "stdout",
            Self::Stderr => "stderr",
        }
    }
}

#[derive(Debug)]
struct Sink {
    label: Arc<str>,
    /// Whether lines go to the log (they are always counted and stderr kept).
    log: bool,
    cap: usize,
    /// Bytes accepted in the current call (both streams).
    used: usize,
    /// Bytes dropped in the current call.
    dropped: usize,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    /// The current call's stderr, its last [`KEPT_STDERR`] bytes.
    stderr_kept: Vec<u8>,
}

impl Sink {
    fn write(&mut self, stream: Stream, bytes: &[u8]) {
        if stream == Stream::Stderr {
            keep_tail(&mut self.stderr_kept, bytes, KEPT_STDERR);
        }
        let room = self.cap.saturating_sub(self.used);
        let (taken, rest) = bytes.split_at(bytes.len().min(room));
        self.used += taken.len();
        self.dropped += rest.len();
        let (label, log) = (self.label.clone(), self.log);
        let buffer = match stream {
            Stream::Stdout => &mut self.stdout,
            Stream::Stderr => &mut self.stderr,
        };
        buffer.extend_from_slice(taken);
        while let Some(end) = buffer.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buffer.drain(..=end).collect();
            emit(log, &label, stream, &line[..line.len() - 1]);
        }
        while buffer.len() >= MAX_LINE {
            let piece: Vec<u8> = buffer.drain(..MAX_LINE).collect();
            emit(log, &label, stream, &piece);
        }
    }

    fn flush_partial(&mut self) {
        let (label, log) = (self.label.clone(), self.log);
        for stream in [Stream::Stdout, Stream::Stderr] {
            let buffer = match stream {
                Stream::Stdout => &mut self.stdout,
                Stream::Stderr => &mut self.stderr,
            };
            if !buffer.is_empty() {
                let line = std::mem::take(buffer);
                emit(log, &label, stream, &line);
            }
        }
    }
}

fn emit(log: bool, label: &str, stream: Stream, line: &[u8]) {
    if !log {
        return;
    }
    let text = String::from_utf8_lossy(line);
    let text = text.trim_end_matches('\r');
    match stream {
        Stream::Stdout => {
            tracing::info!(target: "strand_plugin", plugin = label, stream = stream.name(), "{text}")
        }
        Stream::Stderr => {
            tracing::warn!(target: "strand_plugin", plugin = label, stream = stream.name(), "{text}")
        }
    }
}

/// Appends `bytes` to `kept`, keeping only its last `max` bytes.
fn keep_tail(kept: &mut Vec<u8>, bytes: &[u8], max: usize) {
    kept.extend_from_slice(&bytes[bytes.len().saturating_sub(max)..]);
    let excess = kept.len().saturating_sub(max);
    kept.drain(..excess);
}

/// The log-backed stdio of one store; clones share it.
#[derive(Debug, Clone)]
pub(crate) struct OutputLog {
    sink: Arc<Mutex<Sink>>,
}

impl OutputLog {
    /// Output of the plugin `label`, at most `cap` bytes per call, logged
    /// unless `log` is false (then only counted, and stderr kept for
    /// errors: `strand plugin check` shows it in its report).
    pub(crate) fn new(label: Arc<str>, cap: usize, log: bool) -> Self {
        Self {
            sink: Arc::new(Mutex::new(Sink {
                label,
                log,
                cap,
                used: 0,
                dropped: 0,
                stdout: Vec::new(),
                stderr: Vec::new(),
                stderr_kept: Vec::new(),
            })),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Sink> {
        self.sink.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Renames the plugin in later records (once its version is known).
    pub(crate) fn relabel(&self, label: Arc<str>) {
        self.lock().label = label;
    }

    /// The guest's stdout stream.
    pub(crate) fn stdout(&self) -> GuestStream {
        GuestStream {
            log: self.clone(),
            stream: Stream::Stdout,
        }
    }

    /// The guest's stderr stream.
    pub(crate) fn stderr(&self) -> GuestStream {
        GuestStream {
            log: self.clone(),
            stream: Stream::Stderr,
        }
    }

    /// Starts a call: the cap and the kept stderr start over.
    pub(crate) fn begin_call(&self) {
        let mut sink = self.lock();
        sink.used = 0;
        sink.dropped = 0;
        sink.stderr_kept.clear();
    }

    /// Ends a call: logs partial lines and what was dropped, and returns
    /// what the call wrote to stderr (its end), if anything.
    pub(crate) fn end_call(&self) -> Option<String> {
        let mut sink = self.lock();
        sink.flush_partial();
        if sink.dropped > 0 && sink.log {
            tracing::warn!(
                target: "strand_plugin",
                plugin = &*sink.label,
                dropped_bytes = sink.dropped,
                cap_bytes = sink.cap,
                "plugin output over the per-call cap was dropped"
            );
        }
        let kept = std::mem::take(&mut sink.stderr_kept);
        let text = String::from_utf8_lossy(&kept).trim().to_owned();
        (!text.is_empty()).then_some(text)
    }
}

/// One of a guest's output streams (stdout or stderr) writing to an
/// [`OutputLog`].
#[derive(Debug, Clone)]
pub(crate) struct GuestStream {
    log: OutputLog,
    stream: Stream,
}

impl IsTerminal for GuestStream {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for GuestStream {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

impl OutputStream for GuestStream {
    fn write(&mut self, bytes: bytes::Bytes) -> StreamResult<()> {
        self.log.lock().write(self.stream, &bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(PERMIT)
    }
}

impl Pollable for GuestStream {
    // Always ready: writes never wait. (The trait is an `async_trait`; this
    // is its expansion, so the crate needs no macro for one method.)
    fn ready<'a, 'f>(&'a mut self) -> Pin<Box<dyn Future<Output = ()> + Send + 'f>>
    where
        'a: 'f,
        Self: 'f,
    {
        Box::pin(std::future::ready(()))
    }
}

impl tokio::io::AsyncWrite for GuestStream {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.log.lock().write(self.stream, buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_counts_per_call_and_stderr_is_kept_for_the_error() {
        let log = OutputLog::new(Arc::from("p@1"), 10, true);
        log.begin_call();
        log.lock().write(Stream::Stdout, b"hello\nworld and more");
        log.lock().write(Stream::Stderr, b"boom\n");
        {
            let sink = log.lock();
            assert_eq!(sink.used, 10);
            // 10 of stdout's 20 bytes and all of stderr's 5.
            assert_eq!(sink.dropped, 15);
        }
        assert_eq!(log.end_call().as_deref(), Some("boom"));
        log.begin_call();
        assert_eq!(log.lock().used, 0);
        assert_eq!(log.end_call(), None);
    }

    #[test]
    fn kept_stderr_is_the_end_of_it() {
        let mut kept = Vec::new();
        keep_tail(&mut kept, b"abcdef", 4);
        assert_eq!(kept, b"cdef");
        keep_tail(&mut kept, b"gh", 4);
        assert_eq!(kept, b"efgh");
    }

    #[test]
    fn long_lines_are_split_and_partial_lines_flushed_at_the_end() {
        let log = OutputLog::new(Arc::from("p@1"), 1 << 20, true);
        log.begin_call();
        log.lock().write(Stream::Stdout, &vec![b'x'; MAX_LINE + 10]);
        assert_eq!(log.lock().stdout.len(), 10);
        log.end_call();
        assert!(log.lock().stdout.is_empty());
    }
}
