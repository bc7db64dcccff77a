//! The whole example run: a [`StrandCluster`] of three nodes; then, with
//! the writer and the watcher running, four planned and unplanned events,
//! each followed by the node's return:
//!
//! 1. a graceful stop of a node (SIGTERM: it hands its MASTERs over first);
//! 2. kill -9 of a redis-server that is a MASTER (its node leaves at once);
//! 3. kill -9 of a whole node (participant and redis-servers: the
//!    controller acts when the session expires);
//! 4. kill -9 of a participant alone (its launcher stops the node's
//!    redis-servers when it sees the participant gone, so no unseen master
//!    is left behind; the controller acts when the session expires).
//!
//! After each, every write acknowledged during the event must be readable
//! from the partition's MASTER; the report says how many were not (only
//! the crashes may lose writes that had not reached a replica yet).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use serde::Serialize;

use crate::cluster::{ClusterOptions, STEP_TIMEOUT, StrandCluster};
use crate::watcher::{Watched, Watcher};
use crate::writer::{Writer, Written};

/// The session timeout of the run's controller and participants.
const SESSION_TIMEOUT: Duration = Duration::from_secs(4);
/// How long the writer keeps writing after a step settled, before its
/// writes are checked.
const SETTLE: Duration = Duration::from_millis(500);

/// What a run needs.
#[derive(Debug, Clone)]
pub struct Options {
    /// The `strand` executable.
    pub strand: PathBuf,
    /// The `RedisMasterSlave` component (`redis_master_slave.wasm`).
    pub plugin: PathBuf,
    /// Partitions of the resource (3 replicas each).
    pub partitions: u32,
    /// Where the processes' logs go (a temporary directory when `None`).
    pub logs: Option<PathBuf>,
}

/// What the run does to a node.
#[derive(Debug, Clone, Copy)]
enum Event {
    /// SIGTERM: it drains, then stops.
    GracefulStop,
    /// kill -9 of a redis-server that is a MASTER.
    RedisKill,
    /// kill -9 of the participant and its redis-servers.
    NodeKill,
    /// kill -9 of the participant alone.
    ParticipantKill,
}

/// One event and the node's return.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// What happened.
    pub name: String,
    /// From the event to every partition routing to a MASTER on another
    /// node.
    pub failover_ms: u64,
    /// From the node's restart to the cluster converged again.
    pub recovery_ms: u64,
    /// What the writer did meanwhile.
    pub written: Written,
    /// Acknowledged writes not readable afterwards.
    pub lost: usize,
    /// Some of them.
    pub lost_examples: Vec<String>,
}

/// A whole run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Partitions × replicas.
    pub partitions: u32,
    /// From the controller's start to convergence.
    pub converged_ms: u64,
    /// The events, in order.
    pub events: Vec<Outcome>,
    /// What the ROLE watcher saw over the whole run.
    pub watched: Watched,
    /// Where the logs are (removed after a clean run unless `logs` was
    /// given).
    pub logs: PathBuf,
}

impl Report {
    /// Why the run broke a promise: two Redis masters at once, or a lost
    /// write in a graceful event (`None` when it kept them all).
    pub fn broken_promise(&self) -> Option<String> {
        if self.watched.max_masters > 1 {
            return Some(format!(
                "two Redis masters for one partition: {:?}",
                self.watched.violations
            ));
        }
        self.events
            .iter()
            .find(|e| e.name.starts_with("graceful") && e.lost > 0)
            .map(|e| {
                format!(
                    "{}: {} acknowledged writes lost: {:?}",
                    e.name, e.lost, e.lost_examples
                )
            })
    }
}

/// Runs the example end to end.
///
/// # Errors
/// A step did not happen within its deadline, or a process could not be
/// started; the message names the step and the log directory.
pub async fn run(options: Options) -> Result<Report> {
    let logs = match &options.logs {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            dir.clone()
        }
        None => temp_logs()?,
    };
    let result = match Run::start(&options, logs.clone()).await {
        Ok(mut run) => {
            let result = run.events().await;
            run.finish().await;
            result
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(report) if options.logs.is_none() && report.broken_promise().is_none() => {
            // A temporary log directory goes with a clean run.
            let _ = std::fs::remove_dir_all(&logs);
            Ok(report)
        }
        Ok(report) => Ok(report),
        Err(e) => Err(e.context(format!("logs in {}", logs.display()))),
    }
}

fn temp_logs() -> Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("strand-redis-failover-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// A set-up cluster with its processes.
struct Run {
    cluster: StrandCluster,
    logs: PathBuf,
}

impl Run {
    async fn start(options: &Options, logs: PathBuf) -> Result<Self> {
        let cluster = StrandCluster::start(
            &ClusterOptions {
                strand: options.strand.clone(),
                plugin: options.plugin.clone(),
                partitions: options.partitions,
                session_timeout: SESSION_TIMEOUT,
            },
            &logs,
        )
        .await?;
        Ok(Self { cluster, logs })
    }

    async fn events(&mut self) -> Result<Report> {
        let watcher = Watcher::start(&self.cluster.layout);
        let writer = Writer::start(&self.cluster.layout, Arc::clone(&self.cluster.routes));
        let result = self.each_event(&writer).await;
        writer.stop();
        let watched = watcher.stop();
        let events = result?;
        Ok(Report {
            partitions: self.cluster.layout.partitions,
            converged_ms: ms(self.cluster.converged_in),
            events,
            watched,
            logs: self.logs.clone(),
        })
    }

    async fn each_event(&mut self, writer: &Writer) -> Result<Vec<Outcome>> {
        // Writes acknowledged before the first event: a warm-up.
        tokio::time::sleep(SETTLE).await;
        let _ = writer.take();
        let mut events = Vec::new();
        for (n, event, name) in [
            (0, Event::GracefulStop, "graceful stop of a node (SIGTERM)"),
            (1, Event::RedisKill, "kill -9 of a MASTER's redis-server"),
            (
                2,
                Event::NodeKill,
                "kill -9 of a node (participant and redis-servers)",
            ),
            (0, Event::ParticipantKill, "kill -9 of a participant alone"),
        ] {
            events.push(self.event(writer, n, event, name).await?);
        }
        Ok(events)
    }

    async fn event(
        &mut self,
        writer: &Writer,
        n: usize,
        event: Event,
        name: &str,
    ) -> Result<Outcome> {
        let cluster = &mut self.cluster;
        let instance = cluster.layout.instance(n);
        let start = Instant::now();
        match event {
            Event::GracefulStop => cluster.nodes[n].stop(STEP_TIMEOUT)?,
            Event::RedisKill => {
                let Some(k) = cluster.mastered_by(&cluster.routes.load(), n) else {
                    bail!("{instance} masters no partition before: {name}");
                };
                let port = cluster.layout.redis_port(n, k);
                cluster.nodes[n].kill_redis(port)?;
            }
            Event::NodeKill => cluster.nodes[n].kill()?,
            Event::ParticipantKill => cluster.nodes[n].kill_participant()?,
        }
        let failover = cluster
            .moved_off(&instance, &format!("failover after {name}"))
            .await?;
        let failover_ms = ms(start.elapsed().max(failover));
        let recovery_ms = ms(cluster.restart(n, name).await?);
        tokio::time::sleep(SETTLE).await;
        let (written, lost_examples, lost) = writer.take();
        Ok(Outcome {
            name: name.to_owned(),
            failover_ms,
            recovery_ms,
            written,
            lost,
            lost_examples,
        })
    }

    async fn finish(self) {
        self.cluster.finish().await;
    }
}

/// Whole milliseconds of `d`.
pub(crate) fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
