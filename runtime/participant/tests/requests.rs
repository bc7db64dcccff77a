//! ZooKeeper requests per transition, measured with the participant
//! session's own counters (`Zk::requests`): transitions one at a time
//! (steady state), then a burst of one resource's partitions at once.
//! Prints one JSON line per phase and checks the bound the README states:
//! at most 3 write requests and 1 read (the new message itself) per
//! transition, fewer in a burst.
//!
//! `cargo test -p strand-participant --test requests -- --nocapture`

use std::time::{Duration, Instant};

use strand_admin::Admin;
use strand_devcluster::plugins::{names, plugin_path};
use strand_devcluster::zookeeper::LocalZk;
use strand_model::time::now_ms;
use strand_model::{CurrentState, Message, PropertyPaths, SessionId, StateTransitionSpec};
use strand_participant::{Participant, ParticipantConfig};
use strand_plugin_host::{HostConfig, PluginHost, PluginOptions, PluginRegistry};
use strand_zk::{CreateKind, RequestCounts, ZkConfig};

const CLUSTER: &str = "REQ";
const INSTANCE: &str = "localhost_12001";
const DEADLINE: Duration = Duration::from_secs(90);
/// Transitions per phase.
const N: usize = 40;

struct Bench {
    _server: LocalZk,
    admin: Admin,
    paths: PropertyPaths,
    participant: Participant,
    next_id: std::cell::Cell<u64>,
}

impl Bench {
    async fn new() -> Self {
        let server = LocalZk::start().expect("zookeeper");
        let admin = Admin::connect(&server.connect_string())
            .await
            .expect("admin");
        admin.add_cluster(CLUSTER).await.expect("cluster");
        admin
            .add_instance(CLUSTER, INSTANCE)
            .await
            .expect("instance");
        let host = PluginHost::new(HostConfig {
            cache_dir: Some(tempfile::tempdir().expect("tempdir").keep()),
            ..HostConfig::default()
        })
        .expect("host");
        let registry = PluginRegistry::new(host);
        let plugin = plugin_path(names::MASTER_SLAVE).expect("plugin built");
        registry
            .install_file("MasterSlave", &plugin, PluginOptions::default())
            .expect("install");
        let zk =
            ZkConfig::new(server.connect_string()).with_session_timeout(Duration::from_secs(30));
        let participant =
            Participant::start(ParticipantConfig::new(zk, CLUSTER, INSTANCE), registry)
                .await
                .expect("participant");
        Self {
            _server: server,
            admin,
            paths: PropertyPaths::new(CLUSTER),
            participant,
            next_id: std::cell::Cell::new(0),
        }
    }

    async fn send(&self, resource: &str, partition: &str, from: &str, to: &str) {
        let (path, bytes) = self.message(resource, partition, from, to);
        self.admin
            .zk()
            .create(&path, &bytes, CreateKind::Persistent)
            .await
            .expect("message written");
    }

    /// Writes many messages in one multi-op, as a controller does.
    async fn send_all(&self, messages: &[(&str, &str, &str, &str)]) {
        let zk = self.admin.zk();
        let mut multi = zk.multi();
        for (resource, partition, from, to) in messages {
            let (path, bytes) = self.message(resource, partition, from, to);
            multi.create(path, bytes, CreateKind::Persistent);
        }
        multi.commit().await.expect("messages written");
    }

