//! The other side of the comparison: the same three redis-servers (the
//! ports, flags and data the Strand nodes run them with) watched by Redis
//! Sentinel (Debian's `redis-sentinel`) the way its documentation sets it
//! up: three sentinels, one per host, quorum 2. A host is its redis-server
//! and its sentinel in one process group, so "kill -9 of the host" takes
//! both, as it takes a Strand node's participant and redis-server.

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::node::signal_all;
use crate::redis_io::{CALL_TIMEOUT, one_master_followed};

/// The name Sentinel monitors the master by.
pub const MASTER_NAME: &str = "strand-bench";

/// Time between two looks at a converging Sentinel.
const POLL: Duration = Duration::from_millis(50);

/// One host: its redis-server and its sentinel.
struct Host {
    redis_port: u16,
    sentinel_port: u16,
    redis: Option<Child>,
    sentinel: Option<Child>,
}

/// Three hosts under Sentinel.
pub struct SentinelSet {
    hosts: Vec<Host>,
    dir: PathBuf,
    down_after: Duration,
}

impl SentinelSet {
    /// Starts the servers (the first the master, the others its replicas)
    /// and the sentinels, and waits until every sentinel knows both
    /// replicas and the other two sentinels.
    ///
    /// # Errors
    /// A process cannot be started, or Sentinel does not settle within
    /// `timeout`.
    pub fn start(
        redis_ports: &[u16],
        dir: &Path,
        down_after: Duration,
        timeout: Duration,
    ) -> Result<Self> {
        let dir = dir.join("sentinel");
        std::fs::create_dir_all(&dir)?;
        let mut hosts = Vec::new();
        for &redis_port in redis_ports {
            hosts.push(Host {
                redis_port,
                sentinel_port: crate::layout::reserve_block(1)?,
                redis: None,
                sentinel: None,
            });
        }
        let mut set = Self {
            hosts,
            dir,
            down_after,
        };
        let master = set.hosts[0].redis_port;
        for h in 0..set.hosts.len() {
            let upstream = (h > 0).then_some(master);
            set.start_redis(h, upstream)?;
        }
        for h in 0..set.hosts.len() {
            set.write_sentinel_config(h, master)?;
            set.start_sentinel(h)?;
        }
        set.settled(timeout)?;
        Ok(set)
    }

    /// The redis ports, by host.
    pub fn redis_ports(&self) -> Vec<u16> {
        self.hosts.iter().map(|h| h.redis_port).collect()
    }

    /// The master's port as the running sentinels agree on it.
    ///
    /// # Errors
    /// The sentinels disagree or do not answer.
    pub fn master(&self) -> Result<u16> {
        let mut seen = None;
        for host in self.hosts.iter().filter(|h| h.sentinel.is_some()) {
            let port = master_addr(host.sentinel_port)?;
            match seen {
                None => seen = Some(port),
                Some(p) if p == port => {}
                Some(p) => bail!("sentinels disagree on the master: {p} and {port}"),
            }
        }
        seen.context("no sentinel")
    }

    /// The host whose redis-server listens on `port`.
    pub fn host_of(&self, port: u16) -> Option<usize> {
        self.hosts.iter().position(|h| h.redis_port == port)
    }

