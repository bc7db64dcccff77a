//! Cluster-wide plugin deployment end to end: a real controller and three
//! participants that have no local plugin files — they take MasterSlave
//! from the cluster (`ClusterPlugins`) — on a private ZooKeeper, with the
//! real `master-slave` (0.1.0) and `master-slave-next` (0.2.0) plugins.
//!
//! Which version served a transition is read from the replica's current
//! state: the plugins' note, `MasterSlave <version>: FROM->TO`, is its INFO.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use strand_admin::{Admin, RebalanceMode};
use strand_controller::{Controller, ControllerHandle};
use strand_devcluster::plugins::{names, plugin_path};
use strand_devcluster::zookeeper::LocalZk;
use strand_model::{CurrentState, LiveInstance, PropertyPaths};
use strand_participant::{ClusterPlugins, ClusterPluginsConfig, Participant, ParticipantConfig};
use strand_plugin_host::{HostConfig, HostInspector, PluginHost, PluginRegistry};
use strand_plugin_store::{DeployOptions, PluginRecord, PluginStore, StorePaths, artefact};
use strand_zk::ZkConfig;

const CLUSTER: &str = "DEPLOY";
const RESOURCE: &str = "db";
const DEADLINE: Duration = Duration::from_secs(90);

struct Cluster {
    server: LocalZk,
    admin: Admin,
    store: PluginStore,
    paths: PropertyPaths,
    _cache: tempfile::TempDir,
    cache_dir: std::path::PathBuf,
}

/// One participant process: its own plugin registry, following the cluster.
struct Node {
    participant: Participant,
    plugins: ClusterPlugins,
    registry: Arc<PluginRegistry>,
}

impl Cluster {
    async fn new() -> Self {
        let server = LocalZk::start().expect("zookeeper");
        let admin = Admin::connect(&server.connect_string())
            .await
            .expect("admin");
        admin.add_cluster(CLUSTER).await.expect("cluster");
        for i in 0..3 {
            admin
                .add_instance(CLUSTER, &instance(i))
                .await
                .expect("instance");
        }
        admin
            .add_resource(CLUSTER, RESOURCE, 6, "MasterSlave", RebalanceMode::SemiAuto)
            .await
            .expect("resource");
        admin
            .rebalance(CLUSTER, RESOURCE, 3)
            .await
            .expect("rebalance");
        let cache = tempfile::tempdir().expect("cache");
        let store = PluginStore::new(admin.zk().clone(), CLUSTER)
            .with_inspector(HostInspector::lazy(HostConfig::default()));
        Self {
            server,
            store,
            admin,
            paths: PropertyPaths::new(CLUSTER),
            cache_dir: cache.path().to_path_buf(),
            _cache: cache,
        }
    }

    fn zk(&self) -> ZkConfig {
        ZkConfig::new(self.server.connect_string()).with_session_timeout(Duration::from_secs(4))
    }

    async fn deploy(&self, plugin: &str) -> strand_plugin_store::Deployment {
        let bytes = std::fs::read(plugin_path(plugin).expect("plugin built")).expect("read");
        self.store
            .deploy(&bytes, &DeployOptions::default())
            .await
            .expect("deploy")
    }

    /// A participant with no local plugins: everything comes from the cluster.
    async fn node(&self, i: usize) -> Node {
        let host = PluginHost::new(HostConfig {
            cache_dir: Some(self.cache_dir.join(instance(i))),
            ..HostConfig::default()
        })
        .expect("host");
        let registry = PluginRegistry::new(host);
        let plugins = ClusterPlugins::start(
            ClusterPluginsConfig {
                zk: self.zk(),
                cluster: CLUSTER.into(),
                instances: vec![instance(i)],
            },
            Arc::clone(&registry),
        )
        .await
        .expect("cluster plugins");
        let mut config = ParticipantConfig::new(self.zk(), CLUSTER, instance(i));
        config.plugin_updates = Some(plugins.updates());
        let participant = Participant::start(config, Arc::clone(&registry))
            .await
            .expect("participant starts");
        Node {
            participant,
            plugins,
            registry,
        }
    }

    async fn controller(&self) -> ControllerHandle {
        Controller::start(self.zk(), CLUSTER, "ctrl-0")
            .await
            .expect("controller starts")
    }

    /// `partition -> (state, INFO)` of `instance`'s live session.
    async fn replicas(&self, i: usize) -> BTreeMap<String, (String, String)> {
        let acc = self.admin.accessor();
        let Some(live) = acc
            .get(&self.paths.live_instance(&instance(i)))
            .await
            .expect("read")
        else {
            return BTreeMap::new();
        };
        let Some(session) = LiveInstance::from(live.value).session_id() else {
            return BTreeMap::new();
        };
        let Some(found) = acc
            .get(&self.paths.current_state(&instance(i), session, RESOURCE))
            .await
            .expect("read")
        else {
            return BTreeMap::new();
        };
        let state = CurrentState::from(found.value);
        state
            .partition_states()
            .map(|(p, s)| {
                (
                    p.to_owned(),
                    (s.to_owned(), state.info(p).unwrap_or_default().to_owned()),
                )
            })
            .collect()
    }

