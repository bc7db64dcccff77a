//! Hung plugin calls of one resource do not starve another: a participant
//! with `max_parallel_transitions = 4` whose `spin` resource (the `faulty`
//! plugin loops forever on `spin*` partitions) holds as many slots as the
//! slot rule lets one resource hold; a healthy MasterSlave resource added
//! then converges while those calls are still hanging.

use std::sync::Arc;
use std::time::{Duration, Instant};

use strand_admin::RebalanceMode;
use strand_devcluster::plugins::{names, plugin_path};
use strand_model::{Message, MessageState, PropertyPaths, ZNRecord};
use strand_participant::{Participant, ParticipantConfig};
use strand_plugin_host::{Limits, PluginOptions};
use strand_tests::cluster::{CLUSTER, Cluster, count, instance};

/// The hung calls' deadline: far beyond what the healthy resource needs.
const HUNG_DEADLINE: Duration = Duration::from_secs(25);

/// Messages of `resource` on instance 0 in state READ (their calls run).
async fn running(c: &Cluster, resource: &str) -> usize {
    let paths = PropertyPaths::new(CLUSTER);
    let root = paths.messages(&instance(0));
    let mut n = 0;
    for id in c.admin.zk().children(&root).await.expect("list") {
        let Ok(Some((data, _))) = c.admin.zk().get(&strand_zk::join(&root, &id)).await else {
            continue;
        };
        let Ok(Some(record)) = ZNRecord::from_bytes(&data) else {
            continue;
        };
        let message = Message::from(record);
        if message.resource_name() == Some(resource)
            && message.msg_state() == Some(MessageState::Read)
        {
            n += 1;
        }
    }
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_healthy_resource_converges_while_another_resources_calls_hang() {
    let c = Cluster::new(1).await;
    let faulty = plugin_path(names::FAULTY).expect("plugin built");
    let options = PluginOptions {
        limits: Limits {
            deadline: HUNG_DEADLINE,
            ..Limits::default()
        },
        ..PluginOptions::default()
    };
    c.registry
        .install_file("Faulty", &faulty, options)
        .expect("install faulty");
    let mut definition = strand_model::builtin::online_offline().into_record();
    definition.id = "Faulty".into();
    c.admin
        .add_state_model_def(CLUSTER, &definition.to_bytes().expect("json"))
        .await
        .expect("state model");
    c.admin
        .add_resource(CLUSTER, "spin", 4, "Faulty", RebalanceMode::SemiAuto)
        .await
        .expect("resource");
    c.admin
        .rebalance(CLUSTER, "spin", 1)
        .await
        .expect("rebalance");
    let mut config = ParticipantConfig::new(c.zk(), CLUSTER, instance(0));
    config.max_parallel_transitions = 4;
    config.shutdown_deadline = Duration::from_secs(1);
    let participant = Participant::start(config, Arc::clone(&c.registry))
        .await
        .expect("participant");
    let controller = c.controller("ctl0").await;

    // The spin calls take what one resource may hold (3 of 4 slots).
    let end = Instant::now() + Duration::from_secs(60);
    while running(&c, "spin").await < 3 {
        assert!(Instant::now() < end, "the spin calls never started");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    c.admin
        .add_resource(
            CLUSTER,
            "healthy",
            4,
            "MasterSlave",
            RebalanceMode::SemiAuto,
        )
        .await
        .expect("resource");
    c.admin
        .rebalance(CLUSTER, "healthy", 1)
        .await
        .expect("rebalance");
    let added = Instant::now();
    c.wait_view("healthy", "the healthy resource online", |view| {
        view.len() == 4 && view.values().all(|m| count(m, "MASTER") == 1)
    })
    .await;
    let took = added.elapsed();
    // Converged while the hung calls still run: they did not hold it up.
    assert_eq!(
        running(&c, "spin").await,
        3,
        "the hung calls ended before the healthy resource converged"
    );
    eprintln!("healthy resource converged in {took:?} beside 3 hung calls");
    participant.shutdown().await;
    controller.shutdown().await.expect("controller stops");
}
