//! The Strand side of the example, set up and running: a private
//! ZooKeeper, the cluster created through `strand-admin`, the plugin
//! deployed with `strand plugin deploy --request`, a `strand controller`
//! and three [`Node`]s in their own processes, and a routing table to
//! follow it. Shared by the [`scenario`](crate::scenario) and the Sentinel
//! comparison ([`bench`](crate::bench)).

use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use strand_admin::{Admin, RebalanceMode};
use strand_devcluster::routes::{master_slave_converged, wait_routes};
use strand_devcluster::zookeeper::LocalZk;
use strand_spectator::{ProviderConfig, RoutingSnapshot, RoutingTableProvider};
use strand_zk::ZkConfig;

use crate::layout::{Layout, MODEL, REPLICAS, RESOURCE};
use crate::node::{Node, Strand};

/// The cluster's name.
pub const CLUSTER: &str = "REDIS_FAILOVER";
/// How long any one step may take.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(90);

/// What a Strand cluster of the example is made of.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// The `strand` executable.
    pub strand: PathBuf,
    /// The `RedisMasterSlave` component (`redis_master_slave.wasm`).
    pub plugin: PathBuf,
    /// Partitions of the resource (3 replicas each).
    pub partitions: u32,
    /// The ZooKeeper session timeout of the controller and participants.
    pub session_timeout: Duration,
}

/// A running Strand cluster of three nodes.
pub struct StrandCluster {
    _zk: LocalZk,
    /// How its processes are started.
    pub strand: Strand,
    /// Where everything listens.
    pub layout: Layout,
    controller: Child,
    admin: Admin,
    /// Its nodes, by index.
    pub nodes: Vec<Node>,
    /// The routing table, read through the spectator library.
    pub routes: Arc<RoutingTableProvider>,
    /// From the controller's start to the first convergence.
    pub converged_in: Duration,
}

impl StrandCluster {
    /// Sets the cluster up, starts the controller and every node, and waits
    /// for the first convergence.
    ///
    /// # Errors
    /// A process could not be started, or a step did not happen within
    /// [`STEP_TIMEOUT`].
    pub async fn start(options: &ClusterOptions, logs: &Path) -> Result<Self> {
        let layout = Layout::find(options.partitions)?;
        let zk = LocalZk::start().context("starting ZooKeeper")?;
        let strand = Strand {
            bin: options.strand.clone(),
            zk: zk.connect_string(),
            cluster: CLUSTER.to_owned(),
            logs: logs.to_path_buf(),
            session_timeout: options.session_timeout,
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
        let timeout = strand.session_timeout_arg();
        let controller = strand
            .command(
                "controller",
                &[
                    "controller",
                    "--cluster",
                    CLUSTER,
                    "--session-timeout",
                    &timeout,
                ],
            )?
            .spawn()
            .context("starting the controller")?;
        let mut nodes: Vec<Node> = (0..REPLICAS).map(|n| Node::new(&layout, n)).collect();
        for node in &mut nodes {
            node.start(&strand)?;
        }
        let mut cluster = Self {
            _zk: zk,
            strand,
            layout,
            controller,
            admin,
            nodes,
            routes,
            converged_in: Duration::ZERO,
        };
        cluster.handed_back("the first convergence").await?;
        cluster.converged_in = started.elapsed();
        Ok(cluster)
    }

    /// Waits until no partition routes to a MASTER on `instance` and every
    /// one routes to a MASTER.
    ///
    /// # Errors
    /// Not within [`STEP_TIMEOUT`].
    pub async fn moved_off(&self, instance: &str, what: &str) -> Result<Duration> {
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

    /// A partition whose MASTER is on node `n`, in `snapshot`.
    pub fn mastered_by(&self, snapshot: &RoutingSnapshot, n: usize) -> Option<u32> {
        let instance = self.layout.instance(n);
        (0..self.layout.partitions).find(|&k| {
            snapshot
                .instances(RESOURCE, &Layout::partition(k), "MASTER")
                .first()
                .is_some_and(|m| *m == instance)
        })
    }

    /// The node holding partition `k`'s MASTER now, if one does.
    pub fn master_of(&self, k: u32) -> Option<usize> {
        let snapshot = self.routes.load();
        let masters = snapshot.instances(RESOURCE, &Layout::partition(k), "MASTER");
        let master = masters.first()?;
        (0..REPLICAS).find(|&n| self.layout.instance(n) == *master)
    }

    /// Starts node `n` again after it stopped, and waits until every
    /// MASTER is back on its preferred node ([`Self::handed_back`]).
    ///
    /// # Errors
    /// It still runs, cannot be started, or the cluster does not converge.
    pub async fn restart(&mut self, n: usize, what: &str) -> Result<Duration> {
        self.nodes[n].wait_exit(STEP_TIMEOUT)?;
        let restarted = Instant::now();
        self.nodes[n].start(&self.strand)?;
        self.handed_back(&format!("convergence after {what}"))
            .await?;
        Ok(restarted.elapsed())
    }

    /// Waits until every partition's MASTER is the first instance of its
    /// preference list (every node runs): SEMI_AUTO has handed every
    /// MASTER back, and no handoff is on its way. Convergence alone is
    /// also true just before a hand-back.
    ///
    /// # Errors
    /// The IdealState cannot be read, or not within [`STEP_TIMEOUT`].
    pub async fn handed_back(&self, what: &str) -> Result<Duration> {
        let ideal = self.admin.ideal_state(CLUSTER, RESOURCE).await?;
        let preferred: Vec<String> = (0..self.layout.partitions)
            .map(|k| {
                ideal
                    .preference_list(&Layout::partition(k))
                    .and_then(|list| list.first().cloned())
                    .with_context(|| format!("partition {k} has no preference list"))
            })
            .collect::<Result<_>>()?;
        let partitions = self.layout.partitions;
        wait_routes(&self.routes, what, STEP_TIMEOUT, move |s| {
            master_slave_converged(s, RESOURCE, partitions, REPLICAS)
                && (0..partitions).all(|k| {
                    s.instances(RESOURCE, &Layout::partition(k), "MASTER")
                        .first()
                        .is_some_and(|m| **m == preferred[k as usize])
                })
        })
        .await
    }

    /// Stops every node (gracefully) and the controller.
    pub async fn finish(mut self) {
        for node in &mut self.nodes {
            let _ = node.stop(Duration::from_secs(30));
        }
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.controller.id().to_string()])
            .status();
        let _ = self.controller.wait();
    }
}
