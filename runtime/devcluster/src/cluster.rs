//! The cluster under test: a private ZooKeeper, an admin client, one plugin
//! registry shared by in-process participants, and polling of external
//! views with a generous deadline (never a wall-clock assertion).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use strand_admin::Admin;
use strand_controller::{Controller, ControllerHandle};
use strand_model::{ExternalView, PropertyPaths};
use strand_participant::{Participant, ParticipantConfig};
use strand_plugin_host::PluginRegistry;
use strand_zk::ZkConfig;

use crate::plugins::{compiled_cache_dir, names, plugin_path};
use crate::registry::registry;
pub use crate::server::Server;
use crate::zookeeper::{LocalEnsemble, LocalZk};

/// The cluster's name.
pub const CLUSTER: &str = "E2E";
/// How long a wait for a view may take on a loaded machine.
pub const DEADLINE: Duration = Duration::from_secs(90);

/// An external view as partition → instance → state.
pub type View = BTreeMap<String, BTreeMap<String, String>>;

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
}

impl Cluster {
    /// `instances` instances; MasterSlave, OnlineOffline and LeaderStandby
    /// served by the Rust plugins.
    pub async fn new(instances: usize) -> Self {
        Self::with_master_slave(instances, names::MASTER_SLAVE).await
    }

    /// As [`Cluster::new`], with the MasterSlave model served by
    /// `master_slave` (a plugin name from `strand_devcluster::plugins::names`,
    /// e.g. the Python or JavaScript one).
    pub async fn with_master_slave(instances: usize, master_slave: &str) -> Self {
        let server = Server::Single(LocalZk::start().expect("zookeeper"));
        Self::on(server, instances, master_slave).await
    }

    /// As [`Cluster::new`], on a three-node ZooKeeper ensemble.
    pub async fn on_ensemble(instances: usize) -> Self {
        let server = Server::Ensemble(LocalEnsemble::start(3).expect("zookeeper ensemble"));
        Self::on(server, instances, names::MASTER_SLAVE).await
    }

    async fn on(server: Server, instances: usize, master_slave: &str) -> Self {
        let admin = Admin::connect(&server.connect_string())
            .await
            .expect("admin");
        admin.add_cluster(CLUSTER).await.expect("cluster");
        for i in 0..instances {
            admin
                .add_instance(CLUSTER, &instance(i))
                .await
                .expect("instance");
        }
        let models = [
            ("MasterSlave", master_slave),
            ("OnlineOffline", names::ONLINE_OFFLINE),
            ("LeaderStandby", names::LEADER_STANDBY),
        ]
        .map(|(model, plugin)| (model, plugin_path(plugin).expect("plugin built")));
        let models: Vec<(&str, &std::path::Path)> =
            models.iter().map(|(m, p)| (*m, p.as_path())).collect();
        // The persistent cache: a Python or JavaScript component compiles
        // once per machine, not once per test.
        let registry = registry(compiled_cache_dir(), &models)
            .unwrap_or_else(|e| panic!("installing the state models: {e:#}"));
        Self {
            server,
            admin,
            registry,
            paths: PropertyPaths::new(CLUSTER),
        }
    }

    /// Client settings for the cluster's processes.
    pub fn zk(&self) -> ZkConfig {
        ZkConfig::new(self.server.connect_string()).with_session_timeout(Duration::from_secs(4))
    }

    /// Starts participant `i` on the shared registry.
    pub async fn participant(&self, i: usize) -> Participant {
        Participant::start(
            ParticipantConfig::new(self.zk(), CLUSTER, instance(i)),
            Arc::clone(&self.registry),
        )
        .await
        .expect("participant starts")
    }

    /// Starts a controller called `name`.
    pub async fn controller(&self, name: &str) -> ControllerHandle {
        Controller::start(self.zk(), CLUSTER, name)
            .await
            .expect("controller starts")
    }

    /// The external view of `resource` (empty if there is none yet).
    pub async fn view(&self, resource: &str) -> View {
        self.admin
            .accessor()
            .get(&self.paths.external_view(resource))
            .await
            .expect("read")
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
            .unwrap_or_default()
    }

    /// Polls the external view until `done` holds; panics with the last
    /// view after [`DEADLINE`].
    pub async fn wait_view(&self, resource: &str, what: &str, done: impl Fn(&View) -> bool) {
        let start = Instant::now();
        loop {
            if done(&self.view(resource).await) {
                return;
            }
            assert!(
                start.elapsed() < DEADLINE,
                "timed out waiting for {what}: {:?}",
                self.view(resource).await
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// The name of instance `i`.
pub fn instance(i: usize) -> String {
    format!("localhost_{}", 12000 + i)
}

/// How many replicas in `map` are in `state`.
pub fn count(map: &BTreeMap<String, String>, state: &str) -> usize {
    map.values().filter(|s| *s == state).count()
}
