//! ZooKeeper faults in the middle of a 300 × 3 MasterSlave convergence,
//! with three `strand participant` processes and a controller: a restart
//! of the only ZooKeeper server (down for about 3 s; sessions survive), and
//! a `kill -9` of the leader of a three-node ensemble. Each converges
//! afterwards — every partition one MASTER and two SLAVEs in the live
//! current states and in the external view, no message left anywhere —
//! with no participant process restarted (same processes, same sessions),
//! and no consistent sample ever shows two MASTERs.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use strand_admin::RebalanceMode;
use strand_controller::Controller;
use strand_devcluster::plugins::{compiled_cache_dir, names, plugin_path};
use strand_model::PropertyPaths;
use strand_tests::cluster::{CLUSTER, Cluster, Server, instance};
use strand_tests::convergence::Convergence;
use strand_tests::master_watch::MasterWatch;
use strand_zk::ZkConfig;

const PARTITIONS: usize = 300;
const REPLICAS: usize = 3;
/// Convergence after the fault, on a loaded machine.
const DEADLINE: Duration = Duration::from_secs(300);
/// Longer than any outage here, so sessions survive it.
const SESSION_TIMEOUT_S: u64 = 30;

/// Kills the child on drop, so a failing test leaves no process behind.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn_participant(zk: &str, i: usize) -> Process {
    let plugin = plugin_path(names::MASTER_SLAVE).expect("plugin built");
    let child = Command::new(env!("CARGO_BIN_EXE_strand"))
        .args(["participant", "--cluster", CLUSTER, "--instance"])
        .arg(instance(i))
        .args(["--session-timeout", &SESSION_TIMEOUT_S.to_string()])
        .arg("--plugin")
        .arg(format!("MasterSlave={}", plugin.display()))
        .arg("--cache-dir")
        .arg(compiled_cache_dir())
        .args(["--zk", zk])
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn strand participant");
    Process(child)
}

/// The session of each instance's LiveInstance, once all are live.
async fn live_sessions(zk: &strand_zk::Zk, n: usize) -> Vec<i64> {
    let paths = PropertyPaths::new(CLUSTER);
    let end = Instant::now() + Duration::from_secs(120);
    loop {
        let mut sessions = Vec::new();
        for i in 0..n {
            if let Ok(Some(stat)) = zk.exists(&paths.live_instance(&instance(i))).await {
                sessions.push(stat.ephemeral_owner);
            }
        }
        if sessions.len() == n {
            return sessions;
        }
        assert!(Instant::now() < end, "participants did not all join");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Sets up the resource, the watchers, three participant processes and a
/// controller; runs `fault` once convergence is under way; checks the end.
async fn converges_through(mut cluster: Cluster, fault: impl FnOnce(&mut Server)) {
    let connect = cluster.server.connect_string();
    cluster
        .admin
        .add_resource(
            CLUSTER,
            "db",
            PARTITIONS as u32,
            "MasterSlave",
            RebalanceMode::SemiAuto,
        )
        .await
        .expect("resource");
    cluster
        .admin
        .rebalance(CLUSTER, "db", REPLICAS as u32)
        .await
        .expect("rebalance");
    let watch = MasterWatch::connect(&connect).await;
    let convergence = Convergence::connect(&connect).await;
    let mut processes: Vec<Process> = (0..3).map(|i| spawn_participant(&connect, i)).collect();
    let sessions = live_sessions(convergence.zk(), 3).await;
    let zk = ZkConfig::new(&connect).with_session_timeout(Duration::from_secs(SESSION_TIMEOUT_S));
    let controller = Controller::start(zk, CLUSTER, "ctl0")
        .await
        .expect("controller starts");

    // Under way: the first replicas show in the current states.
    let end = Instant::now() + DEADLINE;
    let seen_at_fault = loop {
        if let Ok(seen) = convergence.replicas_seen("db").await
            && seen > 0
        {
            break seen;
        }
        assert!(Instant::now() < end, "convergence never started");
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    let started = Instant::now();
    tokio::task::block_in_place(|| fault(&mut cluster.server));
    eprintln!(
        "fault injected with {seen_at_fault}/{PARTITIONS} partitions under way; took {:?}",
        started.elapsed()
    );

    let progress = convergence.wait("db", PARTITIONS, REPLICAS, DEADLINE).await;
    eprintln!(
        "converged {:?} after the fault ({}/{PARTITIONS} settled in the external view)",
        started.elapsed(),
        progress.view_settled
    );
    for (i, process) in processes.iter_mut().enumerate() {
        assert!(
            matches!(process.0.try_wait(), Ok(None)),
            "participant {i} exited"
        );
    }
    assert_eq!(
        live_sessions(convergence.zk(), 3).await,
        sessions,
        "a participant lost its session (it would have had to rejoin)"
    );
    watch.catch_up().await;
    assert!(watch.samples() > 0, "no consistent sample was taken");
    assert_eq!(watch.max(), 1, "a partition had two MASTERs");
    eprintln!("{} consistent samples, never two MASTERs", watch.samples());
    controller.shutdown().await.expect("controller stops");
    drop(processes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_zookeeper_restart_mid_convergence_converges_without_restarting_participants() {
    let cluster = Cluster::new(3).await;
    converges_through(cluster, |server| {
        let Server::Single(zk) = server else {
            unreachable!("a single server")
        };
        zk.stop();
        std::thread::sleep(Duration::from_secs(3));
        zk.restart().expect("zookeeper restarts");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_ensemble_leader_mid_convergence_converges_without_restarting_participants() {
    let cluster = Cluster::on_ensemble(3).await;
    converges_through(cluster, |server| {
        let Server::Ensemble(ensemble) = server else {
            unreachable!("an ensemble")
        };
        let leader = ensemble.leader().expect("the ensemble has a leader");
        ensemble.stop_server(leader);
    })
    .await;
}
