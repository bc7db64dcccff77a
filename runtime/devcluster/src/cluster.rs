//! [`Cluster`]: a Strand cluster on one machine — its ZooKeeper (private or
//! given), the cluster and its instances registered, one plugin registry
//! shared by in-process participants, an admin client, and a routing table
//! (`strand-spectator`) whose change notifications every wait is on.
//! `strand bench` sets one up with [`Setup`]; the integration tests with
//! [`Cluster::new`] and its variants (the cluster `E2E`, instances
//! `localhost_12000…`, the Rust plugins).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use strand_admin::{Admin, RebalanceMode, RecordEdit};
use strand_controller::{Controller, ControllerHandle};
use strand_model::{ExternalView, PropertyPaths, ZNRecord};
use strand_participant::{Participant, ParticipantConfig};
use strand_plugin_host::PluginRegistry;
use strand_spectator::{ProviderConfig, RoutingSnapshot, RoutingTableProvider};
use strand_zk::ZkConfig;

use crate::plugins::{compiled_cache_dir, names, plugin_path};
use crate::registry::registry;
use crate::routes::wait_routes;
pub use crate::server::Server;
use crate::zookeeper::{LocalEnsemble, LocalZk};

/// The test cluster's name.
pub const CLUSTER: &str = "E2E";
/// How long a wait for a view may take on a loaded machine.
pub const DEADLINE: Duration = Duration::from_secs(90);
/// The session timeout of the test cluster's clients: short, so that
/// session-expiry tests are quick.
const TEST_SESSION_TIMEOUT: Duration = Duration::from_secs(4);
/// How long to wait before reading a view again after a failed read.
const RETRY_READ: Duration = Duration::from_millis(100);

/// An external view as partition → instance → state.
pub type View = BTreeMap<String, BTreeMap<String, String>>;

/// What a [`Cluster`] is made of.
#[derive(Debug, Clone)]
pub struct Setup {
    /// The cluster's name; it must not exist yet (unless `recreate`).
    pub name: String,
    /// Drop the cluster first when it exists (on a given ZooKeeper).
    pub recreate: bool,
    /// Instances added to the cluster.
    pub instances: Vec<String>,
    /// `(state model, component file)`: installed in the shared registry.
    pub models: Vec<(String, PathBuf)>,
    /// Where compiled components are cached.
    pub cache_dir: PathBuf,
    /// Customized-state types the routing table follows besides the
    /// external view.
    pub customized_views: Vec<String>,
}

/// A cluster with its instances registered and its state models installed.
pub struct Cluster {
    /// The ZooKeeper server(s); fault tests stop and restart them.
    pub server: Server,
    /// Admin client of the cluster.
    pub admin: Admin,
    /// The registry every participant of this cluster runs plugins from.
    pub registry: Arc<PluginRegistry>,
    /// The cluster's ZooKeeper paths.
    pub paths: PropertyPaths,
    /// The cluster's name.
    pub name: String,
    /// The cluster's routing table, followed from its own session.
    pub routes: RoutingTableProvider,
    /// How the cluster's clients reach ZooKeeper.
    zk: ZkConfig,
}

