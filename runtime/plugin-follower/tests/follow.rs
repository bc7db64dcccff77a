//! The follower for both of its uses, on a private ZooKeeper with real
//! components from `plugins/`: a participant's state model installed and
//! hot-swapped with every instance's status saying so, a controller's
//! aggregator switching versions, and a version that does not load leaving
//! the running one serving, reported, until the record changes.

use std::sync::Arc;
use std::time::Duration;

use strand_admin::Admin;
use strand_devcluster::plugins::{names, plugin_path};
use strand_devcluster::zookeeper::LocalZk;
use strand_plugin_follower::{FollowerConfig, PluginFollower};
use strand_plugin_host::{HostConfig, HostInspector, PluginHost, PluginRegistry};
use strand_plugin_store::{
    DeployOptions, Deployment, PluginKind, PluginStatus, PluginStore, StorePaths,
};
use strand_zk::ZkConfig;
use tokio::sync::watch;

const CLUSTER: &str = "FOLLOW";
const INSTANCES: [&str; 2] = ["host_1", "host_2"];
/// Generous: a first compile on a loaded 2-core machine takes seconds.
const DEADLINE: Duration = Duration::from_secs(120);

struct Fixture {
    server: LocalZk,
    admin: Admin,
    store: PluginStore,
    _cache: tempfile::TempDir,
    registry: Arc<PluginRegistry>,
}

impl Fixture {
    async fn new() -> Self {
        let server = LocalZk::start().expect("zookeeper");
        let admin = Admin::connect(&server.connect_string())
            .await
            .expect("admin");
        admin.add_cluster(CLUSTER).await.expect("cluster");
        let cache = tempfile::tempdir().expect("cache dir");
        let host = PluginHost::new(HostConfig {
            cache_dir: Some(cache.path().to_path_buf()),
            ..HostConfig::default()
        })
        .expect("plugin host");
        let store = PluginStore::new(admin.zk().clone(), CLUSTER)
            .with_inspector(HostInspector::new(Arc::clone(&host)));
        Self {
            server,
            admin,
            store,
            _cache: cache,
            registry: PluginRegistry::new(host),
        }
    }

    async fn deploy(&self, plugin: &str, name: Option<&str>) -> Deployment {
        let bytes = std::fs::read(plugin_path(plugin).expect("plugin built")).expect("read");
        let opts = DeployOptions {
            name: name.map(str::to_owned),
            force: true,
            deployed_by: "test".into(),
            ..DeployOptions::default()
        };
        self.store.deploy(&bytes, &opts).await.expect("deploy")
    }

    async fn follow(&self, kind: PluginKind, instances: &[&str]) -> PluginFollower {
        let config = FollowerConfig {
            zk: ZkConfig::new(self.server.connect_string())
                .with_session_timeout(Duration::from_secs(4)),
            cluster: CLUSTER.into(),
            kind,
            instances: instances.iter().map(|i| (*i).to_owned()).collect(),
        };
        PluginFollower::start(config, Arc::clone(&self.registry))
            .await
            .expect("follower")
    }

    /// What `instance` reports for `plugin`.
    async fn status(&self, instance: &str, plugin: &str) -> Option<PluginStatus> {
        self.store
            .list()
            .await
            .expect("list")
            .into_iter()
            .find(|p| p.name == plugin)?
            .instances
            .into_iter()
            .find(|s| s.instance == instance)
            .map(|s| s.status)
    }
}

/// Waits until the follower reports a swap after `seen`.
async fn next_update(updates: &mut watch::Receiver<u64>, seen: u64) -> u64 {
    tokio::time::timeout(DEADLINE, updates.wait_for(|n| *n > seen))
        .await
        .expect("the follower swapped in time")
        .map(|n| *n)
        .expect("follower running")
}

