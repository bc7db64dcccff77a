//! Strand end to end: a real controller driving real participants whose
//! state models are the Rust plugins from `plugins/`, on a private
//! ZooKeeper. A watcher on every current state asserts that no MasterSlave
//! partition ever has two MASTERs while participants fail, rejoin and
//! controllers fail over.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use strand_admin::{Admin, RebalanceMode};
use strand_controller::{Controller, ControllerHandle};
use strand_model::{CurrentState, ExternalView, PropertyPaths, ZNRecord};
use strand_participant::{Participant, ParticipantConfig};
use strand_plugin_host::{HostConfig, PluginHost, PluginOptions, PluginRegistry};
use strand_testkit::plugins::{names, plugin_path};
use strand_zk::server::LocalZk;
use strand_zk::{TreeCache, Zk, ZkConfig};

const CLUSTER: &str = "E2E";
const DEADLINE: Duration = Duration::from_secs(90);

struct Cluster {
    server: LocalZk,
    admin: Admin,
    registry: Arc<PluginRegistry>,
    paths: PropertyPaths,
    _cache: tempfile::TempDir,
}

impl Cluster {
    async fn new(instances: usize) -> Self {
        let server = LocalZk::start().expect("zookeeper");
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
        let cache = tempfile::tempdir().expect("cache");
        let host = PluginHost::new(HostConfig {
            cache_dir: Some(cache.path().to_path_buf()),
            ..HostConfig::default()
        })
        .expect("host");
        let registry = PluginRegistry::new(host);
        for (model, plugin) in [
            ("MasterSlave", names::MASTER_SLAVE),
            ("OnlineOffline", names::ONLINE_OFFLINE),
            ("LeaderStandby", names::LEADER_STANDBY),
        ] {
            registry
                .install_file(
                    model,
                    &plugin_path(plugin).expect("plugin built"),
                    PluginOptions::default(),
                )
                .expect("install");
        }
        Self {
            server,
            admin,
            registry,
            paths: PropertyPaths::new(CLUSTER),
            _cache: cache,
        }
    }

    fn zk(&self) -> ZkConfig {
        ZkConfig::new(self.server.connect_string()).with_session_timeout(Duration::from_secs(4))
    }

    async fn participant(&self, i: usize) -> Participant {
        Participant::start(
            ParticipantConfig::new(self.zk(), CLUSTER, instance(i)),
            Arc::clone(&self.registry),
        )
        .await
        .expect("participant starts")
    }

    async fn controller(&self, name: &str) -> ControllerHandle {
        Controller::start(self.zk(), CLUSTER, name)
            .await
            .expect("controller starts")
    }

