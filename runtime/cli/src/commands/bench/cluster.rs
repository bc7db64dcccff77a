//! The benchmark's cluster: a `strand-devcluster` [`Cluster`] (ZooKeeper,
//! instances, one plugin registry, the routing table every wait is on)
//! with a [`Fleet`] of in-process participants, and the workload steps
//! the bench measures — resources added, preference lists rotated, a
//! participant stopped or restarted.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use strand_admin::RebalanceMode;
use strand_devcluster::Server;
use strand_devcluster::cluster::{Cluster, Setup};
use strand_devcluster::fleet::Fleet;
use strand_devcluster::routes::{MASTER, master_slave_converged};
use strand_model::IdealState;
use strand_plugin_host::default_cache_dir;
use strand_spectator::RoutingSnapshot;
use strand_zk::{RequestCounts, Update, ZkConfig};

use super::BenchArgs;

/// Partitions per resource in the big steps: keeps each external view far
/// below ZooKeeper's 1 MiB znode limit.
pub(super) const BIG_RESOURCE_PARTITIONS: u32 = 1000;

pub(super) struct BenchCluster {
    dev: Cluster,
    fleet: Fleet,
}

impl BenchCluster {
    pub async fn start(zk: Option<&str>, args: &BenchArgs) -> Result<Self> {
        let master_slave = args.plugin_dir.join("master_slave.wasm");
        if !master_slave.is_file() {
            bail!(
                "plugin {} not found; build the plugins first (`cargo xtask quickstart` does) or pass --plugin-dir",
                master_slave.display()
            );
        }
        if zk.is_none() {
            super::progress("starting a private ZooKeeper");
        }
        let server = Server::given_or_private(zk)
            .await
            .context("starting a private ZooKeeper")?;
        let instances: Vec<String> = (0..args.participants)
            .map(|i| format!("bench_{}", 12000 + i))
            .collect();
        let setup = Setup {
            name: args.cluster.clone(),
            recreate: false,
            instances: instances.clone(),
            models: vec![("MasterSlave".to_owned(), master_slave)],
            cache_dir: default_cache_dir(),
            customized_views: Vec::new(),
        };
        let zk = ZkConfig::new(server.connect_string());
        let dev = Cluster::start(server, zk, setup).await?;
        super::progress(&format!("starting {} participants", args.participants));
        let fleet = Fleet::start(&dev, &instances).await?;
        Ok(Self { dev, fleet })
    }

    /// The cluster's name.
    pub fn cluster(&self) -> &str {
        &self.dev.name
    }

    pub fn zk_config(&self) -> ZkConfig {
        self.dev.zk()
    }

    pub fn connect_string(&self) -> String {
        self.dev.server.connect_string()
    }

    pub fn private_zookeeper(&self) -> bool {
        self.dev.server.is_private()
    }

    /// ZooKeeper requests sent so far by every participant session.
    pub async fn participant_requests(&self) -> RequestCounts {
        self.fleet.requests().await
    }

    /// A SEMI_AUTO MasterSlave resource with 3 replicas, placed.
    pub async fn add_resource(&self, name: &str, partitions: u32) -> Result<()> {
        self.dev
            .admin
            .add_resource(
                &self.dev.name,
                name,
                partitions,
                "MasterSlave",
                RebalanceMode::SemiAuto,
            )
            .await?;
        self.dev.admin.rebalance(&self.dev.name, name, 3).await?;
        Ok(())
    }

    /// Adds `partitions` in resources of at most 1,000 named
    /// `<prefix>_<n>`; their names and sizes.
    pub async fn add_resources(&self, prefix: &str, partitions: u32) -> Result<Vec<(String, u32)>> {
        let mut added = Vec::new();
        let mut left = partitions;
        while left > 0 {
            let size = left.min(BIG_RESOURCE_PARTITIONS);
            let name = format!("{prefix}_{}", added.len());
            self.add_resource(&name, size).await?;
            added.push((name, size));
            left -= size;
        }
        Ok(added)
    }

    /// The znode version of a resource's external view (how many times it
    /// was written, less one), if it exists.
    pub async fn view_version(&self, resource: &str) -> Result<Option<i32>> {
        let path = self.dev.paths.external_view(resource);
        Ok(self.dev.admin.zk().exists(&path).await?.map(|s| s.version))
    }

    async fn ideal(&self, resource: &str) -> Result<IdealState> {
        Ok(self.dev.admin.ideal_state(&self.dev.name, resource).await?)
    }

    /// Waits on the routing table's notifications until `done` holds.
    async fn wait_routes(
        &self,
        what: &str,
        timeout: Duration,
        done: impl Fn(&RoutingSnapshot) -> bool,
    ) -> Result<()> {
        self.dev.wait_routes(what, timeout, done).await.map(drop)
    }

    /// Every partition of every resource has one MASTER and two SLAVEs.
    pub async fn wait_converged(
        &self,
        resources: &[(String, u32)],
        timeout: Duration,
    ) -> Result<()> {
        self.wait_routes("convergence", timeout, |snap| {
            resources.iter().all(|(r, n)| converged(snap, r, *n))
        })
        .await
    }

