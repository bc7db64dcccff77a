//! `strand:routing` end to end: a real controller and three participants
//! on a private ZooKeeper whose MasterSlave replicas run in the real
//! `routing-probe` component (world `strand:plugins/replicated-state-model`),
//! which reports what the routing interfaces tell it.
//!
//! * Lookup: a rejoining instance's transitions see both other replicas
//!   (the probe lists its peers in the transition's note).
//! * Callback: after convergence, after a failover and after the hand-back,
//!   every SLAVE has been told of its partition's current MASTER — with its
//!   host and port — without a transition of its own (the probe writes each
//!   routing change as the partition's `ROUTING` customized state).
//! * A component that does not export the callback (the plain Rust
//!   `master-slave`) is never called for it, and its resources are served
//!   as before (the rest of the suite).

use std::time::Duration;

use strand_admin::RebalanceMode;
use strand_devcluster::cluster::{CLUSTER, Cluster, View, count, instance};
use strand_devcluster::plugins::names;
use strand_model::{CurrentState, FieldMap, InstanceConfig};
use strand_participant::Participant;

const RESOURCE: &str = "DB";
const PARTITIONS: u32 = 4;
const ROUTING: &str = "ROUTING";
const DEADLINE: Duration = Duration::from_secs(90);

/// Every partition has one MASTER and two SLAVEs, the MASTER not on `avoid`.
fn placed(view: &View, avoid: Option<&str>, slaves: usize) -> bool {
    view.len() == PARTITIONS as usize
        && view.values().all(|m| {
            count(m, "MASTER") == 1
                && count(m, "SLAVE") == slaves
                && avoid.is_none_or(|a| m.get(a).is_none_or(|s| s != "MASTER"))
        })
}

/// The `ROUTING` customized state the probe wrote for `instance`'s replica
/// of `partition`.
async fn routing_state(c: &Cluster, instance: &str, partition: &str) -> Option<FieldMap> {
    let read = c
        .admin
        .accessor()
        .get(&c.paths.customized_state(instance, ROUTING, RESOURCE))
        .await
        .ok()??;
    read.value.map(partition).cloned()
}

/// `host:port` of `instance` from its InstanceConfig.
async fn address(c: &Cluster, instance: &str) -> String {
    let config = c
        .admin
        .accessor()
        .get(&c.paths.instance_config(instance))
        .await
        .expect("read instance config")
        .expect("instance config");
    let config = InstanceConfig::from(config.value);
    format!(
        "{}:{}",
        config.host().unwrap_or_default(),
        config.port().unwrap_or_default()
    )
}

/// Waits until every SLAVE replica in the view has been told of its
/// partition's MASTER (and the MASTER's address is in what it was told).
async fn wait_slaves_told(c: &Cluster, what: &str) {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let view = c.view(RESOURCE).await;
        let mut missing = Vec::new();
        for (partition, replicas) in &view {
            let Some(master) = replicas
                .iter()
                .find(|(_, s)| *s == "MASTER")
                .map(|(i, _)| i.clone())
            else {
                missing.push(format!("{partition}: no MASTER"));
                continue;
            };
            let master_at = format!("{master}=MASTER@{}", address(c, &master).await);
            for (slave, _) in replicas.iter().filter(|(_, s)| *s == "SLAVE") {
                let fields = routing_state(c, slave, partition).await;
                let ok = fields.as_ref().is_some_and(|f| {
                    f.get("MASTER") == Some(&master)
                        && f.get("OWN_STATE").map(String::as_str) == Some("SLAVE")
                        && f.get("REPLICAS").is_some_and(|r| r.contains(&master_at))
                });
                if !ok {
                    missing.push(format!(
                        "{slave}/{partition}: told {fields:?}, MASTER is {master_at}"
                    ));
                }
            }
        }
        if missing.is_empty() && !view.is_empty() {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: SLAVEs not told of their MASTER: {missing:#?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn slaves_find_and_follow_their_master_through_the_routing_interface() {
    let c = Cluster::with_master_slave(3, names::ROUTING_PROBE).await;
    c.admin
        .add_resource(
            CLUSTER,
            RESOURCE,
            PARTITIONS,
            "MasterSlave",
            RebalanceMode::SemiAuto,
        )
        .await
        .expect("resource");
    c.admin
        .rebalance(CLUSTER, RESOURCE, 3)
        .await
        .expect("rebalance");
    let controller = c.controller("ctrl-0").await;
    let mut participants: Vec<Option<Participant>> = Vec::new();
    for i in 0..3 {
        participants.push(Some(c.participant(i).await));
    }
    c.wait_view(RESOURCE, "convergence", |v| placed(v, None, 2))
        .await;
    wait_slaves_told(&c, "after convergence").await;

    // A graceful stop: new MASTERs elsewhere, and the remaining SLAVE of
    // each partition hears of its new MASTER with no transition of its own.
    let gone = instance(0);
    if let Some(p) = participants[0].take() {
        p.shutdown().await;
    }
    c.wait_view(RESOURCE, "failover", |v| {
        placed(v, Some(&gone), 1) && v.values().all(|m| !m.contains_key(&gone))
    })
    .await;
    wait_slaves_told(&c, "after the failover").await;

    // It comes back: its transitions look both peers up, and after the
    // hand-back every SLAVE follows the preferred MASTER again.
    let back = c.participant(0).await;
    let session = back.session();
    participants[0] = Some(back);
    c.wait_view(RESOURCE, "hand-back", |v| placed(v, None, 2))
        .await;
    wait_slaves_told(&c, "after the hand-back").await;
    let record = c
        .admin
        .accessor()
        .get(&c.paths.current_state(&gone, session, RESOURCE))
        .await
        .expect("read current state")
        .expect("current state of the rejoined instance");
    let state = CurrentState::from(record.value);
    for p in 0..PARTITIONS {
        let partition = format!("{RESOURCE}_{p}");
        let info = state.info(&partition).unwrap_or_default();
        for peer in [instance(1), instance(2)] {
            assert!(
                info.starts_with("peers: ") && info.contains(&format!("{peer}=")),
                "{gone}/{partition}: the transition did not see peer {peer}: {info:?}"
            );
        }
    }

    for p in participants.into_iter().flatten() {
        p.shutdown().await;
    }
    controller.shutdown().await.expect("controller stops");
}