    async fn view(&self, resource: &str) -> BTreeMap<String, BTreeMap<String, String>> {
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

    /// Polls the external view until `done` holds.
    async fn wait_view(
        &self,
        resource: &str,
        what: &str,
        done: impl Fn(&BTreeMap<String, BTreeMap<String, String>>) -> bool,
    ) {
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

fn instance(i: usize) -> String {
    format!("localhost_{}", 12000 + i)
}

fn count(map: &BTreeMap<String, String>, state: &str) -> usize {
    map.values().filter(|s| *s == state).count()
}

/// Watches every current state of the cluster and counts, per partition,
/// the live sessions' replicas in MASTER; remembers the highest count seen.
struct MasterWatch {
    max_masters: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl MasterWatch {
    async fn start(zk: Zk) -> Self {
        let paths = PropertyPaths::new(CLUSTER);
        let cache = TreeCache::start(zk, &paths.cluster()).await.expect("cache");
        let max_masters = Arc::new(AtomicUsize::new(0));
        let max = Arc::clone(&max_masters);
        let task = tokio::spawn(async move {
            let mut generation = cache.generation();
            loop {
                let mut masters: BTreeMap<(String, String), usize> = BTreeMap::new();
                for live in cache.children(&paths.live_instances()) {
                    let Some(session) = cache
                        .get(&paths.live_instance(&live))
                        .and_then(|n| n.ephemeral_owner())
                    else {
                        continue;
                    };
                    let root = paths.current_states(&live, &session);
                    for (resource, record) in cache.child_records(&root) {
                        let state = CurrentState::from(ZNRecord::clone(&record));
                        for (partition, value) in state.partition_states() {
                            if value == "MASTER" {
                                *masters
                                    .entry((resource.clone(), partition.to_owned()))
                                    .or_default() += 1;
                            }
                        }
                    }
                }
                let worst = masters.values().copied().max().unwrap_or(0);
                max.fetch_max(worst, Ordering::SeqCst);
                if generation.changed().await.is_err() {
                    return;
                }
            }
        });
        Self { max_masters, task }
    }

    fn max(&self) -> usize {
        self.max_masters.load(Ordering::SeqCst)
    }
}

impl Drop for MasterWatch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn master_slave_converges_fails_over_and_hands_back_with_never_two_masters() {
    let c = Cluster::new(3).await;
    c.admin
        .add_resource(CLUSTER, "DB", 6, "MasterSlave", RebalanceMode::SemiAuto)
        .await
        .expect("resource");
    c.admin
        .rebalance(CLUSTER, "DB", 3)
        .await
        .expect("rebalance");
    let watch = MasterWatch::start(c.admin.zk().clone()).await;
    let controller = c.controller("ctrl-0").await;
    let mut participants: Vec<Option<Participant>> = Vec::new();
    for i in 0..3 {
        participants.push(Some(c.participant(i).await));
    }
    let ideal = c.admin.ideal_state(CLUSTER, "DB").await.expect("ideal");
    let preferred: BTreeMap<String, String> = ideal
        .partitions()
        .into_iter()
        .map(|p| {
            (
                p.to_owned(),
                ideal.preference_list(p).expect("list")[0].clone(),
            )
        })
        .collect();
    let settled = |view: &BTreeMap<String, BTreeMap<String, String>>| {
        view.len() == 6
            && view.iter().all(|(p, m)| {
                count(m, "SLAVE") == 2 && m.get(&preferred[p]).map(String::as_str) == Some("MASTER")
            })
    };
    c.wait_view(
        "DB",
        "convergence with masters on the preferred instances",
        settled,
    )
    .await;

    // A graceful stop: its masters move to the survivors.
    let gone = instance(0);
    if let Some(p) = participants[0].take() {
        p.shutdown().await;
    }
    c.wait_view("DB", "failover", |view| {
        view.values()
            .all(|m| !m.contains_key(&gone) && count(m, "MASTER") == 1 && count(m, "SLAVE") == 1)
    })
    .await;

    // It comes back: SEMI_AUTO hands its masters back.
    participants[0] = Some(c.participant(0).await);
    c.wait_view("DB", "hand-back", settled).await;
    assert_eq!(watch.max(), 1, "a partition had two MASTERs at some point");

    for p in participants.into_iter().flatten() {
        p.shutdown().await;
    }
    controller.shutdown().await.expect("controller stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn full_auto_online_offline_and_customized_leader_standby() {
    let c = Cluster::new(3).await;
    c.admin
        .add_resource(CLUSTER, "OO", 6, "OnlineOffline", RebalanceMode::FullAuto)
        .await
        .expect("resource");
    c.admin
        .rebalance(CLUSTER, "OO", 2)
        .await
        .expect("rebalance");
    c.admin
        .add_resource(CLUSTER, "LS", 2, "LeaderStandby", RebalanceMode::Customized)
        .await
        .expect("resource");
    // CUSTOMIZED: the ideal state's maps are the assignment.
    c.admin
        .accessor()
        .update(&c.paths.ideal_state("LS"), false, |current| {
            let mut record = current.expect("ideal state");
            for (p, leader) in [("LS_0", 0), ("LS_1", 1)] {
                let map = record.map_mut(p);
                for i in 0..3 {
                    map.insert(
                        instance(i),
                        if i == leader { "LEADER" } else { "STANDBY" }.to_owned(),
                    );
                }
            }
            strand_zk::Update::Write(record)
        })
        .await
        .expect("customized map");
    let controller = c.controller("ctrl-0").await;
    let mut participants = Vec::new();
    for i in 0..3 {
        participants.push(c.participant(i).await);
    }
    c.wait_view("OO", "FULL_AUTO placement", |view| {
        let mut load: BTreeMap<String, usize> = BTreeMap::new();
        for m in view.values() {
            for (i, s) in m {
                if s == "ONLINE" {
                    *load.entry(i.clone()).or_default() += 1;
                }
            }
        }
        view.len() == 6
            && view.values().all(|m| count(m, "ONLINE") == 2)
            && load.values().all(|&n| n == 4)
    })
    .await;
    c.wait_view("LS", "the customized assignment", |view| {
        view.get("LS_0")
            .and_then(|m| m.get(&instance(0)))
            .map(String::as_str)
            == Some("LEADER")
            && view
                .get("LS_1")
                .and_then(|m| m.get(&instance(1)))
                .map(String::as_str)
                == Some("LEADER")
            && view.values().all(|m| count(m, "STANDBY") == 2)
    })
    .await;
    for p in participants {
        p.shutdown().await;
    }
    controller.shutdown().await.expect("controller stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_standby_controller_takes_over_and_keeps_the_cluster_converged() {
    let c = Cluster::new(2).await;
    c.admin
        .add_resource(CLUSTER, "DB", 4, "MasterSlave", RebalanceMode::SemiAuto)
        .await
        .expect("resource");
    c.admin
        .rebalance(CLUSTER, "DB", 2)
        .await
        .expect("rebalance");
    let leader = c.controller("ctrl-a").await;
    leader.wait_leader(DEADLINE).await.expect("leads");
    let standby = c.controller("ctrl-b").await;
    let mut participants = vec![c.participant(0).await, c.participant(1).await];
    c.wait_view("DB", "convergence", |view| {
        view.len() == 4
            && view
                .values()
                .all(|m| count(m, "MASTER") == 1 && count(m, "SLAVE") == 1)
    })
    .await;

    // The leader goes away; the standby leads, and drives a failover.
    leader.shutdown().await.expect("leader stops");
    standby.wait_leader(DEADLINE).await.expect("standby leads");
    let gone = participants.remove(0);
    let gone_name = gone.instance().to_owned();
    gone.shutdown().await;
    c.wait_view("DB", "failover under the new leader", |view| {
        view.values()
            .all(|m| !m.contains_key(&gone_name) && count(m, "MASTER") == 1)
    })
    .await;
    for p in participants {
        p.shutdown().await;
    }
    standby.shutdown().await.expect("standby stops");
}
