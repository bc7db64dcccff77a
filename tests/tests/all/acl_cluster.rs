//! A cluster protected by a ZooKeeper ACL (`strand admin add-cluster
//! --acl`): a controller and participants given the credentials converge,
//! everything they create — ephemerals included — carries the cluster's
//! ACL, and a client without the credentials (or with others) can read
//! but change nothing, through the admin API or ZooKeeper directly.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use strand_admin::{Admin, ClusterAcl, RebalanceMode};
use strand_controller::Controller;
use strand_devcluster::plugins::{compiled_cache_dir, names, plugin_path};
use strand_devcluster::zookeeper::LocalZk;
use strand_model::{ExternalView, PropertyPaths};
use strand_participant::{Participant, ParticipantConfig};
use strand_plugin_host::{HostConfig, PluginHost, PluginOptions, PluginRegistry};
use strand_zk::{CreateKind, DigestCredentials, Zk, ZkConfig};

const CLUSTER: &str = "GUARDED";
const DEADLINE: Duration = Duration::from_secs(90);
const PARTITIONS: usize = 4;

fn instance(i: usize) -> String {
    format!("localhost_{}", 12000 + i)
}

fn config(server: &LocalZk, credentials: Option<(&str, &str)>) -> ZkConfig {
    let config =
        ZkConfig::new(server.connect_string()).with_session_timeout(Duration::from_secs(4));
    match credentials {
        Some((user, password)) => config
            .with_credentials(DigestCredentials::new(user, password).expect("valid credentials")),
        None => config,
    }
}

/// Every znode of the cluster with its data, version and ACL.
async fn tree(zk: &Zk) -> BTreeMap<String, (Vec<u8>, i32, Vec<String>)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![format!("/{CLUSTER}")];
    while let Some(path) = stack.pop() {
        if let Some((data, stat)) = zk.get(&path).await.expect("read") {
            let mut acl: Vec<String> = zk
                .acl(&path)
                .await
                .expect("ACL")
                .iter()
                .map(|a| format!("{}:{}:{}", a.scheme(), a.id(), a.permission()))
                .collect();
            acl.sort();
            out.insert(path.clone(), (data, stat.version, acl));
        }
        for child in zk.children(&path).await.expect("list") {
            stack.push(strand_zk::join(&path, &child));
        }
    }
    out
}