    /// kill -9 of host `h`'s redis-server.
    pub fn kill_redis(&mut self, h: usize) {
        if let Some(mut child) = self.hosts[h].redis.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// kill -9 of host `h`'s process group: its redis-server and sentinel.
    pub fn kill_host(&mut self, h: usize) {
        // One `kill` for both: a sentinel started beside an earlier
        // redis-server is in that server's (older) group, so it is named.
        let host = &self.hosts[h];
        let mut targets: Vec<String> = host.sentinel.iter().map(|c| c.id().to_string()).collect();
        targets.extend(host.redis.iter().map(|c| format!("-{}", c.id())));
        if !targets.is_empty() {
            signal_all("-KILL", &targets);
        }
        for mut child in [self.hosts[h].redis.take(), self.hosts[h].sentinel.take()]
            .into_iter()
            .flatten()
        {
            let _ = child.wait();
        }
    }

    /// `SENTINEL FAILOVER`: a planned handoff, asked of one sentinel; the
    /// moment it was accepted (a refusal, such as a failover still in
    /// progress, is retried until `timeout`).
    ///
    /// # Errors
    /// Still refused at `timeout`.
    pub fn failover(&self, timeout: Duration) -> Result<Instant> {
        let ends = Instant::now() + timeout;
        let sentinel = self.hosts[0].sentinel_port;
        loop {
            let asked = Instant::now();
            let answer: Result<()> = sentinel_call(sentinel, |con| {
                redis::cmd("SENTINEL")
                    .arg("FAILOVER")
                    .arg(MASTER_NAME)
                    .query::<()>(con)
                    .map_err(Into::into)
            });
            match answer {
                Ok(()) => return Ok(asked),
                Err(e) if Instant::now() < ends => {
                    tracing::debug!(error = %e, "SENTINEL FAILOVER refused; asking again");
                    std::thread::sleep(POLL);
                }
                Err(e) => return Err(e.context("SENTINEL FAILOVER")),
            }
        }
    }

    /// Brings host `h` back after a kill: its redis-server as a replica of
    /// the current master, its sentinel from the configuration it rewrote.
    /// Then waits until Sentinel settled.
    ///
    /// # Errors
    /// A process cannot be started, or Sentinel does not settle.
    pub fn restore(&mut self, h: usize, timeout: Duration) -> Result<()> {
        // Once the failover ended, a returning server is just a new
        // replica; returning in the middle of one, Sentinel reconfigures
        // it again on its own (slow) schedule.
        let master = self.failover_ended(timeout)?;
        if self.hosts[h].redis.is_none() {
            self.start_redis(h, Some(master))?;
        }
        if self.hosts[h].sentinel.is_none() {
            self.start_sentinel(h)?;
        }
        self.settled(timeout)
    }

    /// Waits until every sentinel names the same master, none sees it down
    /// or failing over, each knows both replicas up and the other two
    /// sentinels, and both replicas are linked to the master.
    ///
    /// # Errors
    /// Not within `timeout`; the message says what was still missing.
    pub fn settled(&self, timeout: Duration) -> Result<()> {
        let ends = Instant::now() + timeout;
        let mut last = String::new();
        // Three calm looks in a row: a sentinel that just came back may
        // still name the master its old configuration had.
        let mut calm_polls = 0;
        loop {
            let why = match self.unsettled() {
                Ok(None) if calm_polls == 2 => return Ok(()),
                Ok(None) => {
                    calm_polls += 1;
                    std::thread::sleep(POLL);
                    continue;
                }
                Ok(Some(why)) => why,
                Err(e) => format!("{e:#}"),
            };
            calm_polls = 0;
            if why != last {
                tracing::debug!(%why, "Sentinel not settled yet");
                last.clone_from(&why);
            }
            if Instant::now() > ends {
                bail!("Sentinel did not settle within {timeout:?}: {why}");
            }
            std::thread::sleep(POLL);
        }
    }

    /// Waits until the running sentinels agree on a master and none sees
    /// it down or failing over; that master.
    fn failover_ended(&self, timeout: Duration) -> Result<u16> {
        let ends = Instant::now() + timeout;
        loop {
            let master = self.master();
            if let Ok(master) = master {
                let calm = self
                    .hosts
                    .iter()
                    .filter(|h| h.sentinel.is_some())
                    .all(|h| master_flags(h.sentinel_port).is_ok_and(|f| f == "master"));
                if calm {
                    return Ok(master);
                }
            }
            if Instant::now() > ends {
                bail!("Sentinel's failover did not end within {timeout:?}");
            }
            std::thread::sleep(POLL);
        }
    }

    fn unsettled(&self) -> Result<Option<String>> {
        let master = self.master()?;
        let others = self.hosts.len() - 1;
        for host in &self.hosts {
            let state = sentinel_call(host.sentinel_port, |con| {
                Ok(redis::cmd("SENTINEL")
                    .arg("MASTER")
                    .arg(MASTER_NAME)
                    .query::<Vec<String>>(con)?)
            })?;
            let field = |name: &str| {
                state
                    .chunks(2)
                    .find(|kv| kv[0] == name)
                    .and_then(|kv| kv.get(1))
                    .map(String::as_str)
            };
            if field("flags") != Some("master") {
                return Ok(Some(format!(
                    "sentinel {} sees the master with flags {:?}",
                    host.sentinel_port,
                    field("flags")
                )));
            }
            let count = |name: &str| field(name).and_then(|v| v.parse::<usize>().ok());
            if count("num-other-sentinels") != Some(others) {
                return Ok(Some(format!(
                    "sentinel {} knows {:?} other sentinels",
                    host.sentinel_port,
                    count("num-other-sentinels")
                )));
            }
            let replicas = sentinel_call(host.sentinel_port, |con| {
                Ok(redis::cmd("SENTINEL")
                    .arg("REPLICAS")
                    .arg(MASTER_NAME)
                    .query::<Vec<Vec<String>>>(con)?)
            })?;
            let healthy = replicas
                .iter()
                .filter(|r| {
                    let flag = r
                        .chunks(2)
                        .find(|kv| kv[0] == "flags")
                        .and_then(|kv| kv.get(1));
                    let port = r
                        .chunks(2)
                        .find(|kv| kv[0] == "port")
                        .and_then(|kv| kv.get(1))
                        .and_then(|p| p.parse::<u16>().ok());
                    flag.is_some_and(|f| f == "slave")
                        && port.is_some_and(|p| p != master && self.host_of(p).is_some())
                })
                .count();
            if healthy != others {
                return Ok(Some(format!(
                    "sentinel {} sees {healthy} healthy replicas",
                    host.sentinel_port
                )));
            }
        }
        let ports = self.redis_ports();
        if !one_master_followed(&ports) {
            let states: Vec<String> = ports
                .iter()
                .map(|&p| format!("{p}: {:?}", crate::redis_io::replication(p).ok()))
                .collect();
            return Ok(Some(format!(
                "the servers are not one master ({master}) and its linked replicas: {}",
                states.join(", ")
            )));
        }
        Ok(None)
    }

    fn start_redis(&mut self, h: usize, upstream: Option<u16>) -> Result<()> {
        let port = self.hosts[h].redis_port.to_string();
        let mut command = Command::new("redis-server");
        command.args(["--port", &port, "--bind", "127.0.0.1"]);
        if let Some(upstream) = upstream {
            command.args(["--replicaof", "127.0.0.1", &upstream.to_string()]);
        }
        // The same flags as the Strand nodes' launcher.
        command
            .args(["--save", "", "--appendonly", "no"])
            .args(["--repl-diskless-sync-delay", "0", "--loglevel", "warning"])
            .args(["--logfile", &format!("redis-{port}.log")])
            .process_group(0);
        let child = self.spawn(command, &format!("redis-{port}"))?;
        self.hosts[h].redis = Some(child);
        wait_answers(self.hosts[h].redis_port)
    }

    fn write_sentinel_config(&self, h: usize, master: u16) -> Result<()> {
        let port = self.hosts[h].sentinel_port;
        let config = format!(
            "port {port}\n\
             bind 127.0.0.1\n\
             daemonize no\n\
             dir {dir}\n\
             logfile sentinel-{port}.log\n\
             sentinel monitor {MASTER_NAME} 127.0.0.1 {master} 2\n\
             sentinel down-after-milliseconds {MASTER_NAME} {down}\n\
             sentinel failover-timeout {MASTER_NAME} 10000\n\
             sentinel parallel-syncs {MASTER_NAME} 1\n",
            dir = self.dir.display(),
            down = self.down_after.as_millis(),
        );
        std::fs::write(self.config_path(h), config)?;
        Ok(())
    }

    fn config_path(&self, h: usize) -> PathBuf {
        self.dir
            .join(format!("sentinel-{}.conf", self.hosts[h].sentinel_port))
    }

    fn start_sentinel(&mut self, h: usize) -> Result<()> {
        let mut command = Command::new("redis-sentinel");
        command.arg(self.config_path(h));
        // In its host's process group, with its redis-server (when that
        // runs; a host whose server is down gets a group of its own).
        match &self.hosts[h].redis {
            Some(redis) => command.process_group(i32::try_from(redis.id())?),
            None => command.process_group(0),
        };
        let name = format!("sentinel-{}", self.hosts[h].sentinel_port);
        let child = self.spawn(command, &name)?;
        self.hosts[h].sentinel = Some(child);
        wait_answers(self.hosts[h].sentinel_port)
    }

    fn spawn(&self, mut command: Command, log: &str) -> Result<Child> {
        let out = File::create(self.dir.join(format!("{log}.out")))?;
        command
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out);
        command
            .spawn()
            .with_context(|| format!("starting {log} (is Debian's redis-sentinel installed?)"))
    }
}

