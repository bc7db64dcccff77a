//! Strand end to end: a real controller driving real participants whose
//! state models are the Rust plugins from `plugins/`, on a private
//! ZooKeeper. A watcher on every current state asserts that no MasterSlave
//! partition ever has two MASTERs while participants fail, rejoin and
//! controllers fail over.

use std::collections::BTreeMap;

use strand_admin::RebalanceMode;
use strand_tests::cluster::{CLUSTER, Cluster, DEADLINE, count, instance};
use strand_tests::scenarios;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn master_slave_converges_fails_over_and_hands_back_with_never_two_masters() {
    scenarios::master_slave_converges_fails_over_and_hands_back(
        strand_devcluster::plugins::names::MASTER_SLAVE,
        "0.1.0",
    )
    .await;
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