    fn message(&self, resource: &str, partition: &str, from: &str, to: &str) -> (String, Vec<u8>) {
        self.next_id.set(self.next_id.get() + 1);
        let id = format!("00000000-0000-0000-0000-{:012}", self.next_id.get());
        let message = Message::state_transition(&StateTransitionSpec {
            msg_id: id.clone(),
            create_timestamp: now_ms(),
            src_name: "controller0".into(),
            src_session_id: SessionId(0x1000_0000_0000_0001),
            tgt_name: INSTANCE.into(),
            tgt_session_id: self.participant.session(),
            resource: resource.into(),
            partition: partition.into(),
            from_state: from.into(),
            to_state: to.into(),
            state_model_def: "MasterSlave".into(),
            state_model_factory_name: "DEFAULT".into(),
            current_active_replica_number: -1,
            cluster_event_name: "CurrentStateChange".into(),
            retry_count: 3,
            rebalance_type: None,
            bucket_size: 0,
            resource_group_name: None,
            resource_tag: None,
            timeout: None,
        });
        let bytes = message.record().to_bytes().expect("encode");
        (self.paths.message(INSTANCE, &id), bytes)
    }

    /// Waits until `resource`'s current state has every partition in `state`
    /// and the instance has no message left.
    async fn wait_all(&self, resource: &str, partitions: &[String], state: &str) {
        let path = self
            .paths
            .current_state(INSTANCE, self.participant.session(), resource);
        let end = Instant::now() + DEADLINE;
        loop {
            let cs = self
                .admin
                .accessor()
                .get(&path)
                .await
                .expect("read")
                .map(|v| CurrentState::from(v.value));
            let done = cs.is_some_and(|cs| partitions.iter().all(|p| cs.state(p) == Some(state)));
            let left = self
                .admin
                .zk()
                .children(&self.paths.messages(INSTANCE))
                .await
                .expect("list");
            if done && left.is_empty() {
                return;
            }
            assert!(Instant::now() < end, "timed out: {left:?} left");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    fn requests(&self) -> RequestCounts {
        self.participant.zk().requests()
    }
}

fn report(phase: &str, n: usize, delta: RequestCounts) -> (f64, f64) {
    let per = |v: u64| v as f64 / n as f64;
    println!(
        "{{\"phase\":\"{phase}\",\"transitions\":{n},\"reads\":{},\"writes\":{},\"multis\":{},\"multi_ops\":{},\
         \"reads_per_transition\":{:.2},\"write_requests_per_transition\":{:.2},\"requests_per_transition\":{:.2}}}",
        delta.reads,
        delta.writes,
        delta.multis,
        delta.multi_ops,
        per(delta.reads),
        per(delta.write_requests()),
        per(delta.total()),
    );
    (per(delta.reads), per(delta.write_requests()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_per_transition_stay_within_the_bound() {
    let b = Bench::new().await;
    let partitions: Vec<String> = (0..N).map(|i| format!("db_{i}")).collect();

    // Warm-up: the first message of a resource starts its lookups.
    let warm = vec!["warm_0".to_owned()];
    b.send("warm", "warm_0", "OFFLINE", "SLAVE").await;
    b.wait_all("warm", &warm, "SLAVE").await;
    b.send("db", "db_0", "OFFLINE", "SLAVE").await;
    b.wait_all("db", &partitions[..1], "SLAVE").await;

    // Steady state: one transition at a time.
    let before = b.requests();
    for p in &partitions[1..] {
        b.send("db", p, "OFFLINE", "SLAVE").await;
        b.wait_all("db", std::slice::from_ref(p), "SLAVE").await;
    }
    let (reads, writes) = report("sequential", N - 1, b.requests() - before);
    assert!(writes <= 3.0, "{writes} write requests per transition");
    assert!(reads <= 1.0, "{reads} reads per transition");

    // A burst: every partition of the resource at once (one multi-op, as
    // a controller writes a pass's messages).
    let before = b.requests();
    let burst: Vec<(&str, &str, &str, &str)> = partitions
        .iter()
        .map(|p| ("db", p.as_str(), "SLAVE", "MASTER"))
        .collect();
    b.send_all(&burst).await;
    b.wait_all("db", &partitions, "MASTER").await;
    let (reads, writes) = report("burst", N, b.requests() - before);
    assert!(writes <= 3.0, "{writes} write requests per transition");
    assert!(reads <= 1.0, "{reads} reads per transition");

    b.participant.shutdown().await;
}
