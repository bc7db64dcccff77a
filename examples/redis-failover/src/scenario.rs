//! The whole example run: a private ZooKeeper, the cluster set up through
//! `strand-admin`, the plugin deployed with `strand plugin deploy
//! --request`, a `strand controller` and three nodes in their own
//! processes; then, with the writer and the watcher running, three planned
//! and unplanned events, each followed by the node's return:
//!
//! 1. a graceful stop of a node (SIGTERM: it hands its MASTERs over first);
//! 2. kill -9 of a redis-server that is a MASTER (its node leaves at once);
//! 3. kill -9 of a whole node (participant and redis-servers: the
//!    controller acts when the session expires).
//!
//! After each, every write acknowledged during the event must be readable
//! from the partition's MASTER; the report says how many were not (only
//! the crashes may lose writes that had not reached a replica yet).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde::Serialize;
use strand_admin::{Admin, RebalanceMode};
use strand_devcluster::routes::{master_slave_converged, wait_routes};
use strand_devcluster::zookeeper::LocalZk;
use strand_spectator::{ProviderConfig, RoutingSnapshot, RoutingTableProvider};
use strand_zk::ZkConfig;

use crate::layout::{Layout, MODEL, REPLICAS, RESOURCE};
use crate::node::{Node, Strand};
use crate::watcher::{Watched, Watcher};
use crate::writer::{Writer, Written};

/// The cluster's name.
pub const CLUSTER: &str = "REDIS_FAILOVER";
/// How long any one step may take.
const STEP_TIMEOUT: Duration = Duration::from_secs(90);
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

/// One event and the node's return.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
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
    pub events: Vec<Event>,
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
    _zk: LocalZk,
    strand: Strand,
    layout: Layout,
    controller: std::process::Child,
    nodes: Vec<Node>,
    routes: Arc<RoutingTableProvider>,
    converged_ms: u64,
    logs: PathBuf,
}

impl Run {
    async fn start(options: &Options, logs: PathBuf) -> Result<Self> {
        let layout = Layout::find(options.partitions)?;
        let zk = LocalZk::start().context("starting ZooKeeper")?;
        let strand = Strand {
            bin: options.strand.clone(),
            zk: zk.connect_string(),
            cluster: CLUSTER.to_owned(),
            logs: logs.clone(),
        };
        let admin = Admin::connect(&strand.zk).await?;
        admin.add_cluster(CLUSTER).await?;
        for n in 0..REPLICAS {
            admin
                .add_instance(CLUSTER, &format!("127.0.0.1:{}", layout.helix_ports[n]))
                .await?;
        }
        let plugin = options.plugin.to_string_lossy().into_owned();
        let request = layout.tcp_rule();
        strand.run(
            "deploy",
            &[
                "plugin",
                "deploy",
                "--cluster",
                CLUSTER,
                &plugin,
                "--request",
                &request,
            ],
        )?;
        admin
            .add_resource(
                CLUSTER,
                RESOURCE,
                options.partitions,
                MODEL,
                RebalanceMode::SemiAuto,
            )
            .await?;
        admin
            .rebalance(CLUSTER, RESOURCE, u32::try_from(REPLICAS)?)
            .await?;
        let routes = Arc::new(
            RoutingTableProvider::start(ProviderConfig::new(ZkConfig::new(&strand.zk), CLUSTER))
                .await?,
        );
        let started = Instant::now();
        let controller = strand
            .command(
                "controller",
                &["controller", "--cluster", CLUSTER, "--session-timeout", "4"],
            )?
            .spawn()
            .context("starting the controller")?;
        let mut nodes: Vec<Node> = (0..REPLICAS).map(|n| Node::new(&layout, n)).collect();
        for node in &mut nodes {
            node.start(&strand)?;
        }
        let mut run = Self {
            _zk: zk,
            strand,
            layout,
            controller,
            nodes,
            routes,
            converged_ms: 0,
            logs,
        };
        run.converged("the first convergence").await?;
        run.converged_ms = ms(started.elapsed());
        Ok(run)
    }

