//! The routing table against a real cluster: a controller and three
//! participants running the Rust MasterSlave plugin (which also writes the
//! `DEPLOY` customized state the controller aggregates). The spectator's
//! tables must match the views through convergence, failover and rejoin,
//! and no snapshot may ever route to an instance it does not see live.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use strand_admin::{Admin, RebalanceMode};
use strand_controller::Controller;
use strand_devcluster::plugins::{names, plugin_path};
use strand_devcluster::zookeeper::LocalZk;
use strand_model::{ExternalView, PropertyPaths};
use strand_participant::{Participant, ParticipantConfig};
use strand_plugin_host::{HostConfig, PluginHost, PluginOptions, PluginRegistry};
use strand_spectator::{ProviderConfig, RoutingSnapshot, RoutingTableProvider, ViewSource};
use strand_zk::{Update, ZkConfig};

const CLUSTER: &str = "ROUTING";
const RESOURCE: &str = "DB";
const PARTITIONS: u32 = 4;
const DEPLOY: &str = "DEPLOY";
const DEADLINE: Duration = Duration::from_secs(60);

fn instance(i: usize) -> String {
    format!("localhost_{}", 14000 + i)
}

fn partition(p: u32) -> String {
    format!("{RESOURCE}_{p}")
}

/// Every partition: one MASTER (the one `master_of` names) and two SLAVEs,
/// in the external view table.
fn placed(snap: &RoutingSnapshot, master_of: &dyn Fn(u32) -> Option<String>) -> bool {
    (0..PARTITIONS).all(|p| {
        let part = partition(p);
        let masters = snap.instances(RESOURCE, &part, "MASTER");
        masters.len() == 1
            && master_of(p).is_none_or(|m| masters[0] == m)
            && snap.instances(RESOURCE, &part, "SLAVE").len() == 2
    })
}

/// The customized table agrees with the external view table on every
/// partition (the plugin reports each replica's state as `DEPLOY`).
fn customized_matches(snap: &RoutingSnapshot) -> bool {
    let Ok(custom) = snap.customized_view(DEPLOY) else {
        return false;
    };
    (0..PARTITIONS).all(|p| {
        let part = partition(p);
        custom.state_map(RESOURCE, &part) == snap.external_view().state_map(RESOURCE, &part)
    })
}