impl Cluster {
    /// Sets up `setup` on `server`, whose clients connect with `zk` (its
    /// connect string, session timeout, credentials): adds the cluster and
    /// its instances, installs the state models, starts the routing table.
    ///
    /// # Errors
    /// The cluster exists already, ZooKeeper cannot be reached, or a
    /// component does not load.
    pub async fn start(server: Server, zk: ZkConfig, setup: Setup) -> Result<Self> {
        let connect = server.connect_string();
        let admin = Admin::connect_with(zk.clone())
            .await
            .with_context(|| format!("connecting to ZooKeeper at {connect}"))?;
        if admin.is_cluster_setup(&setup.name).await? {
            if !setup.recreate {
                bail!(
                    "cluster {} already exists on {connect}; drop it or choose another name",
                    setup.name
                );
            }
            admin.drop_cluster(&setup.name).await?;
        }
        admin.add_cluster(&setup.name).await?;
        for instance in &setup.instances {
            admin.add_instance(&setup.name, instance).await?;
        }
        let models: Vec<(&str, &std::path::Path)> = setup
            .models
            .iter()
            .map(|(model, file)| (model.as_str(), file.as_path()))
            .collect();
        let registry = registry(setup.cache_dir.clone(), &models)?;
        let mut sources = ProviderConfig::new(zk.clone(), &setup.name);
        for state_type in &setup.customized_views {
            sources = sources.with_customized(state_type)?;
        }
        let routes = RoutingTableProvider::start(sources)
            .await
            .context("starting the routing table")?;
        Ok(Self {
            server,
            admin,
            registry,
            paths: PropertyPaths::new(&setup.name),
            name: setup.name,
            routes,
            zk,
        })
    }

    /// The test cluster: `instances` instances; MasterSlave, OnlineOffline
    /// and LeaderStandby served by the Rust plugins.
    pub async fn new(instances: usize) -> Self {
        Self::with_master_slave(instances, names::MASTER_SLAVE).await
    }

    /// As [`Cluster::new`], with the MasterSlave model served by
    /// `master_slave` (a plugin name from `strand_devcluster::plugins::names`,
    /// e.g. the Python or JavaScript one).
    pub async fn with_master_slave(instances: usize, master_slave: &str) -> Self {
        let server = Server::Single(LocalZk::start().expect("zookeeper"));
        Self::test_cluster(server, instances, master_slave).await
    }

    /// As [`Cluster::new`], on a three-node ZooKeeper ensemble.
    pub async fn on_ensemble(instances: usize) -> Self {
        let server = Server::Ensemble(LocalEnsemble::start(3).expect("zookeeper ensemble"));
        Self::test_cluster(server, instances, names::MASTER_SLAVE).await
    }

    async fn test_cluster(server: Server, instances: usize, master_slave: &str) -> Self {
        let models = [
            ("MasterSlave", master_slave),
            ("OnlineOffline", names::ONLINE_OFFLINE),
            ("LeaderStandby", names::LEADER_STANDBY),
        ]
        .map(|(model, plugin)| (model.to_owned(), plugin_path(plugin).expect("plugin built")))
        .to_vec();
        let setup = Setup {
            name: CLUSTER.to_owned(),
            recreate: false,
            instances: (0..instances).map(instance).collect(),
            models,
            // The persistent cache: a Python or JavaScript component
            // compiles once per machine, not once per test.
            cache_dir: compiled_cache_dir(),
            customized_views: Vec::new(),
        };
        let zk = ZkConfig::new(server.connect_string()).with_session_timeout(TEST_SESSION_TIMEOUT);
        Self::start(server, zk, setup)
            .await
            .unwrap_or_else(|e| panic!("setting up the test cluster: {e:#}"))
    }

    /// Client settings for the cluster's processes.
    pub fn zk(&self) -> ZkConfig {
        self.zk.clone()
    }

    /// Starts participant `i` (named [`instance`]) on the shared registry.
    pub async fn participant(&self, i: usize) -> Participant {
        self.start_participant(&instance(i))
            .await
            .unwrap_or_else(|e| panic!("participant starts: {e:#}"))
    }

    /// Starts a participant of `instance` on the shared registry.
    ///
    /// # Errors
    /// It could not join the cluster.
    pub async fn start_participant(&self, instance: &str) -> Result<Participant> {
        Participant::start(
            ParticipantConfig::new(self.zk(), &self.name, instance),
            Arc::clone(&self.registry),
        )
        .await
        .with_context(|| format!("starting participant {instance}"))
    }

    /// Adds `resource`: `partitions` × 3 MasterSlave in `mode`, rebalanced.
    pub async fn add_master_slave(&self, resource: &str, partitions: u32, mode: RebalanceMode) {
        self.add_master_slave_replicas(resource, partitions, 3, mode)
            .await;
    }

