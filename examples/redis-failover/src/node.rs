//! One node of the example: `strand participant` for its instance, with the
//! node's redis-servers as its application (`-- bash -c LAUNCHER …`, Helix
//! agent's linked lifecycle): the launcher starts one redis-server per
//! partition and exits as soon as any of them does, which makes the
//! participant leave the cluster at once. Processes are real and separate,
//! so a kill -9 is a real crash.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::layout::{Layout, MODEL};

/// Runs the node's redis-servers (one per port argument) and exits when the
/// first of them exits, stopping the rest; SIGTERM stops them all, and so
/// does the participant's death (a watchdog polls it: a participant killed
/// alone must not leave a writable master behind, unseen by the cluster,
/// while the controller promotes another once its session expires). Each
/// starts as a replica of itself — read-only, the plugin's fence — until
/// the plugin tells it whom to follow or to be master: a fresh server must
/// never be a second writable master. `--repl-diskless-sync-delay 0`: a
/// replica's first copy starts at once.
const LAUNCHER: &str = r#"
set -u
pids=()
for port in "$@"; do
  redis-server --port "$port" --bind 127.0.0.1 --replicaof 127.0.0.1 "$port" --save '' --appendonly no \
    --repl-diskless-sync-delay 0 --loglevel warning --logfile "redis-$port.log" &
  pids+=($!)
done
participant=$PPID
( while kill -0 "$participant" 2>/dev/null; do sleep 0.1; done ) &
pids+=($!)
trap 'kill "${pids[@]}" 2>/dev/null; wait; exit 0' TERM INT
wait -n
kill "${pids[@]}" 2>/dev/null
wait
exit 1
"#;

/// How to run `strand`.
#[derive(Debug, Clone)]
pub struct Strand {
    /// The `strand` executable.
    pub bin: PathBuf,
    /// The ZooKeeper connect string.
    pub zk: String,
    /// The cluster.
    pub cluster: String,
    /// Where processes write their logs (and redis-servers theirs).
    pub logs: PathBuf,
    /// The ZooKeeper session timeout of the controller and participants.
    pub session_timeout: Duration,
}

impl Strand {
    /// The session timeout as `--session-timeout` takes it (whole seconds,
    /// at least 1).
    pub fn session_timeout_arg(&self) -> String {
        self.session_timeout.as_secs().max(1).to_string()
    }

    /// `strand --zk ZK ARGS…`, output appended to `logs/<log>.log`.
    ///
    /// # Errors
    /// The log file cannot be opened.
    pub fn command(&self, log: &str, args: &[&str]) -> Result<Command> {
        let out = File::options()
            .create(true)
            .append(true)
            .open(self.logs.join(format!("{log}.log")))?;
        let mut command = Command::new(&self.bin);
        command
            .arg("--zk")
            .arg(&self.zk)
            .args(args)
            .current_dir(&self.logs)
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out);
        Ok(command)
    }

    /// Runs `strand ARGS…` to the end.
    ///
    /// # Errors
    /// It fails; the message points at its log.
    pub fn run(&self, log: &str, args: &[&str]) -> Result<()> {
        let status = self.command(log, args)?.status()?;
        if !status.success() {
            bail!(
                "strand {} failed ({status}); see {}",
                args.join(" "),
                self.logs.join(format!("{log}.log")).display()
            );
        }
        Ok(())
    }
}

/// One node: its participant process (and, under it, its redis-servers).
#[derive(Debug)]
pub struct Node {
    /// Its index in the layout.
    pub index: usize,
    /// Its instance name.
    pub instance: String,
    ports: Vec<u16>,
    grant: String,
    participant: Option<Child>,
}

impl Node {
    /// Node `index` of `layout` (not started).
    pub fn new(layout: &Layout, index: usize) -> Self {
        Self {
            index,
            instance: layout.instance(index),
            ports: layout.redis_ports(index),
            grant: format!("{MODEL}={}", layout.tcp_rule()),
            participant: None,
        }
    }