async fn wait(
    provider: &RoutingTableProvider,
    what: &str,
    done: impl Fn(&RoutingSnapshot) -> bool,
) -> Arc<RoutingSnapshot> {
    match provider.wait_for(DEADLINE, done).await {
        Some(snap) => snap,
        None => panic!("timed out waiting for {what}: {:#?}", provider.snapshot()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn routing_follows_convergence_failover_rejoin_and_customized_views() {
    let server = LocalZk::start().expect("zookeeper");
    let zk = ZkConfig::new(server.connect_string()).with_session_timeout(Duration::from_secs(4));
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
        .add_resource(
            CLUSTER,
            RESOURCE,
            PARTITIONS,
            "MasterSlave",
            RebalanceMode::SemiAuto,
        )
        .await
        .expect("resource");
    admin
        .rebalance(CLUSTER, RESOURCE, 3)
        .await
        .expect("rebalance");
    let paths = PropertyPaths::new(CLUSTER);
    admin
        .accessor()
        .update(
            &paths.ideal_state(RESOURCE),
            false,
            |current| match current {
                Some(mut record) => {
                    record.set_simple("strand.customized-state-type", DEPLOY);
                    Update::Write(record)
                }
                None => Update::Keep,
            },
        )
        .await
        .expect("customized type on the resource");
    admin
        .add_customized_state_type(CLUSTER, DEPLOY)
        .await
        .expect("aggregate DEPLOY");
    let ideal = admin.ideal_state(CLUSTER, RESOURCE).await.expect("ideal");
    let preferred: BTreeMap<u32, String> = (0..PARTITIONS)
        .map(|p| {
            let head = ideal
                .preference_list(&partition(p))
                .and_then(|l| l.first().cloned())
                .expect("preference list");
            (p, head)
        })
        .collect();

    let provider = RoutingTableProvider::start(
        ProviderConfig::new(zk.clone(), CLUSTER)
            .with_customized(DEPLOY)
            .expect("type"),
    )
    .await
    .expect("provider");
    // Every snapshot the listener sees must route only to live instances.
    let violations = Arc::new(Mutex::new(Vec::<String>::new()));
    let seen = Arc::new(Mutex::new(0usize));
    let checker = {
        let mut changes = provider.subscribe();
        let violations = Arc::clone(&violations);
        let seen = Arc::clone(&seen);
        tokio::spawn(async move {
            while changes.changed().await.is_ok() {
                let snap = changes.borrow_and_update().clone();
                *seen.lock().expect("lock") += 1;
                for source in snap.sources() {
                    let table = snap.table(source).expect("own source");
                    for resource in table.resources() {
                        for i in table.resource_instances(resource) {
                            if !snap.is_live(i) {
                                violations.lock().expect("lock").push(format!(
                                    "generation {}: {source} routes {resource} to {i}, not live",
                                    snap.generation()
                                ));
                            }
                        }
                    }
                }
            }
        })
    };

    let host = PluginHost::new(HostConfig::default()).expect("host");
    let registry = PluginRegistry::new(host);
    registry
        .install_file(
            "MasterSlave",
            &plugin_path(names::MASTER_SLAVE).expect("plugin"),
            PluginOptions::default(),
        )
        .expect("install");
    let start = |i: usize| {
        let registry = Arc::clone(&registry);
        let zk = zk.clone();
        async move {
            Participant::start(ParticipantConfig::new(zk, CLUSTER, instance(i)), registry)
                .await
                .expect("participant")
        }
    };
    let controller = Controller::start(zk.clone(), CLUSTER, "controller")
        .await
        .expect("controller");
    let mut participants = Vec::new();
    for i in 0..3 {
        participants.push(Some(start(i).await));
    }

    // Convergence: masters at the head of each preference list; the table
    // equals the external view record in ZooKeeper.
    let snap = wait(&provider, "convergence", |s| {
        placed(s, &|p| preferred.get(&p).cloned()) && customized_matches(s)
    })
    .await;
    let record = admin
        .accessor()
        .get(&paths.external_view(RESOURCE))
        .await
        .expect("read view")
        .expect("view exists");
    let view = ExternalView::from(record.value);
    for p in 0..PARTITIONS {
        let part = partition(p);
        let in_zk: BTreeMap<String, String> = view
            .state_map(&part)
            .expect("partition in view")
            .iter()
            .map(|(i, s)| (i.clone(), s.clone()))
            .collect();
        assert_eq!(
            snap.external_view().state_map(RESOURCE, &part),
            Some(&in_zk)
        );
    }
    assert_eq!(snap.resources(), [RESOURCE]);
    assert_eq!(
        snap.instances_in_state(RESOURCE, "SLAVE"),
        [instance(0), instance(1), instance(2)]
    );

    // Failover: instance 0 stops. It leaves the tables as soon as it is
    // not live; the masters move; the customized view follows.
    let gone = instance(0);
    participants[0].take().expect("running").shutdown().await;
    let snap = wait(&provider, "instance 0 to leave", |s| !s.is_live(&gone)).await;
    for source in [
        ViewSource::ExternalView,
        ViewSource::Customized(DEPLOY.into()),
    ] {
        let table = snap.table(&source).expect("table");
        assert!(!table.resource_instances(RESOURCE).contains(&gone.as_str()));
    }
    let snap = wait(&provider, "failover", |s| {
        (0..PARTITIONS).all(|p| {
            let part = partition(p);
            s.instances(RESOURCE, &part, "MASTER").len() == 1
                && s.instances(RESOURCE, &part, "SLAVE").len() == 1
        }) && customized_matches(s)
    })
    .await;
    assert_eq!(snap.live_instances().len(), 2);

    // Rejoin: masters are handed back.
    participants[0] = Some(start(0).await);
    wait(&provider, "rejoin", |s| {
        placed(s, &|p| preferred.get(&p).cloned()) && customized_matches(s)
    })
    .await;

    // The customized view alone changes: the aggregation type is removed,
    // the controller deletes the view, the table empties while the
    // external view table stays.
    admin
        .remove_customized_state_type(CLUSTER, DEPLOY)
        .await
        .expect("stop aggregating");
    let snap = wait(&provider, "the customized view to go", |s| {
        s.customized_view(DEPLOY).is_ok_and(|t| t.is_empty())
    })
    .await;
    assert!(placed(&snap, &|p| preferred.get(&p).cloned()));

    for p in participants.into_iter().flatten() {
        p.shutdown().await;
    }
    controller.shutdown().await.expect("controller stops");
    drop(provider);
    let _ = checker.await;
    assert!(
        *seen.lock().expect("lock") > 3,
        "the listener saw the changes"
    );
    let violations = violations.lock().expect("lock");
    assert!(violations.is_empty(), "{violations:#?}");
}