    async fn converged(&self, what: &str) -> Result<Duration> {
        let partitions = self.layout.partitions;
        wait_routes(&self.routes, what, STEP_TIMEOUT, |s| {
            master_slave_converged(s, RESOURCE, partitions, REPLICAS)
        })
        .await
    }

    /// Waits until no partition routes to a MASTER on `instance` and every
    /// one routes to a MASTER.
    async fn moved_off(&self, instance: &str, what: &str) -> Result<Duration> {
        let partitions = self.layout.partitions;
        let instance = instance.to_owned();
        wait_routes(&self.routes, what, STEP_TIMEOUT, move |s| {
            (0..partitions).all(|k| {
                let masters = s.instances(RESOURCE, &Layout::partition(k), "MASTER");
                masters.len() == 1 && masters[0] != instance
            })
        })
        .await
    }

    /// A partition whose MASTER is on node `n`.
    fn mastered_by(&self, snapshot: &RoutingSnapshot, n: usize) -> Option<u32> {
        let instance = self.layout.instance(n);
        (0..self.layout.partitions).find(|&k| {
            snapshot
                .instances(RESOURCE, &Layout::partition(k), "MASTER")
                .first()
                .is_some_and(|m| *m == instance)
        })
    }

    async fn events(&mut self) -> Result<Report> {
        let watcher = Watcher::start(&self.layout);
        let writer = Writer::start(&self.layout, Arc::clone(&self.routes));
        let result = self.each_event(&writer).await;
        writer.stop();
        let watched = watcher.stop();
        let events = result?;
        Ok(Report {
            partitions: self.layout.partitions,
            converged_ms: self.converged_ms,
            events,
            watched,
            logs: self.logs.clone(),
        })
    }

    async fn each_event(&mut self, writer: &Writer) -> Result<Vec<Event>> {
        // Writes acknowledged before the first event: a warm-up.
        tokio::time::sleep(SETTLE).await;
        let _ = writer.take();
        let mut events = Vec::new();
        for (n, name) in [
            (0, "graceful stop of a node (SIGTERM)"),
            (1, "kill -9 of a MASTER's redis-server"),
            (2, "kill -9 of a node (participant and redis-servers)"),
        ] {
            events.push(self.event(writer, n, name).await?);
        }
        Ok(events)
    }

    async fn event(&mut self, writer: &Writer, n: usize, name: &str) -> Result<Event> {
        let instance = self.layout.instance(n);
        let start = Instant::now();
        match n {
            0 => self.nodes[n].stop(STEP_TIMEOUT)?,
            1 => {
                let Some(k) = self.mastered_by(&self.routes.load(), n) else {
                    bail!("{instance} masters no partition before: {name}");
                };
                let port = self.layout.redis_port(n, k);
                self.nodes[n].kill_redis(port)?;
            }
            _ => self.nodes[n].kill()?,
        }
        let failover = self
            .moved_off(&instance, &format!("failover after {name}"))
            .await?;
        let failover_ms = ms(start.elapsed().max(failover));
        self.nodes[n].wait_exit(STEP_TIMEOUT)?;
        let restarted = Instant::now();
        self.nodes[n].start(&self.strand)?;
        self.converged(&format!("convergence after {name}")).await?;
        let recovery_ms = ms(restarted.elapsed());
        tokio::time::sleep(SETTLE).await;
        let (written, lost_examples, lost) = writer.take();
        Ok(Event {
            name: name.to_owned(),
            failover_ms,
            recovery_ms,
            written,
            lost,
            lost_examples,
        })
    }

    async fn finish(mut self) {
        for node in &mut self.nodes {
            let _ = node.stop(Duration::from_secs(30));
        }
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.controller.id().to_string()])
            .status();
        let _ = self.controller.wait();
    }
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
