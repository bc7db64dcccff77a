//! The benchmark's cluster: ZooKeeper (private or given), the cluster and
//! its instances, in-process participants sharing one plugin registry, a
//! routing table (`strand-spectator`) whose change notifications every
//! wait is on, and the ZooKeeper request counts of the participants'
//! sessions. The ZooKeeper, the registry and the waits are
//! `strand-devcluster`'s, as the quickstart's and the tests' are.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use strand_admin::{Admin, RebalanceMode};
use strand_devcluster::Server;
use strand_devcluster::routes::{MASTER, master_slave_converged, wait_routes};
use strand_model::{IdealState, PropertyPaths};
use strand_participant::{Participant, ParticipantConfig};
use strand_plugin_host::{PluginRegistry, default_cache_dir};
use strand_spectator::{ProviderConfig, RoutingSnapshot, RoutingTableProvider};
use strand_zk::{RequestCounts, Update, ZkConfig};
use tokio::sync::Mutex;

use super::BenchArgs;

/// Partitions per resource in the big steps: keeps each external view far
/// below ZooKeeper's 1 MiB znode limit.
pub(super) const BIG_RESOURCE_PARTITIONS: u32 = 1000;

pub(super) struct BenchCluster {
    pub cluster: String,
    server: Server,
    connect: String,
    admin: Admin,
    registry: Arc<PluginRegistry>,
    participants: Mutex<Vec<(String, Option<Participant>)>>,
    /// Requests of participant sessions that have ended (stopped ones).
    retired: Mutex<RequestCounts>,
    routes: RoutingTableProvider,
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
        let connect = server.connect_string();
        let admin = Admin::connect(&connect).await?;
        if admin.is_cluster_setup(&args.cluster).await? {
            bail!(
                "cluster {} already exists on {connect}; drop it or pass --cluster",
                args.cluster
            );
        }
        admin.add_cluster(&args.cluster).await?;
        let registry = strand_devcluster::registry::registry(
            default_cache_dir(),
            &[("MasterSlave", master_slave.as_path())],
        )?;
        let routes = RoutingTableProvider::start(ProviderConfig::new(
            ZkConfig::new(connect.clone()),
            &args.cluster,
        ))
        .await
        .context("starting the routing table")?;
        let bench = Self {
            cluster: args.cluster.clone(),
            server,
            connect,
            admin,
            registry,
            participants: Mutex::new(Vec::new()),
            retired: Mutex::new(RequestCounts::default()),
            routes,
        };
        super::progress(&format!("starting {} participants", args.participants));
        for i in 0..args.participants {
            let name = format!("bench_{}", 12000 + i);
            bench.admin.add_instance(&bench.cluster, &name).await?;
            let participant = bench.participant(&name).await?;
            bench
                .participants
                .lock()
                .await
                .push((name, Some(participant)));
        }
        Ok(bench)
    }

    pub fn zk_config(&self) -> ZkConfig {
        ZkConfig::new(self.connect.clone())
    }

    pub fn connect_string(&self) -> &str {
        &self.connect
    }

    pub fn private_zookeeper(&self) -> bool {
        self.server.is_private()
    }

    async fn participant(&self, name: &str) -> Result<Participant> {
        let config = ParticipantConfig::new(self.zk_config(), &self.cluster, name);
        Participant::start(config, Arc::clone(&self.registry))
            .await
            .with_context(|| format!("starting participant {name}"))
    }

    /// ZooKeeper requests sent so far by every participant session.
    pub async fn participant_requests(&self) -> RequestCounts {
        let mut total = *self.retired.lock().await;
        for (_, participant) in self.participants.lock().await.iter() {
            if let Some(participant) = participant {
                total = total + participant.zk().requests();
            }
        }
        total
    }

    /// A SEMI_AUTO MasterSlave resource with 3 replicas, placed.
    pub async fn add_resource(&self, name: &str, partitions: u32) -> Result<()> {
        self.admin
            .add_resource(
                &self.cluster,
                name,
                partitions,
                "MasterSlave",
                RebalanceMode::SemiAuto,
            )
            .await?;
        self.admin.rebalance(&self.cluster, name, 3).await?;
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
        let path = PropertyPaths::new(&self.cluster).external_view(resource);
        Ok(self.admin.zk().exists(&path).await?.map(|s| s.version))
    }

    async fn ideal(&self, resource: &str) -> Result<IdealState> {
        Ok(self.admin.ideal_state(&self.cluster, resource).await?)
    }

    /// Waits on the routing table's notifications until `done` holds.
    async fn wait_routes(
        &self,
        what: &str,
        timeout: Duration,
        done: impl Fn(&RoutingSnapshot) -> bool,
    ) -> Result<()> {
        wait_routes(&self.routes, what, timeout, done)
            .await
            .map(drop)
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
        self.admin
            .accessor()
            .update(
                &PropertyPaths::new(&self.cluster).ideal_state(resource),
                false,
                |current| {
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
                },
            )
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
        let (name, participant) = {
            let mut all = self.participants.lock().await;
            let (name, slot) = all.first_mut().context("no participants")?;
            (
                name.clone(),
                slot.take().context("participant already stopped")?,
            )
        };
        let requests = participant.zk().requests();
        let started = Instant::now();
        participant.shutdown().await;
        {
            let mut retired = self.retired.lock().await;
            *retired = *retired + requests;
        }
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
        let mut edit = strand_model::ZNRecord::new(&self.cluster);
        edit.set_simple(key, value.unwrap_or_default());
        let how = if value.is_some() {
            strand_admin::RecordEdit::Update
        } else {
            strand_admin::RecordEdit::Delete
        };
        self.admin
            .edit_cluster_config(&self.cluster, how, &edit)
            .await?;
        Ok(())
    }

    /// Restarts participant `index` through the graceful path `strand
    /// participant` takes on SIGTERM: with `drain`, it first hands its top
    /// states over (at most that long), then stops, then a new session of
    /// the same instance starts. Returns its name.
    pub async fn restart_one(&self, index: usize, drain: Option<Duration>) -> Result<String> {
        let (name, participant) = {
            let mut all = self.participants.lock().await;
            let (name, slot) = all.get_mut(index).context("no such participant")?;
            (
                name.clone(),
                slot.take().context("participant already stopped")?,
            )
        };
        if let Some(timeout) = drain {
            participant.drain(timeout, std::future::pending()).await;
        }
        let requests = participant.zk().requests();
        participant.shutdown().await;
        {
            let mut retired = self.retired.lock().await;
            *retired = *retired + requests;
        }
        self.restart(&name).await?;
        Ok(name)
    }

    pub async fn restart(&self, name: &str) -> Result<()> {
        let participant = self.participant(name).await?;
        let mut all = self.participants.lock().await;
        if let Some((_, slot)) = all.iter_mut().find(|(n, _)| n == name) {
            *slot = Some(participant);
        }
        Ok(())
    }

    /// Stops the participants (and the private ZooKeeper, when dropped).
    pub async fn stop(self) {
        let all = std::mem::take(&mut *self.participants.lock().await);
        for (_, participant) in all {
            if let Some(participant) = participant {
                participant.shutdown().await;
            }
        }
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
