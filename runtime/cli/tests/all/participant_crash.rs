//! `kill -9` of a `strand participant` process under a running controller:
//! its masters move to the other processes once its ZooKeeper session
//! times out, no partition ever has two MASTERs (a watcher sees every
//! current-state change), and a restarted process gets its masters back.

use std::process::{Child, Command, Stdio};

use strand_admin::RebalanceMode;
use strand_devcluster::plugins::{compiled_cache_dir, names, plugin_path};
use strand_tests::cluster::{CLUSTER, Cluster, View, count, instance};
use strand_tests::master_watch::MasterWatch;

fn spawn_participant(zk: &str, i: usize) -> Child {
    let plugin = plugin_path(names::MASTER_SLAVE).expect("plugin built");
    Command::new(env!("CARGO_BIN_EXE_strand"))
        .args(["participant", "--cluster", CLUSTER, "--instance"])
        .arg(instance(i))
        .args(["--session-timeout", "3"])
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
        .expect("spawn strand participant")
}

/// Kills the child on drop, so a failing test leaves no process behind.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_of_a_participant_process_fails_over_without_two_masters() {
    let cluster = Cluster::new(3).await;
    let connect = cluster.zk().connect;
    cluster
        .add_master_slave("db", 6, RebalanceMode::SemiAuto)
        .await;
    let watch = MasterWatch::start(cluster.admin.zk().clone()).await;
    let mut processes: Vec<Process> = (0..3)
        .map(|i| Process(spawn_participant(&connect, i)))
        .collect();
    let controller = cluster.controller("ctl0").await;
    let converged = |v: &View| {
        v.len() == 6
            && v.values()
                .all(|m| count(m, "MASTER") == 1 && count(m, "SLAVE") == 2)
    };
    cluster.wait_view("db", "convergence", converged).await;
    let victim = instance(0);
    let ideal = cluster
        .admin
        .ideal_state(CLUSTER, "db")
        .await
        .expect("ideal state");
    let preferred_by_victim: Vec<String> = ideal
        .partitions()
        .into_iter()
        .filter(|p| ideal.preference_list(p).and_then(|l| l.first()) == Some(&victim))
        .map(str::to_owned)
        .collect();
    assert!(!preferred_by_victim.is_empty());

    // kill -9: no goodbye; the session has to time out.
    processes[0].0.kill().expect("kill -9");
    let _ = processes[0].0.wait();
    cluster
        .wait_view("db", "masters moved off the killed process", |v| {
            v.len() == 6
                && v.values()
                    .all(|m| !m.contains_key(&victim) && count(m, "MASTER") == 1)
        })
        .await;
    watch.catch_up().await;
    assert_eq!(watch.max(), 1, "a partition had two MASTERs");

    // Restarted: the preferred masters come back to it.
    processes[0] = Process(spawn_participant(&connect, 0));
    cluster
        .wait_view("db", "masters handed back", |v| {
            converged(v)
                && preferred_by_victim.iter().all(|p| {
                    v.get(p).and_then(|m| m.get(&victim)).map(String::as_str) == Some("MASTER")
                })
        })
        .await;
    watch.catch_up().await;
    assert_eq!(watch.max(), 1, "a partition had two MASTERs");
    controller.shutdown().await.expect("controller stops");
    drop(processes);
}
