//! Planned maintenance on a real ZooKeeper with real participants (the
//! Rust MasterSlave plugin) and Strand's controller, FULL_AUTO:
//!
//! * an admin drain (`EVACUATE`) moves every replica off the instance —
//!   [`strand_admin::DrainWatch`] sees it finish, as Helix's
//!   `isEvacuateFinished` would — and an undrain brings replicas back;
//! * delayed rebalance (`DELAY_REBALANCE_TIME`, `MIN_ACTIVE_REPLICAS`):
//!   an instance that leaves keeps its replicas placed while it is away
//!   within the delay (its MASTERs move at once), gets them back when it
//!   returns, and after the delay its replicas are placed elsewhere;
//! * a watcher never sees two MASTERs of a partition.

use std::collections::BTreeSet;
use std::time::Duration;

use strand_admin::{DrainGoal, DrainWatch, RebalanceMode, RecordEdit};
use strand_model::ZNRecord;
use strand_tests::cluster::{CLUSTER, Cluster, View, count, instance};
use strand_tests::master_watch::MasterWatch;

const PARTITIONS: u32 = 12;

async fn full_auto(cluster: &Cluster) {
    cluster
        .admin
        .add_resource(
            CLUSTER,
            "db",
            PARTITIONS,
            "MasterSlave",
            RebalanceMode::FullAuto,
        )
        .await
        .expect("resource");
    cluster
        .admin
        .rebalance(CLUSTER, "db", 3)
        .await
        .expect("rebalance");
}

fn converged(view: &View) -> bool {
    view.len() == PARTITIONS as usize
        && view
            .values()
            .all(|m| m.len() == 3 && count(m, "MASTER") == 1 && count(m, "SLAVE") == 2)
}

fn held_by(view: &View, host: &str) -> BTreeSet<String> {
    view.iter()
        .filter(|(_, m)| m.contains_key(host))
        .map(|(p, _)| p.clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_drain_moves_every_replica_off_and_undrain_brings_them_back() {
    let cluster = Cluster::new(4).await;
    full_auto(&cluster).await;
    let watch = MasterWatch::connect(&cluster.server.connect_string()).await;
    let mut participants = Vec::new();
    for i in 0..4 {
        participants.push(cluster.participant(i).await);
    }
    let controller = cluster.controller("ctl0").await;
    cluster.wait_view("db", "convergence", converged).await;

    let host = instance(0);
    cluster
        .admin
        .drain_instance(CLUSTER, &host, Some("maintenance"))
        .await
        .expect("drain");
    let drain = DrainWatch::start(cluster.admin.zk(), CLUSTER, &host)
        .await
        .expect("watch");
    let status = drain
        .wait(DrainGoal::Finished, Duration::from_secs(180))
        .await;
    assert!(status.finished(), "drain did not finish: {status:?}");
    assert!(status.evacuating);
    cluster
        .wait_view("db", "three replicas elsewhere", |view| {
            converged(view) && held_by(view, &host).is_empty()
        })
        .await;
    assert!(
        cluster
            .admin
            .drain_status(CLUSTER, &host)
            .await
            .expect("status")
            .finished()
    );

    cluster
        .admin
        .undrain_instance(CLUSTER, &host)
        .await
        .expect("undrain");
    cluster
        .wait_view("db", "replicas back on the undrained instance", |view| {
            converged(view) && !held_by(view, &host).is_empty()
        })
        .await;

    watch.catch_up().await;
    assert_eq!(watch.max(), 1, "a partition had two MASTERs");
    controller.shutdown().await.expect("controller stops");
    for p in participants {
        p.shutdown().await;
    }
}

async fn set_delay(cluster: &Cluster, delay_ms: u64) {
    let mut edit = ZNRecord::new(CLUSTER);
    edit.set_simple("DELAY_REBALANCE_TIME", delay_ms.to_string());
    cluster
        .admin
        .edit_cluster_config(CLUSTER, RecordEdit::Update, &edit)
        .await
        .expect("cluster config");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delayed_rebalance_keeps_replicas_placed_within_the_delay_and_moves_them_after() {
    let cluster = Cluster::new(4).await;
    full_auto(&cluster).await;
    // Long enough that nothing can expire while the test looks.
    set_delay(&cluster, 600_000).await;
    let mut resource = ZNRecord::new("db");
    resource.set_simple("MIN_ACTIVE_REPLICAS", "2");
    cluster
        .admin
        .edit_resource_config(CLUSTER, "db", RecordEdit::Update, &resource)
        .await
        .expect("resource config");
    let watch = MasterWatch::connect(&cluster.server.connect_string()).await;
    let mut participants = Vec::new();
    for i in 0..4 {
        participants.push(Some(cluster.participant(i).await));
    }
    let controller = cluster.controller("ctl0").await;
    cluster.wait_view("db", "convergence", converged).await;
    let host = instance(0);
    let before = cluster.view("db").await;
    let placed = held_by(&before, &host);
    assert!(!placed.is_empty());

    // host 0 stops (a restart): its MASTERs move at once, its replicas
    // are not placed elsewhere.
    if let Some(p) = participants[0].take() {
        p.shutdown().await;
    }
    cluster
        .wait_view("db", "failover of host 0's masters", |view| {
            view.values().all(|m| count(m, "MASTER") == 1) && held_by(view, &host).is_empty()
        })
        .await;
    // Once the controller has settled it has decided on the departure:
    // without the delay, replicas would have been placed elsewhere by now.
    controller
        .wait_converged(Duration::from_secs(120))
        .await
        .expect("controller settles");
    let view = cluster.view("db").await;
    for partition in &placed {
        assert_eq!(
            view[partition].len(),
            2,
            "{partition}: a replica of the departed instance was placed elsewhere: {:?}",
            view[partition]
        );
    }
    for (partition, map) in &view {
        if !placed.contains(partition) {
            assert_eq!(map, &before[partition], "{partition} moved");
        }
    }

    // It returns within the delay: the same partitions come back to it.
    participants[0] = Some(cluster.participant(0).await);
    cluster
        .wait_view("db", "host 0's replicas back", |view| {
            converged(view) && held_by(view, &host) == placed
        })
        .await;

    // It stops again with a short delay: after it, its replicas move.
    set_delay(&cluster, 3_000).await;
    if let Some(p) = participants[0].take() {
        p.shutdown().await;
    }
    cluster
        .wait_view("db", "three replicas once the delay ended", |view| {
            converged(view) && held_by(view, &host).is_empty()
        })
        .await;

    watch.catch_up().await;
    assert_eq!(watch.max(), 1, "a partition had two MASTERs");
    controller.shutdown().await.expect("controller stops");
    for p in participants.into_iter().flatten() {
        p.shutdown().await;
    }
}
