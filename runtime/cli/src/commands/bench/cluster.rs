//! The benchmark's cluster: ZooKeeper (private or given), the cluster and
//! its instances, in-process participants sharing one plugin registry,
//! and the external-view checks the steps wait on.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use strand_admin::{Admin, RebalanceMode};
use strand_model::{ExternalView, IdealState, PropertyPaths};
use strand_participant::{Participant, ParticipantConfig};
use strand_plugin_host::PluginRegistry;
use strand_zk::server::LocalZk;
use strand_zk::{Update, ZkConfig};
use tokio::sync::Mutex;

use super::BenchArgs;

/// Partitions per resource in the big step: keeps each external view far
/// below ZooKeeper's 1 MiB znode limit.
const BIG_RESOURCE_PARTITIONS: u32 = 1000;

/// How often views are polled.
const POLL: Duration = Duration::from_millis(5);

pub(super) struct BenchCluster {
    pub cluster: String,
    server: Option<LocalZk>,
    connect: String,
    admin: Admin,
    registry: Arc<PluginRegistry>,
    participants: Mutex<Vec<(String, Option<Participant>)>>,
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
        let server = match zk {
            Some(_) => None,
            None => {
                super::progress("starting a private ZooKeeper");
                Some(LocalZk::start().context("starting a private ZooKeeper")?)
            }
        };
        let connect = match (zk, &server) {
            (Some(given), _) => given.to_owned(),
            (None, Some(server)) => server.connect_string(),
            (None, None) => bail!("no ZooKeeper"),
        };
        let admin = Admin::connect(&connect).await?;
        if admin.is_cluster_setup(&args.cluster).await? {
            bail!(
                "cluster {} already exists on {connect}; drop it or pass --cluster",
                args.cluster
            );
        }
        admin.add_cluster(&args.cluster).await?;
        let registry = super::super::quickstart::registry(&master_slave)?;
        let bench = Self {
            cluster: args.cluster.clone(),
            server,
            connect,
            admin,
            registry,
            participants: Mutex::new(Vec::new()),
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

    pub fn private_zookeeper(&self) -> bool {
        self.server.is_some()
    }

    async fn participant(&self, name: &str) -> Result<Participant> {
        let config = ParticipantConfig::new(self.zk_config(), &self.cluster, name);
        Participant::start(config, Arc::clone(&self.registry))
            .await
            .with_context(|| format!("starting participant {name}"))
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

    /// Adds `partitions` in resources of at most 1,000; their names.
    pub async fn add_big(&self, partitions: u32) -> Result<Vec<String>> {
        let mut names = Vec::new();
        let mut left = partitions;
        while left > 0 {
            let size = left.min(BIG_RESOURCE_PARTITIONS);
            let name = format!("big_{}", names.len());
            self.add_resource(&name, size).await?;
            names.push(name);
            left -= size;
        }
        Ok(names)
    }

    async fn view(&self, resource: &str) -> Result<Option<ExternalView>> {
        Ok(self
            .admin
            .accessor()
            .get(&PropertyPaths::new(&self.cluster).external_view(resource))
            .await?
            .map(|v| ExternalView::from(v.value)))
    }

    async fn ideal(&self, resource: &str) -> Result<IdealState> {
        Ok(self.admin.ideal_state(&self.cluster, resource).await?)
    }

    /// Polls `resource`'s external view until `done` holds.
    async fn wait_view(
        &self,
        resource: &str,
        what: &str,
        timeout: Duration,
        done: impl Fn(&ExternalView) -> bool,
    ) -> Result<()> {
        let start = Instant::now();
        loop {
            if let Some(view) = self.view(resource).await?
                && done(&view)
            {
                return Ok(());
            }
            if start.elapsed() > timeout {
                bail!("{resource}: {what} not reached within {timeout:?}");
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Every partition has one MASTER and two SLAVEs.
    pub async fn wait_converged(
        &self,
        resource: &str,
        partitions: u32,
        timeout: Duration,
    ) -> Result<()> {
        self.wait_view(resource, "convergence", timeout, |v| {
            converged(v, partitions)
        })
        .await
    }

    pub async fn all_converged(&self, resources: &[String]) -> Result<bool> {
        for resource in resources {
            let partitions = self.ideal(resource).await?.partitions().len();
            let done = self
                .view(resource)
                .await?
                .is_some_and(|v| converged(&v, u32::try_from(partitions).unwrap_or(u32::MAX)));
            if !done {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Every partition converged with its preferred instance as MASTER.
    pub async fn wait_masters_preferred(
        &self,
        resource: &str,
        partitions: u32,
        timeout: Duration,
    ) -> Result<()> {
        let ideal = self.ideal(resource).await?;
        self.wait_view(resource, "masters on preferred instances", timeout, |v| {
            converged(v, partitions)
                && v.partitions().all(|p| {
                    let first = ideal.preference_list(p).and_then(|l| l.first());
                    first.is_some_and(|f| {
                        v.state_map(p).and_then(|m| m.get(f)).map(String::as_str) == Some("MASTER")
                    })
                })
        })
        .await
    }

    pub async fn wait_master(
        &self,
        resource: &str,
        partition: &str,
        master: &str,
        timeout: Duration,
    ) -> Result<()> {
        self.wait_view(resource, "the new master", timeout, |v| {
            v.state_map(partition)
                .and_then(|m| m.get(master))
                .map(String::as_str)
                == Some("MASTER")
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
                    let partitions: Vec<String> =
                        ideal.partitions().into_iter().map(str::to_owned).collect();
                    for p in partitions.iter().filter(|p| only.is_none_or(|o| o == *p)) {
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
    /// seconds until every partition of `resource` has a MASTER elsewhere.
    pub async fn stop_one_and_wait_failover(
        &self,
        resource: &str,
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
        let started = Instant::now();
        participant.shutdown().await;
        self.wait_view(resource, "failover", timeout, |v| {
            v.partitions().all(|p| {
                v.state_map(p).is_some_and(|m| {
                    !m.contains_key(&name) && m.values().filter(|s| *s == "MASTER").count() == 1
                })
            })
        })
        .await?;
        Ok((name, started.elapsed().as_secs_f64()))
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

/// Every one of `partitions` partitions has one MASTER and two SLAVEs.
fn converged(view: &ExternalView, partitions: u32) -> bool {
    let mut seen = 0u32;
    for p in view.partitions() {
        let Some(map) = view.state_map(p) else {
            return false;
        };
        let masters = map.values().filter(|s| *s == "MASTER").count();
        let slaves = map.values().filter(|s| *s == "SLAVE").count();
        if masters != 1 || slaves != 2 {
            return false;
        }
        seen += 1;
    }
    seen == partitions
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