impl Drop for SentinelSet {
    fn drop(&mut self) {
        for h in 0..self.hosts.len() {
            self.kill_host(h);
        }
    }
}

/// The flags a sentinel gives the master (`master` when all is well).
fn master_flags(sentinel: u16) -> Result<String> {
    let state: Vec<String> = sentinel_call(sentinel, |con| {
        Ok(redis::cmd("SENTINEL")
            .arg("MASTER")
            .arg(MASTER_NAME)
            .query(con)?)
    })?;
    state
        .chunks(2)
        .find(|kv| kv[0] == "flags")
        .and_then(|kv| kv.get(1).cloned())
        .with_context(|| format!("sentinel {sentinel}: no flags for the master"))
}

/// What a sentinel says the master's address is.
fn master_addr(sentinel: u16) -> Result<u16> {
    let addr: Vec<String> = sentinel_call(sentinel, |con| {
        Ok(redis::cmd("SENTINEL")
            .arg("GET-MASTER-ADDR-BY-NAME")
            .arg(MASTER_NAME)
            .query(con)?)
    })?;
    addr.get(1)
        .and_then(|p| p.parse().ok())
        .with_context(|| format!("sentinel {sentinel}: no master address in {addr:?}"))
}

fn sentinel_call<T>(
    port: u16,
    call: impl FnOnce(&mut redis::Connection) -> Result<T>,
) -> Result<T> {
    let mut con = crate::redis_io::connect(port)?;
    call(&mut con).with_context(|| format!("sentinel on port {port}"))
}

/// Waits until the server on `port` answers `PING`.
fn wait_answers(port: u16) -> Result<()> {
    let ends = Instant::now() + Duration::from_secs(10);
    loop {
        let pong = crate::redis_io::connect(port)
            .and_then(|mut con| Ok(redis::cmd("PING").query::<String>(&mut con)?));
        if pong.is_ok() {
            return Ok(());
        }
        if Instant::now() > ends {
            bail!("the server on port {port} does not answer");
        }
        std::thread::sleep(CALL_TIMEOUT / 10);
    }
}