    /// Every partition converged with its preferred instance as MASTER.
    pub async fn wait_masters_preferred(
        &self,
        resource: &str,
        partitions: u32,
        timeout: Duration,
    ) -> Result<()> {
        let ideal = self.ideal(resource).await?;
        let preferred: BTreeMap<String, String> = ideal
            .partitions()
            .into_iter()
            .filter_map(|p| {
                let first = ideal.preference_list(p)?.first()?;
                Some((p.to_owned(), first.clone()))
            })
            .collect();
        self.wait_routes("masters on preferred instances", timeout, |snap| {
            converged(snap, resource, partitions)
                && preferred.iter().all(|(p, first)| {
                    snap.instances(resource, p, MASTER) == std::slice::from_ref(first)
                })
        })
        .await
    }

    /// Waits until `master` is the only MASTER of the partition.
    pub async fn wait_master(
        &self,
        resource: &str,
        partition: &str,
        master: &str,
        timeout: Duration,
    ) -> Result<()> {
        let want = [master.to_owned()];
        self.wait_routes("the new master", timeout, |snap| {
            snap.instances(resource, partition, MASTER) == want
        })
        .await
    }

    /// Rotates preference lists by one (all partitions, or `only`); returns
    /// the new first instance of the last partition rotated.
    pub async fn rotate_preference_lists(
        &self,
        resource: &str,
        only: Option<&str>,
    ) -> Result<String> {
        let mut first = String::new();
        self.dev
            .admin
            .accessor()
            .update(&self.dev.paths.ideal_state(resource), false, |current| {
                let Some(record) = current else {
                    return Update::Keep;
                };
                let mut ideal = IdealState::from(record);
                let partitions: Vec<String> = match only {
                    Some(p) => vec![p.to_owned()],
                    None => ideal.partitions().into_iter().map(str::to_owned).collect(),
                };
                for p in &partitions {
                    let mut list = ideal
                        .preference_list(p)
                        .map(<[String]>::to_vec)
                        .unwrap_or_default();
                    if let Some(head) = list.first().cloned() {
                        list.rotate_left(1);
                        first = list.first().cloned().unwrap_or(head);
                    }
                    ideal.set_preference_list(p, list);
                }
                Update::Write(ideal.into_record())
            })
            .await?;
        Ok(first)
    }

    /// Stops the first participant gracefully; returns its name and the
    /// seconds until every partition of `resource` has a MASTER elsewhere
    /// in the routing table.
    pub async fn stop_one_and_wait_failover(
        &self,
        resource: &str,
        partitions: u32,
        timeout: Duration,
    ) -> Result<(String, f64)> {
        let started = Instant::now();
        let name = self.fleet.stop(0, None).await?;
        self.wait_routes("failover", timeout, |snap| {
            let table = snap.external_view();
            let masters_elsewhere = table.partitions(resource).iter().all(|p| {
                let masters = snap.instances(resource, p, MASTER);
                masters.len() == 1 && masters[0] != name
            });
            table.partitions(resource).len() == partitions as usize && masters_elsewhere
        })
        .await?;
        Ok((name, started.elapsed().as_secs_f64()))
    }

    /// Sets (or with `None` removes) a simple field of the cluster config.
    pub async fn set_cluster_config(&self, key: &str, value: Option<&str>) -> Result<()> {
        let mut edit = strand_model::ZNRecord::new(&self.dev.name);
        edit.set_simple(key, value.unwrap_or_default());
        let how = if value.is_some() {
            strand_admin::RecordEdit::Update
        } else {
            strand_admin::RecordEdit::Delete
        };
        self.dev
            .admin
            .edit_cluster_config(&self.dev.name, how, &edit)
            .await?;
        Ok(())
    }

    /// Restarts participant `index` through the graceful path `strand
    /// participant` takes on SIGTERM: with `drain`, it first hands its top
    /// states over (at most that long), then stops, then a new session of
    /// the same instance starts. Returns its name.
    /// The name of participant `index`.
    pub async fn participant_name(&self, index: usize) -> Option<String> {
        self.fleet.name(index).await
    }

    pub async fn restart_one(&self, index: usize, drain: Option<Duration>) -> Result<String> {
        let name = self.fleet.stop(index, drain).await?;
        self.restart(&name).await?;
        Ok(name)
    }

    pub async fn restart(&self, name: &str) -> Result<()> {
        self.fleet.restart(&self.dev, name).await
    }

    /// Stops the participants (and the private ZooKeeper, when dropped).
    pub async fn stop(self) {
        self.fleet.stop_all().await;
    }
}

/// Every one of `partitions` partitions of `resource` has one MASTER and
/// two SLAVEs in the routing table.
fn converged(snap: &RoutingSnapshot, resource: &str, partitions: u32) -> bool {
    master_slave_converged(snap, resource, partitions, 3)
}

/// The `q` quantile of sorted samples (0 when there are none).
pub(super) fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let last = sorted.len() - 1;
    let index = ((last as f64) * q).round() as usize;
    sorted[index.min(last)]
}
