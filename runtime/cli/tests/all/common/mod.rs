//! What the `strand` command's process tests share: a `strand` process
//! whose stderr goes to a file the test reads, killed on drop so a failing
//! test leaves nothing running.

// Each test binary uses its own part of this module.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Generous: the machine may be loaded.
pub const DEADLINE: Duration = Duration::from_secs(180);

/// A running `strand` process with its stderr in a file.
pub struct StrandProcess {
    child: Child,
    stderr: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for StrandProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl StrandProcess {
    /// Starts `strand` with the arguments and environment `configure`
    /// adds; stdin and stdout are null.
    pub fn spawn(configure: impl FnOnce(&mut Command)) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let stderr = dir.path().join("stderr.log");
        let mut command = Command::new(env!("CARGO_BIN_EXE_strand"));
        command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr).expect("stderr file"));
        configure(&mut command);
        let child = command.spawn().expect("spawn strand");
        Self {
            child,
            stderr,
            _dir: dir,
        }
    }

    /// What the process wrote to stderr so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// Its exit status, if it has exited.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().expect("try_wait")
    }

    /// Sends SIGTERM.
    pub fn sigterm(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill -TERM");
        assert!(status.success());
    }

    /// Waits for the process to exit, which it must do successfully; how
    /// long it took.
    pub async fn exits(&mut self, what: &str) -> Duration {
        let start = Instant::now();
        loop {
            if let Some(status) = self.exited() {
                assert!(status.success(), "{what}: {status}\n{}", self.stderr());
                return start.elapsed();
            }
            assert!(
                start.elapsed() < DEADLINE,
                "{what}: still running\n{}",
                self.stderr()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until stderr contains `text`.
    pub async fn stderr_shows(&self, text: &str) {
        let start = Instant::now();
        while !self.stderr().contains(text) {
            assert!(
                start.elapsed() < DEADLINE,
                "no {text:?} in\n{}",
                self.stderr()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