fn running_model(registry: &PluginRegistry, name: &str) -> Option<String> {
    registry
        .state_model(name)
        .map(|h| h.version().digest.clone())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_state_model_is_installed_then_hot_swapped_and_every_instance_reports_it() {
    let f = Fixture::new().await;
    let v1 = f.deploy(names::MASTER_SLAVE, None).await;
    f.deploy(names::PARTITION_SUMMARY, None).await;

    let follower = f.follow(PluginKind::StateModel, &INSTANCES).await;
    // The first pass is done when start returns.
    assert_eq!(
        running_model(&f.registry, "MasterSlave").as_deref(),
        Some(v1.sha256.as_str())
    );
    assert!(
        f.registry.aggregator("partition-summary").is_none(),
        "a state-model follower leaves aggregators alone"
    );
    for instance in INSTANCES {
        let status = f.status(instance, "MasterSlave").await.expect("status");
        assert_eq!(status.active_sha256.as_deref(), Some(v1.sha256.as_str()));
        assert_eq!(status.last_error, None);
    }
    let handle = f.registry.state_model("MasterSlave").expect("installed");

    let mut updates = follower.updates();
    let seen = *updates.borrow();
    let v2 = f
        .deploy(names::MASTER_SLAVE_NEXT, Some("MasterSlave"))
        .await;
    assert_ne!(v1.sha256, v2.sha256);
    next_update(&mut updates, seen).await;
    // Hot swap: the handle taken before follows it.
    assert_eq!(handle.version().digest, v2.sha256);
    for instance in INSTANCES {
        let status = f.status(instance, "MasterSlave").await.expect("status");
        assert_eq!(status.active_version.as_deref(), Some(v2.version.as_str()));
    }
    follower.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_aggregator_switches_to_each_active_version() {
    let f = Fixture::new().await;
    let summary = f.deploy(names::PARTITION_SUMMARY, Some("view")).await;
    f.deploy(names::MASTER_SLAVE, None).await;

    let follower = f.follow(PluginKind::Aggregator, &[]).await;
    let handle = f.registry.aggregator("view").expect("installed");
    assert_eq!(handle.version().digest, summary.sha256);
    assert!(
        f.registry.state_model("MasterSlave").is_none(),
        "an aggregator follower leaves state models alone"
    );

    let mut updates = follower.updates();
    let seen = *updates.borrow();
    let other = f.deploy(names::DEFAULT_VIEW, Some("view")).await;
    let seen = next_update(&mut updates, seen).await;
    assert_eq!(handle.version().digest, other.sha256);

    // And back (both report version 0.1.0: the forced deploys replace it
    // in place, a change of the active bytes like any other).
    f.deploy(names::PARTITION_SUMMARY, Some("view")).await;
    next_update(&mut updates, seen).await;
    assert_eq!(handle.version().digest, summary.sha256);
    follower.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_version_that_does_not_load_keeps_the_running_one_reported_until_the_record_changes() {
    let f = Fixture::new().await;
    let v1 = f.deploy(names::MASTER_SLAVE, None).await;
    let follower = f.follow(PluginKind::StateModel, &INSTANCES).await;
    let mut updates = follower.updates();
    let seen = *updates.borrow();

    // An active version whose artefact is not there (as if its chunks were
    // lost): the record is written by hand, as no deploy would write it.
    let mut record = f
        .store
        .record("MasterSlave")
        .await
        .expect("read")
        .expect("record");
    let mut broken = record.active_entry().cloned().expect("active");
    broken.version = "9.9.9".into();
    broken.sha256 = "ab".repeat(32);
    record.activate_new(broken.clone());
    let bytes = record.to_znrecord().to_bytes().expect("encode");
    f.admin
        .zk()
        .set(
            &StorePaths::new(CLUSTER).plugin("MasterSlave"),
            &bytes,
            None,
        )
        .await
        .expect("write the record");

    let deadline = tokio::time::Instant::now() + DEADLINE;
    for instance in INSTANCES {
        loop {
            let status = f.status(instance, "MasterSlave").await.expect("status");
            if status.error_version.as_deref() == Some("9.9.9") {
                assert!(status.last_error.is_some());
                // What it runs is kept.
                assert_eq!(status.active_sha256.as_deref(), Some(v1.sha256.as_str()));
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{instance} never reported the failed version: {status:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    assert_eq!(
        running_model(&f.registry, "MasterSlave").as_deref(),
        Some(v1.sha256.as_str()),
        "the running version keeps serving"
    );
    assert_eq!(*updates.borrow(), seen, "nothing was swapped");

    // A new deployment changes the record: it loads, and the error goes.
    let v2 = f
        .deploy(names::MASTER_SLAVE_NEXT, Some("MasterSlave"))
        .await;
    next_update(&mut updates, seen).await;
    assert_eq!(
        running_model(&f.registry, "MasterSlave").as_deref(),
        Some(v2.sha256.as_str())
    );
    for instance in INSTANCES {
        let status = f.status(instance, "MasterSlave").await.expect("status");
        assert_eq!(status.active_sha256.as_deref(), Some(v2.sha256.as_str()));
        assert_eq!(status.last_error, None);
    }
    follower.shutdown().await;
}
