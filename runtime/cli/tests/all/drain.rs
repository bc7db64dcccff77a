//! `strand participant` drains itself on SIGTERM (real ZooKeeper, real
//! participant processes, the Rust MasterSlave plugin, a controller):
//!
//! * every MASTER it held is handed over before its LiveInstance goes —
//!   the current-state record it leaves behind (written before the
//!   LiveInstance is deleted, never after) holds no MASTER, only the
//!   SLAVEs it was demoted to, and every partition has a MASTER elsewhere;
//!   a drained instance that rejoins gets its preferred MASTERs back;
//! * a drain that cannot complete (no other replica) times out with a
//!   clear message and the process still stops; a second SIGTERM skips
//!   the drain at once;
//! * a watcher never sees two MASTERs of a partition.

use std::time::{Duration, Instant};

use crate::common::{DEADLINE, StrandProcess};
use strand_admin::RebalanceMode;
use strand_devcluster::plugins::{compiled_cache_dir, names, plugin_path};
use strand_model::{CurrentState, PropertyPaths};
use strand_tests::cluster::{CLUSTER, Cluster, count, instance};
use strand_tests::master_watch::MasterWatch;

/// A participant process draining for at most `drain_timeout` on SIGTERM.
fn participant(zk: &str, i: usize, drain_timeout: &str) -> StrandProcess {
    let plugin = plugin_path(names::MASTER_SLAVE).expect("plugin built");
    StrandProcess::spawn(|command| {
        command
            .args(["participant", "--cluster", CLUSTER, "--instance"])
            .arg(instance(i))
            .arg("--plugin")
            .arg(format!("MasterSlave={}", plugin.display()))
            .arg("--cache-dir")
            .arg(compiled_cache_dir())
            .args(["--drain-timeout", drain_timeout, "--zk", zk])
            .env("RUST_LOG", "warn");
    })
}

async fn live_session(cluster: &Cluster, i: usize) -> String {
    let path = cluster.paths.live_instance(&instance(i));
    let start = Instant::now();
    loop {
        if let Ok(Some(stat)) = cluster.admin.zk().exists(&path).await {
            return format!("{:x}", stat.ephemeral_owner);
        }
        assert!(start.elapsed() < DEADLINE, "instance {i} never joined");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn add_resource(cluster: &Cluster, partitions: u32, replicas: u32) {
    cluster
        .add_master_slave_replicas("db", partitions, replicas, RebalanceMode::SemiAuto)
        .await;
}

fn converged(replicas: usize) -> impl Fn(&strand_tests::cluster::View) -> bool {
    move |view| {
        !view.is_empty()
            && view
                .values()
                .all(|m| count(m, "MASTER") == 1 && count(m, "SLAVE") == replicas - 1)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_hands_every_master_over_before_the_instance_leaves() {
    const PARTITIONS: u32 = 30;
    let cluster = Cluster::new(3).await;
    let connect = cluster.server.connect_string();
    add_resource(&cluster, PARTITIONS, 3).await;
    let watch = MasterWatch::connect(&connect).await;
    let mut processes: Vec<StrandProcess> =
        (0..3).map(|i| participant(&connect, i, "60s")).collect();
    let session = live_session(&cluster, 0).await;
    let controller = cluster.controller("ctl0").await;
    cluster.wait_view("db", "convergence", converged(3)).await;
    let view = cluster.view("db").await;
    let mastered: Vec<String> = view
        .iter()
        .filter(|(_, m)| m.get(&instance(0)).map(String::as_str) == Some("MASTER"))
        .map(|(p, _)| p.clone())
        .collect();
    assert!(!mastered.is_empty(), "instance 0 masters some partitions");

    processes[0].sigterm();
    processes[0].exits("the drained participant").await;
    let stderr = processes[0].stderr();
    assert!(stderr.contains("drained localhost_12000 in"), "{stderr}");

    // What it held when it left: no MASTER, its masters demoted to SLAVE.
    let paths = PropertyPaths::new(CLUSTER);
    let left = cluster
        .admin
        .accessor()
        .get(&paths.current_state(&instance(0), &session, "db"))
        .await
        .expect("read")
        .map(|v| CurrentState::from(v.value))
        .expect("the session's current state stays behind");
    let states: Vec<(String, String)> = left
        .partition_states()
        .map(|(p, s)| (p.to_owned(), s.to_owned()))
        .collect();
    assert!(
        states.iter().all(|(_, s)| s != "MASTER"),
        "it left holding a MASTER: {states:?}"
    );
    for partition in &mastered {
        assert_eq!(
            left.state(partition),
            Some("SLAVE"),
            "{partition} was handed over, not dropped"
        );
    }
    // Every partition has a MASTER on the others.
    cluster
        .wait_view("db", "a MASTER for every partition", |view| {
            view.len() == PARTITIONS as usize && view.values().all(|m| count(m, "MASTER") == 1)
        })
        .await;
    // The drain was cleared when it left: rejoining, it gets its MASTERs back.
    let config = cluster
        .admin
        .instance_config(CLUSTER, &instance(0))
        .await
        .expect("config");
    assert!(
        !strand_model::InstanceConfig::from(config).is_evacuating(),
        "the shutdown drain was cleared"
    );
    processes[0] = participant(&connect, 0, "60s");
    cluster
        .wait_view("db", "masters handed back", |view| {
            converged(3)(view)
                && mastered.iter().all(|p| {
                    view.get(p)
                        .and_then(|m| m.get(&instance(0)))
                        .map(String::as_str)
                        == Some("MASTER")
                })
        })
        .await;

    watch.catch_up().await;
    assert_eq!(watch.max(), 1, "a partition had two MASTERs");
    controller.shutdown().await.expect("controller stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drain_with_no_other_replica_times_out_and_a_second_sigterm_skips_it() {
    let cluster = Cluster::new(1).await;
    let connect = cluster.server.connect_string();
    add_resource(&cluster, 4, 1).await;
    let watch = MasterWatch::connect(&connect).await;
    let mut process = participant(&connect, 0, "2s");
    let controller = cluster.controller("ctl0").await;
    cluster.wait_view("db", "convergence", converged(1)).await;

    process.sigterm();
    process.exits("a participant whose drain timed out").await;
    let stderr = process.stderr();
    assert!(
        stderr.contains(
            "drain of localhost_12000 timed out after 2s: 4 top state(s) still on localhost_12000"
        ),
        "{stderr}"
    );

    // A long drain timeout, skipped by a second SIGTERM.
    let mut process = participant(&connect, 0, "10m");
    cluster
        .wait_view("db", "convergence again", converged(1))
        .await;
    process.sigterm();
    process
        .stderr_shows("draining: handing top states over")
        .await;
    process.sigterm();
    process.exits("a participant whose drain was skipped").await;
    assert!(
        process
            .stderr()
            .contains("drain of localhost_12000 skipped"),
        "{}",
        process.stderr()
    );

    watch.catch_up().await;
    assert_eq!(watch.max(), 1, "a partition had two MASTERs");
    controller.shutdown().await.expect("controller stops");
}