    /// Adds `resource`: `partitions` × `replicas` MasterSlave in `mode`,
    /// rebalanced.
    pub async fn add_master_slave_replicas(
        &self,
        resource: &str,
        partitions: u32,
        replicas: u32,
        mode: RebalanceMode,
    ) {
        self.admin
            .add_resource(&self.name, resource, partitions, "MasterSlave", mode)
            .await
            .expect("resource");
        self.admin
            .rebalance(&self.name, resource, replicas)
            .await
            .expect("rebalance");
    }

    /// Sets a simple field of the cluster config.
    pub async fn set_cluster_field(&self, key: &str, value: &str) {
        let mut edit = ZNRecord::new(&self.name);
        edit.set_simple(key, value);
        self.admin
            .edit_cluster_config(&self.name, RecordEdit::Update, &edit)
            .await
            .expect("cluster config");
    }

    /// Starts a controller called `name`.
    pub async fn controller(&self, name: &str) -> ControllerHandle {
        Controller::start(self.zk(), &self.name, name)
            .await
            .expect("controller starts")
    }

    /// The external view of `resource` (empty if there is none yet).
    pub async fn view(&self, resource: &str) -> View {
        self.read_view(resource).await.expect("read")
    }

    async fn read_view(&self, resource: &str) -> Result<View> {
        let read = self
            .admin
            .accessor()
            .get(&self.paths.external_view(resource))
            .await?;
        Ok(read
            .map(|v| {
                let view = ExternalView::from(v.value);
                view.partitions()
                    .map(|p| {
                        let map = view
                            .state_map(p)
                            .map(|m| m.clone().into_iter().collect())
                            .unwrap_or_default();
                        (p.to_owned(), map)
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Waits until `done` holds of `resource`'s external view, reading it
    /// again on each of the routing table's change notifications (the
    /// table follows every view write); panics with the last view after
    /// [`DEADLINE`].
    pub async fn wait_view(&self, resource: &str, what: &str, done: impl Fn(&View) -> bool) {
        let deadline = tokio::time::Instant::now() + DEADLINE;
        let mut changes = self.routes.subscribe();
        loop {
            changes.borrow_and_update();
            let last = match self.read_view(resource).await {
                Ok(view) if done(&view) => return,
                Ok(view) => Some(view),
                Err(_) => None,
            };
            let heard = match last {
                Some(_) => tokio::time::timeout_at(deadline, changes.changed())
                    .await
                    .map(|news| news.is_ok()),
                // A fault test may have stopped ZooKeeper: read again soon
                // (the routing table may have nothing new to say when the
                // server is back).
                None => {
                    let retry = tokio::time::Instant::now() + RETRY_READ;
                    tokio::time::sleep_until(retry.min(deadline)).await;
                    Ok(true)
                }
            };
            match heard {
                Ok(true) if tokio::time::Instant::now() < deadline => {}
                Ok(false) => panic!("the routing table stopped while waiting for {what}: {last:?}"),
                _ => panic!("timed out waiting for {what}: {last:?}"),
            }
        }
    }

    /// Waits on the routing table's notifications until `done` holds of
    /// a snapshot; how long that took.
    ///
    /// # Errors
    /// `what` was not seen within `timeout`.
    pub async fn wait_routes(
        &self,
        what: &str,
        timeout: Duration,
        done: impl Fn(&RoutingSnapshot) -> bool,
    ) -> Result<Duration> {
        wait_routes(&self.routes, what, timeout, done).await
    }
}

/// The name of test instance `i`.
pub fn instance(i: usize) -> String {
    format!("localhost_{}", 12000 + i)
}

/// How many replicas in `map` are in `state`.
pub fn count(map: &BTreeMap<String, String>, state: &str) -> usize {
    map.values().filter(|s| *s == state).count()
}
