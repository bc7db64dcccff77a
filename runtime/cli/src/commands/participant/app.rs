//! `strand participant … -- COMMAND ARGS`: the application as a child of
//! the participant (Helix agent's linked lifecycle). It runs in a process
//! group of its own; [`App::stop`] sends that group SIGTERM, then SIGKILL
//! after a grace period; [`App::exited`] resolves the moment it exits.

use std::process::ExitStatus;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use tokio::process::{Child, Command};
use tracing::{info, warn};

/// The running application.
pub struct App {
    child: Child,
    pid: u32,
    exit: Option<ExitStatus>,
}

impl App {
    /// Starts `command` (program and arguments) in a new process group,
    /// with the participant's stdin, stdout and stderr.
    ///
    /// # Errors
    /// An empty command, or one that cannot be started.
    pub fn start(command: &[String]) -> Result<Self> {
        let Some((program, args)) = command.split_first() else {
            bail!("-- needs a command to run");
        };
        let child = Command::new(program)
            .args(args)
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting the application {program:?}"))?;
        let pid = child.id().context("the application exited at once")?;
        info!(pid, command = %command.join(" "), "application started");
        eprintln!("started the application (pid {pid}): {}", command.join(" "));
        Ok(Self {
            child,
            pid,
            exit: None,
        })
    }

    /// Resolves when the application exits (at once if it has).
    pub async fn exited(&mut self) -> ExitStatus {
        if let Some(status) = self.exit {
            return status;
        }
        let status = match self.child.wait().await {
            Ok(status) => status,
            Err(e) => {
                warn!(error = %e, "waiting for the application failed");
                std::os::unix::process::ExitStatusExt::from_raw(1 << 8)
            }
        };
        self.exit = Some(status);
        status
    }

    /// SIGTERM to the application's process group; SIGKILL to the group
    /// after `grace` if it has not exited. Returns how it ended.
    pub async fn stop(&mut self, grace: Duration) -> ExitStatus {
        if let Some(status) = self.exit {
            return status;
        }
        signal_group(self.pid, "TERM").await;
        match tokio::time::timeout(grace, self.exited()).await {
            Ok(status) => status,
            Err(_) => {
                warn!(
                    pid = self.pid,
                    "application still running after {grace:?}; killing it"
                );
                signal_group(self.pid, "KILL").await;
                self.exited().await
            }
        }
    }
}

/// Sends `signal` to process group `pgid` with the system's `kill`
/// command (the workspace forbids `unsafe`, which a direct `kill(2)` call
/// needs).
async fn signal_group(pgid: u32, signal: &str) {
    let result = Command::new("kill")
        .args([&format!("-{signal}"), "--", &format!("-{pgid}")])
        .status()
        .await;
    match result {
        Ok(s) if s.success() => {}
        Ok(s) => warn!(pgid, signal, "kill exited with {s} (the group may be gone)"),
        Err(e) => warn!(pgid, signal, error = %e, "could not run kill"),
    }
}
