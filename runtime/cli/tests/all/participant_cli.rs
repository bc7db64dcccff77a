//! `strand participant` as a process: it joins, a graceful stop (SIGTERM)
//! removes its LiveInstance at once, and after `kill -9` the LiveInstance
//! disappears when the ZooKeeper session times out.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use strand_admin::Admin;
use strand_devcluster::plugins::{names, plugin_path};
use strand_devcluster::zookeeper::LocalZk;
use strand_model::PropertyPaths;

const DEADLINE: Duration = Duration::from_secs(60);

fn spawn_participant(zk: &str, instance: &str, cache: &std::path::Path) -> Child {
    let plugin = plugin_path(names::MASTER_SLAVE).expect("plugin built");
    Command::new(env!("CARGO_BIN_EXE_strand"))
        .args([
            "participant",
            "--cluster",
            "C",
            "--instance",
            instance,
            "--session-timeout",
            "2",
        ])
        .arg("--plugin")
        .arg(format!("MasterSlave={}", plugin.display()))
        .arg("--cache-dir")
        .arg(cache)
        .args(["--zk", zk])
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn strand participant")
}

async fn wait_until(what: &str, mut check: impl AsyncFnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !check().await {
        assert!(start.elapsed() < DEADLINE, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    start.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_leaves_at_once_and_kill_9_leaves_after_the_session_timeout() {
    let server = LocalZk::start().expect("zookeeper");
    let zk = server.connect_string();
    let admin = Admin::connect(&zk).await.expect("admin");
    admin.add_cluster("C").await.expect("cluster");
    admin
        .add_instance("C", "localhost_1")
        .await
        .expect("instance");
    admin
        .add_instance("C", "localhost_2")
        .await
        .expect("instance");
    let cache = tempfile::tempdir().expect("cache dir");
    let paths = PropertyPaths::new("C");
    let live = |instance: &'static str| {
        let admin = admin.clone();
        let path = paths.live_instance(instance);
        async move || admin.zk().exists(&path).await.ok().flatten().is_some()
    };

    let mut graceful = spawn_participant(&zk, "localhost_1", cache.path());
    wait_until("localhost_1 live", live("localhost_1")).await;
    let pid = graceful.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill")
            .success()
    );
    let status = graceful.wait().expect("exit");
    assert!(status.success(), "graceful exit: {status}");
    let is_live = live("localhost_1");
    assert!(
        !is_live().await,
        "the LiveInstance is removed before the process exits"
    );

    let mut killed = spawn_participant(&zk, "localhost_2", cache.path());
    wait_until("localhost_2 live", live("localhost_2")).await;
    killed.kill().expect("kill -9");
    let _ = killed.wait();
    let is_live = live("localhost_2");
    assert!(
        is_live().await,
        "an ephemeral outlives a crash until the session times out"
    );
    let gone_after = wait_until("localhost_2 gone", async || !is_live().await).await;
    assert!(
        gone_after >= Duration::from_millis(500),
        "gone after {gone_after:?}"
    );
}

#[test]
fn a_repeated_or_invalid_instance_is_refused_before_anything_starts() {
    // Nothing listens on this port: the refusal comes before any connect.
    let port = strand_devcluster::zookeeper::free_port().expect("port");
    let zk = format!("127.0.0.1:{port}");
    for (instances, needle) in [
        (vec!["X", "X"], "names instance X a second time"),
        (
            vec!["localhost:1", "localhost_1"],
            "names instance localhost_1 a second time",
        ),
        (vec![".."], "invalid instance name"),
    ] {
        let mut command = Command::new(env!("CARGO_BIN_EXE_strand"));
        command.args(["participant", "--cluster", "C", "--zk", &zk]);
        for instance in &instances {
            command.args(["--instance", instance]);
        }
        let out = command
            .env("RUST_LOG", "off")
            .stdin(Stdio::null())
            .output()
            .expect("run strand participant");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{instances:?}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
        // Had it tried ZooKeeper first, the error would be that nothing
        // answers there.
        assert!(stderr.contains(needle), "{instances:?}: {stderr}");
    }
}

#[test]
fn a_grant_that_does_not_parse_is_one_line_naming_it_before_anything_starts() {
    let port = strand_devcluster::zookeeper::free_port().expect("port");
    let zk = format!("127.0.0.1:{port}");
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("grants.toml");
    std::fs::write(
        &file,
        "[plugins.http-notify]\nallow = [\"http://{host}:{port}\", \"udp:{host}:53\"]\n",
    )
    .expect("write");
    let broken = dir.path().join("broken.toml");
    std::fs::write(&broken, "[plugins.http-notify]\nallow = [\"dns\"\n").expect("write");
    for (grant_args, needles) in [
        (
            vec!["--grant".to_owned(), "nonsense".to_owned()],
            vec!["--grant \"nonsense\": expected PLUGIN=RULE"],
        ),
        (
            vec!["--grant".to_owned(), "http-notify=tcp:{host}".to_owned()],
            vec![
                "grant \"tcp:{host}\" does not parse",
                "a tcp grant needs a port or a port range",
            ],
        ),
        (
            vec![
                "--grant".to_owned(),
                "http-notify=https://app:443".to_owned(),
            ],
            vec![
                "grant \"https://app:443\" does not parse",
                "https is not supported",
            ],
        ),
        (
            vec!["--grants".to_owned(), file.display().to_string()],
            vec![
                "grants.toml",
                "[plugins.http-notify] allow: grant \"udp:{host}:53\" does not parse: udp is not supported",
            ],
        ),
        (
            vec!["--grants".to_owned(), broken.display().to_string()],
            vec!["broken.toml: line "],
        ),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_strand"))
            .args([
                "participant",
                "--cluster",
                "C",
                "--instance",
                "X",
                "--zk",
                &zk,
            ])
            .args(&grant_args)
            .env("RUST_LOG", "off")
            .stdin(Stdio::null())
            .output()
            .expect("run strand participant");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{grant_args:?}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
        for needle in needles {
            assert!(stderr.contains(needle), "{grant_args:?}: {stderr}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_named_without_a_port_joins() {
    let server = LocalZk::start().expect("zookeeper");
    let zk = server.connect_string();
    let admin = Admin::connect(&zk).await.expect("admin");
    admin.add_cluster("C").await.expect("cluster");
    assert_eq!(admin.add_instance("C", "P0").await.expect("instance"), "P0");
    let cache = tempfile::tempdir().expect("cache dir");
    let mut participant = spawn_participant(&zk, "P0", cache.path());
    let path = PropertyPaths::new("C").live_instance("P0");
    wait_until("P0 live", async || {
        admin.zk().exists(&path).await.ok().flatten().is_some()
    })
    .await;
    participant.kill().expect("stop");
    let _ = participant.wait();
}
