//! `strand participant` following its application, with real processes on
//! a private ZooKeeper:
//!
//! * `-- COMMAND`: the application runs as a child; the participant joins,
//!   and leaves the cluster (its LiveInstance is gone) and exits the moment
//!   the child exits.
//! * `--health-url`: a real HTTP health endpoint started by the test goes
//!   bad — the participant leaves the cluster after `--health-failures`
//!   failed probes — and recovers — it joins again. On SIGTERM it stops its
//!   child (SIGTERM to the child's process group) before exiting.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use strand_devcluster::plugins::{compiled_cache_dir, names, plugin_path};
use strand_tests::cluster::{CLUSTER, Cluster, instance};

const DEADLINE: Duration = Duration::from_secs(120);

/// Kills the child on drop, so a failing test leaves no process behind.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn participant(cluster: &Cluster, extra: &[&str], command: &[&str]) -> Process {
    let plugin = plugin_path(names::MASTER_SLAVE).expect("plugin built");
    let child = Command::new(env!("CARGO_BIN_EXE_strand"))
        .args(["participant", "--cluster", CLUSTER, "--instance"])
        .arg(instance(0))
        .arg("--plugin")
        .arg(format!("MasterSlave={}", plugin.display()))
        .arg("--cache-dir")
        .arg(compiled_cache_dir())
        .args(["--zk", &cluster.server.connect_string()])
        .args(["--drain-timeout", "0s"])
        .args(extra)
        .arg("--")
        .args(command)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn strand participant");
    Process(child)
}

async fn live(cluster: &Cluster) -> bool {
    let path = cluster.paths.live_instance(&instance(0));
    matches!(cluster.admin.zk().exists(&path).await, Ok(Some(_)))
}

async fn wait_for(what: &str, mut done: impl AsyncFnMut() -> bool) {
    let start = Instant::now();
    while !done().await {
        assert!(start.elapsed() < DEADLINE, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn exited(p: &mut Process) -> Option<std::process::ExitStatus> {
    p.0.try_wait().expect("try_wait")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_participant_leaves_when_its_application_exits() {
    let cluster = Cluster::new(1).await;
    let dir = tempfile::tempdir().expect("dir");
    let quit = dir.path().join("quit");
    // The application runs until the test tells it to exit.
    let script = format!("while [ ! -e {} ]; do sleep 0.1; done", quit.display());
    let mut p = participant(&cluster, &[], &["sh", "-c", &script]);
    wait_for("the participant to join", async || live(&cluster).await).await;
    std::fs::write(&quit, b"").expect("tell the application to exit");
    wait_for("the participant to leave", async || !live(&cluster).await).await;
    wait_for("the participant to exit", async || exited(&mut p).is_some()).await;
    assert_eq!(
        exited(&mut p).and_then(|s| s.code()),
        Some(0),
        "the application exited 0"
    );
}

/// A health endpoint whose answer the test switches.
fn health_endpoint() -> (u16, Arc<AtomicBool>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    let healthy = Arc::new(AtomicBool::new(true));
    let flag = healthy.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 0 && line != "\r\n" {
                line.clear();
            }
            let answer: &[u8] = if flag.load(Ordering::SeqCst) {
                b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            } else {
                b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            };
            let _ = stream.write_all(answer);
        }
    });
    (port, healthy)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_participant_follows_its_applications_health() {
    let cluster = Cluster::new(1).await;
    let (port, healthy) = health_endpoint();
    let dir = tempfile::tempdir().expect("dir");
    let stopped = dir.path().join("stopped");
    // The application notes the SIGTERM it gets, then exits.
    let script = format!(
        "trap 'touch {}; exit 0' TERM; while true; do sleep 0.1; done",
        stopped.display()
    );
    let url = format!("http://127.0.0.1:{port}/health");
    let mut p = participant(
        &cluster,
        &[
            "--health-url",
            &url,
            "--health-interval",
            "200ms",
            "--health-failures",
            "2",
        ],
        &["sh", "-c", &script],
    );
    wait_for("the participant to join", async || live(&cluster).await).await;
    healthy.store(false, Ordering::SeqCst);
    wait_for("the participant to leave", async || !live(&cluster).await).await;
    assert!(exited(&mut p).is_none(), "it keeps running while unhealthy");
    healthy.store(true, Ordering::SeqCst);
    wait_for("the participant to join again", async || {
        live(&cluster).await
    })
    .await;

    // SIGTERM: the participant leaves, then stops its application.
    let pid = p.0.id().to_string();
    let status = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(status.success());
    wait_for("the participant to exit", async || exited(&mut p).is_some()).await;
    assert_eq!(exited(&mut p).and_then(|s| s.code()), Some(0));
    assert!(!live(&cluster).await, "it left the cluster");
    assert!(Path::new(&stopped).exists(), "the application got SIGTERM");
}