    /// Starts its participant, which starts its redis-servers.
    ///
    /// # Errors
    /// `strand` cannot be started.
    pub fn start(&mut self, strand: &Strand) -> Result<()> {
        let ports: Vec<String> = self.ports.iter().map(u16::to_string).collect();
        let timeout = strand.session_timeout_arg();
        let mut args = vec![
            "participant",
            "--cluster",
            &strand.cluster,
            "--instance",
            &self.instance,
            "--session-timeout",
            &timeout,
            "--grant",
            &self.grant,
            "--app-stop-grace",
            "5s",
            "--",
            "bash",
            "-c",
            LAUNCHER,
            "launcher",
        ];
        args.extend(ports.iter().map(String::as_str));
        let child = strand
            .command(&self.instance, &args)?
            .spawn()
            .with_context(|| format!("starting {}", strand.bin.display()))?;
        self.participant = Some(child);
        Ok(())
    }

    /// Whether its participant process runs.
    pub fn is_running(&mut self) -> bool {
        self.participant
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// A graceful stop: SIGTERM (the participant drains its MASTERs to the
    /// other nodes, leaves, then stops its redis-servers); waits for it.
    ///
    /// # Errors
    /// It did not exit within `deadline`.
    pub fn stop(&mut self, deadline: Duration) -> Result<()> {
        self.terminate();
        self.wait_exit(deadline)
    }

    /// Sends its participant SIGTERM (the start of a graceful stop) without
    /// waiting for it to exit.
    pub fn terminate(&mut self) {
        if let Some(pid) = self.pid() {
            signal("-TERM", &pid.to_string());
        }
    }

    /// kill -9 of the whole node: the participant and its redis-servers.
    ///
    /// # Errors
    /// It was not running.
    pub fn kill(&mut self) -> Result<()> {
        let pid = self.pid().context("the node is not running")?;
        // The launcher is the participant's child, in a process group of
        // its own; killing that group kills every redis-server. One `kill`
        // for all, the participant first: between two `kill` processes the
        // participant would see its application exit and leave the cluster
        // in an orderly way, which is not a crash.
        let mut targets = vec![pid.to_string()];
        targets.extend(
            children_of(pid)
                .iter()
                .map(|launcher| format!("-{launcher}")),
        );
        signal_all("-KILL", &targets);
        self.wait_exit(Duration::from_secs(10))
    }

    /// kill -9 of its participant alone: the launcher's watchdog stops the
    /// redis-servers, and the controller fails over once the session
    /// expires.
    ///
    /// # Errors
    /// It was not running, or did not die.
    pub fn kill_participant(&mut self) -> Result<()> {
        let pid = self.pid().context("the node is not running")?;
        signal("-KILL", &pid.to_string());
        self.wait_exit(Duration::from_secs(10))
    }

    /// kill -9 of its redis-server on `port`: the launcher stops the others
    /// and exits, and the participant leaves the cluster.
    ///
    /// # Errors
    /// The server does not answer (to tell its pid).
    pub fn kill_redis(&mut self, port: u16) -> Result<()> {
        let pid = crate::redis_io::pid(port)?;
        signal("-KILL", &pid.to_string());
        Ok(())
    }

    /// Waits for the participant process to exit.
    ///
    /// # Errors
    /// It is still running at `deadline`.
    pub fn wait_exit(&mut self, deadline: Duration) -> Result<()> {
        let ends = Instant::now() + deadline;
        let Some(child) = self.participant.as_mut() else {
            return Ok(());
        };
        loop {
            if child.try_wait()?.is_some() {
                self.participant = None;
                return Ok(());
            }
            if Instant::now() > ends {
                bail!("{} still runs after {deadline:?}", self.instance);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn pid(&self) -> Option<u32> {
        self.participant.as_ref().map(Child::id)
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if self.pid().is_some() {
            let _ = self.kill();
        }
    }
}

/// Sends `signal` to `target` (a pid, or `-PGID`) with the system's `kill`
/// (the workspace forbids `unsafe`, which `kill(2)` would need).
pub(crate) fn signal(signal: &str, target: &str) {
    signal_all(signal, &[target.to_owned()]);
}

/// Sends `signal` to every target, in order, from one `kill` process.
pub(crate) fn signal_all(signal: &str, targets: &[String]) {
    let status = Command::new("kill")
        .arg(signal)
        .arg("--")
        .args(targets)
        .stderr(Stdio::null())
        .status();
    if let Err(e) = status {
        tracing::warn!(signal, ?targets, error = %e, "cannot run kill");
    }
}

/// The pids of `pid`'s children (`/proc/<pid>/task/<pid>/children`).
fn children_of(pid: u32) -> Vec<u32> {
    let path = Path::new("/proc")
        .join(pid.to_string())
        .join("task")
        .join(pid.to_string())
        .join("children");
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}