async fn converged(admin: &Admin) -> bool {
    let Ok(Some(view)) = admin
        .accessor()
        .get(&PropertyPaths::new(CLUSTER).external_view("DB"))
        .await
    else {
        return false;
    };
    let view = ExternalView::from(view.value);
    let partitions: Vec<&str> = view.partitions().collect();
    partitions.len() == PARTITIONS
        && partitions.iter().all(|p| {
            view.state_map(p)
                .is_some_and(|m| m.len() == 2 && m.values().filter(|s| *s == "MASTER").count() == 1)
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cluster_under_an_acl_converges_and_strangers_change_nothing() {
    let server = LocalZk::start().expect("zookeeper");
    let owner = Admin::connect_with(config(&server, Some(("strand", "s3cret"))))
        .await
        .expect("admin");
    owner
        .add_cluster_with_acl(CLUSTER, &ClusterAcl::default())
        .await
        .expect("cluster with an ACL");
    for i in 0..2 {
        owner
            .add_instance(CLUSTER, &instance(i))
            .await
            .expect("instance");
    }
    owner
        .add_resource(
            CLUSTER,
            "DB",
            PARTITIONS as u32,
            "MasterSlave",
            RebalanceMode::SemiAuto,
        )
        .await
        .expect("resource");
    owner.rebalance(CLUSTER, "DB", 2).await.expect("rebalance");

    // The controller and the participants have the credentials.
    let host = PluginHost::new(HostConfig {
        cache_dir: Some(compiled_cache_dir()),
        ..HostConfig::default()
    })
    .expect("host");
    let registry = PluginRegistry::new(host);
    registry
        .install_file(
            "MasterSlave",
            &plugin_path(names::MASTER_SLAVE).expect("plugin built"),
            PluginOptions::default(),
        )
        .expect("install MasterSlave");
    let credentialed = config(&server, Some(("strand", "s3cret")));
    let controller = Controller::start(credentialed.clone(), CLUSTER, "ctrl-0")
        .await
        .expect("controller starts");
    let mut participants = Vec::new();
    for i in 0..2 {
        participants.push(
            Participant::start(
                ParticipantConfig::new(credentialed.clone(), CLUSTER, instance(i)),
                Arc::clone(&registry),
            )
            .await
            .expect("participant starts"),
        );
    }
    let start = Instant::now();
    while !converged(&owner).await {
        assert!(start.elapsed() < DEADLINE, "the cluster did not converge");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    controller
        .wait_converged(DEADLINE)
        .await
        .expect("controller converged");

    // Everything, ephemerals and what the controller and participants
    // wrote included, carries the cluster's ACL.
    let before = tree(owner.zk()).await;
    let root_acl = before[&format!("/{CLUSTER}")].2.clone();
    assert!(
        root_acl.iter().any(|a| a.starts_with("digest:strand:"))
            && root_acl.contains(&"world:anyone:READ".to_owned()),
        "{root_acl:?}"
    );
    let paths = PropertyPaths::new(CLUSTER);
    for must_exist in [
        paths.live_instance(&instance(0)),
        paths.controller_leader(),
        paths.external_view("DB"),
    ] {
        assert!(before.contains_key(&must_exist), "{must_exist} missing");
    }
    for (path, (_, _, acl)) in &before {
        assert_eq!(acl, &root_acl, "{path} has another ACL");
    }

    // Without the credentials, or with other ones: reads work, every
    // change is refused.
    for credentials in [None, Some(("mallory", "guess"))] {
        let stranger = Admin::connect_with(config(&server, credentials))
            .await
            .expect("stranger connects");
        assert!(
            stranger.cluster_info(CLUSTER).await.is_ok(),
            "reads stay open"
        );
        let refusals = [
            stranger.add_instance(CLUSTER, "evil_1").await.err(),
            stranger
                .add_resource(CLUSTER, "EVIL", 1, "MasterSlave", RebalanceMode::SemiAuto)
                .await
                .err(),
            stranger
                .set_instance_enabled(CLUSTER, &instance(0), false, Some("pwned"))
                .await
                .err(),
            stranger
                .set_resource_enabled(CLUSTER, "DB", false)
                .await
                .err(),
            stranger.rebalance(CLUSTER, "DB", 1).await.err(),
            stranger
                .set_maintenance(CLUSTER, true, "pwned", &[])
                .await
                .err(),
            stranger.drop_resource(CLUSTER, "DB").await.err(),
        ];
        for refusal in refusals {
            let err = refusal.expect("refused");
            assert!(
                err.to_string().contains("ACL does not allow"),
                "{credentials:?}: {err}"
            );
        }
        // And ZooKeeper directly: no znode can be written, deleted or
        // given a child.
        let zk = stranger.zk();
        for (path, (data, version, _)) in &before {
            let set = zk.set(path, data, Some(*version)).await;
            assert!(
                set.as_ref().is_err_and(|e| e.is_no_auth()),
                "set {path}: {set:?}"
            );
            let child = format!("{path}/evil");
            let create = zk.create(&child, b"", CreateKind::Ephemeral).await;
            assert!(
                create.as_ref().is_err_and(|e| e.is_no_auth()),
                "create {child}: {create:?}"
            );
            if zk.children(path).await.expect("list").is_empty() {
                let delete = zk.delete(path, None).await;
                assert!(
                    delete.as_ref().is_err_and(|e| e.is_no_auth()),
                    "delete {path}: {delete:?}"
                );
            }
        }
    }
    assert_eq!(
        before,
        tree(owner.zk()).await,
        "a client without the credentials changed the cluster"
    );
    assert!(converged(&owner).await);

    for participant in participants {
        participant.shutdown().await;
    }
    controller.shutdown().await.expect("controller stops");
}