    /// Instance -> the MasterSlave version it reports running.
    async fn reported(&self) -> BTreeMap<String, Option<String>> {
        let list = self.store.list().await.expect("list");
        list.iter()
            .find(|p| p.name == "MasterSlave")
            .map(|p| {
                p.instances
                    .iter()
                    .map(|s| (s.instance.clone(), s.status.active_version.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }

    async fn converged(&self, live: &[usize]) -> bool {
        let mut masters = BTreeMap::<String, usize>::new();
        let mut slaves = BTreeMap::<String, usize>::new();
        for &i in live {
            for (p, (s, _)) in self.replicas(i).await {
                match s.as_str() {
                    "MASTER" => *masters.entry(p).or_default() += 1,
                    "SLAVE" => *slaves.entry(p).or_default() += 1,
                    _ => {}
                }
            }
        }
        masters.len() == 6
            && masters.values().all(|n| *n == 1)
            && slaves.len() == 6
            && slaves.values().all(|n| *n + 1 == live.len())
    }
}

fn instance(i: usize) -> String {
    format!("localhost_{}", 13000 + i)
}

fn served_by(info: &str, version: &str) -> bool {
    info.starts_with(&format!("MasterSlave {version}:"))
}

async fn wait_until<F, Fut>(what: &str, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while !done().await {
        assert!(start.elapsed() < DEADLINE, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn running(node: &Node) -> Option<String> {
    node.registry
        .state_model("MasterSlave")
        .map(|h| h.version().version.clone())
}

async fn stop(nodes: Vec<Node>, controller: ControllerHandle) {
    for n in nodes {
        n.participant.shutdown().await;
        n.plugins.shutdown().await;
    }
    controller.shutdown().await.expect("controller stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_deployment_reaches_every_participant_and_serves_the_next_transitions() {
    let c = Cluster::new().await;
    c.deploy(names::MASTER_SLAVE).await;
    let controller = c.controller().await;
    let mut nodes = Vec::new();
    for i in 0..3 {
        nodes.push(c.node(i).await);
    }
    wait_until("convergence on 0.1.0", || c.converged(&[0, 1, 2])).await;
    for i in 0..3 {
        assert!(
            c.replicas(i)
                .await
                .values()
                .all(|(_, info)| served_by(info, "0.1.0")),
            "{}: {:?}",
            instance(i),
            c.replicas(i).await
        );
    }

    // Deploy 0.2.0: every participant swaps and says so.
    let v2 = c.deploy(names::MASTER_SLAVE_NEXT).await;
    assert_eq!(v2.version, "0.2.0");
    wait_until("every instance to report 0.2.0", || async {
        let r = c.reported().await;
        r.len() == 3 && r.values().all(|v| v.as_deref() == Some("0.2.0"))
    })
    .await;
    for n in &nodes {
        assert_eq!(running(n).as_deref(), Some("0.2.0"));
    }

    // The next transitions run on 0.2.0: disable instance 0, its masters move.
    c.admin
        .set_instance_enabled(CLUSTER, &instance(0), false, None)
        .await
        .expect("disable");
    wait_until("instance 0 offline and its masters moved", || async {
        let gone = c.replicas(0).await;
        gone.len() == 6 && gone.values().all(|(s, _)| s == "OFFLINE") && c.converged(&[1, 2]).await
    })
    .await;
    for (p, (_, info)) in c.replicas(0).await {
        assert!(served_by(&info, "0.2.0"), "{p} went OFFLINE on {info}");
    }
    let mut promoted = Vec::new();
    for i in [1, 2] {
        promoted.extend(c.replicas(i).await.into_values().map(|(_, info)| info));
    }
    assert!(
        promoted
            .iter()
            .any(|info| info == "MasterSlave 0.2.0: SLAVE->MASTER"),
        "a survivor was promoted by 0.2.0: {promoted:?}"
    );

    // Roll back: 0.1.0 serves again, for the transitions that follow.
    let back = c
        .store
        .rollback("MasterSlave", None)
        .await
        .expect("rollback");
    assert_eq!(back.version, "0.1.0");
    wait_until("every instance to report 0.1.0", || async {
        c.reported()
            .await
            .values()
            .all(|v| v.as_deref() == Some("0.1.0"))
    })
    .await;
    c.admin
        .set_instance_enabled(CLUSTER, &instance(0), true, None)
        .await
        .expect("enable");
    wait_until("instance 0 back", || c.converged(&[0, 1, 2])).await;
    for (p, (state, info)) in c.replicas(0).await {
        assert!(served_by(&info, "0.1.0"), "{p} became {state} on {info}");
    }
    stop(nodes, controller).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_participant_that_was_down_takes_the_active_version_when_it_joins() {
    let c = Cluster::new().await;
    c.deploy(names::MASTER_SLAVE).await;
    let controller = c.controller().await;
    let mut nodes = vec![c.node(0).await, c.node(1).await];
    wait_until("two participants converge", || c.converged(&[0, 1])).await;

    c.deploy(names::MASTER_SLAVE_NEXT).await;
    wait_until("the running instances report 0.2.0", || async {
        let r = c.reported().await;
        [0, 1]
            .iter()
            .all(|i| r.get(&instance(*i)).cloned().flatten().as_deref() == Some("0.2.0"))
    })
    .await;
    assert!(
        !c.reported().await.contains_key(&instance(2)),
        "instance 2 was down"
    );

    // It joins: the first pass installs 0.2.0 before it serves anything.
    let late = c.node(2).await;
    assert_eq!(running(&late).as_deref(), Some("0.2.0"));
    nodes.push(late);
    wait_until("three participants converge", || c.converged(&[0, 1, 2])).await;
    let replicas = c.replicas(2).await;
    assert_eq!(replicas.len(), 6);
    for (p, (state, info)) in replicas {
        assert!(served_by(&info, "0.2.0"), "{p} became {state} on {info}");
    }
    assert_eq!(
        c.reported()
            .await
            .get(&instance(2))
            .cloned()
            .flatten()
            .as_deref(),
        Some("0.2.0")
    );
    stop(nodes, controller).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_corrupt_artefact_leaves_participants_on_their_version_and_says_why() {
    let c = Cluster::new().await;
    let v1 = c.deploy(names::MASTER_SLAVE).await;
    let controller = c.controller().await;
    let mut nodes = Vec::new();
    for i in 0..3 {
        nodes.push(c.node(i).await);
    }
    wait_until("convergence on 0.1.0", || c.converged(&[0, 1, 2])).await;
    wait_until("every instance to report 0.1.0", || async {
        let r = c.reported().await;
        r.len() == 3 && r.values().all(|v| v.as_deref() == Some("0.1.0"))
    })
    .await;

    // 0.2.0's artefact stored with a damaged byte, and the plugin record
    // pointed at it by a writer that skipped the store's checks.
    let good = std::fs::read(plugin_path(names::MASTER_SLAVE_NEXT).expect("built")).expect("read");
    let sha = strand_plugin_store::sha256_hex(&good);
    let mut bad = good.clone();
    bad[good.len() / 2] ^= 0xff;
    let zk = c.admin.zk();
    let store_paths = StorePaths::new(CLUSTER);
    artefact::write(zk, &store_paths, &sha, &bad, artefact::DEFAULT_CHUNK_SIZE)
        .await
        .expect("write damaged artefact");
    let path = store_paths.plugin("MasterSlave");
    c.admin
        .accessor()
        .update(&path, false, |current| {
            let mut record =
                PluginRecord::from_znrecord(&current.expect("record")).expect("parses");
            let mut entry = record.active_entry().expect("active").clone();
            entry.version = "0.2.0".into();
            entry.sha256 = sha.clone();
            record.activate_new(entry);
            strand_zk::Update::Write(record.to_znrecord())
        })
        .await
        .expect("point the record at it");

    wait_until("every instance to report the error", || async {
        let list = c.store.list().await.expect("list");
        let ms = list
            .iter()
            .find(|p| p.name == "MasterSlave")
            .expect("listed");
        ms.instances.len() == 3
            && ms.instances.iter().all(|s| {
                s.status.error_version.as_deref() == Some("0.2.0")
                    && s.status.active_version.as_deref() == Some("0.1.0")
            })
    })
    .await;
    let list = c.store.list().await.expect("list");
    let why = list[0].instances[0]
        .status
        .last_error
        .clone()
        .unwrap_or_default();
    assert!(why.contains("corrupt") && why.contains(&sha), "{why}");
    for n in &nodes {
        assert_eq!(running(n).as_deref(), Some("0.1.0"));
        assert_eq!(
            n.registry
                .state_model("MasterSlave")
                .expect("serving")
                .version()
                .digest,
            v1.sha256
        );
    }

    // Still serving on 0.1.0: the next transitions run on it.
    c.admin
        .set_instance_enabled(CLUSTER, &instance(0), false, None)
        .await
        .expect("disable");
    wait_until("instance 0 offline", || async {
        let gone = c.replicas(0).await;
        gone.values().all(|(s, _)| s == "OFFLINE") && c.converged(&[1, 2]).await
    })
    .await;
    for (p, (_, info)) in c.replicas(0).await {
        assert!(served_by(&info, "0.1.0"), "{p}: {info}");
    }

    // Deploying the real 0.2.0 repairs the artefact; participants take it.
    c.deploy(names::MASTER_SLAVE_NEXT).await;
    wait_until("every instance to report 0.2.0 without error", || async {
        let list = c.store.list().await.expect("list");
        list[0].instances.iter().all(|s| {
            s.status.active_version.as_deref() == Some("0.2.0") && s.status.last_error.is_none()
        })
    })
    .await;
    stop(nodes, controller).await;
}
