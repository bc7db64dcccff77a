//! `strand plugin deploy | list | history | rollback | remove` against a
//! real ZooKeeper with the real plugins, and a `strand participant`
//! process with no local plugins following deployments. Refusals are one
//! line on stderr with exit status 1.

use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use strand_devcluster::plugins::{names, plugin_path};
use strand_devcluster::zookeeper::LocalZk;

const DEADLINE: Duration = Duration::from_secs(60);

fn strand(zk: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_strand"))
        .args(args)
        .args(["--zk", zk])
        .env_remove("STRAND_ZK")
        .env("RUST_LOG", "off")
        .output()
        .expect("run strand")
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "stdout: {} stderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn json(out: Output) -> Value {
    serde_json::from_str(&ok(out)).expect("json output")
}

fn refused(out: &Output, needle: &str) {
    assert_eq!(
        out.status.code(),
        Some(1),
        "expected exit 1; stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "stderr: {err}");
    assert!(err.contains(needle), "stderr {err:?} lacks {needle:?}");
}

fn path(plugin: &str) -> String {
    plugin_path(plugin)
        .expect("plugin built")
        .display()
        .to_string()
}

fn setup(zk: &str) {
    ok(strand(zk, &["admin", "add-cluster", "C"]));
    ok(strand(zk, &["admin", "add-instance", "C", "localhost:1"]));
    ok(strand(
        zk,
        &["admin", "add-resource", "C", "db", "2", "MasterSlave"],
    ));
}

#[test]
fn deploy_list_history_rollback_and_remove() {
    let server = LocalZk::start().expect("zookeeper");
    let zk = server.connect_string();
    setup(&zk);
    let c = ["--cluster", "C"];

    let text = ok(strand(
        &zk,
        &[&["plugin", "deploy"][..], &c, &[&path(names::MASTER_SLAVE)]].concat(),
    ));
    assert!(text.contains("deployed MasterSlave 0.1.0"), "{text}");
    let d = json(strand(
        &zk,
        &[
            &["plugin", "deploy", "--json", "--by", "ci"][..],
            &c,
            &[&path(names::MASTER_SLAVE_NEXT)],
        ]
        .concat(),
    ));
    assert_eq!(d["version"], "0.2.0");
    assert_eq!(d["active"], true);
    assert_eq!(d["deployed_by"], "ci");
    assert_eq!(d["kind"], "state_model");

    let list = json(strand(
        &zk,
        &[&["plugin", "list", "--json"][..], &c].concat(),
    ));
    assert_eq!(list[0]["name"], "MasterSlave");
    assert_eq!(list[0]["active"]["version"], "0.2.0");
    assert_eq!(list[0]["versions"], serde_json::json!(["0.1.0", "0.2.0"]));

    let history = ok(strand(
        &zk,
        &[&["plugin", "history"][..], &c, &["MasterSlave"]].concat(),
    ));
    assert!(history.contains("* 0.2.0"), "{history}");
    assert!(history.contains("  0.1.0"), "{history}");

    let back = ok(strand(
        &zk,
        &[&["plugin", "rollback"][..], &c, &["MasterSlave"]].concat(),
    ));
    assert!(back.contains("MasterSlave 0.1.0"), "{back}");

    refused(
        &strand(
            &zk,
            &[
                &["plugin", "remove"][..],
                &c,
                &["MasterSlave", "--version", "0.1.0"],
            ]
            .concat(),
        ),
        "active version",
    );
    let removed = ok(strand(
        &zk,
        &[
            &["plugin", "remove"][..],
            &c,
            &["MasterSlave", "--version", "0.2.0"],
        ]
        .concat(),
    ));
    assert!(removed.contains("removed MasterSlave 0.2.0"), "{removed}");
    let history = json(strand(
        &zk,
        &[&["plugin", "history", "--json"][..], &c, &["MasterSlave"]].concat(),
    ));
    assert_eq!(history.as_array().map(Vec::len), Some(1));
}

#[test]
fn refusals_are_one_line_and_change_nothing() {
    let server = LocalZk::start().expect("zookeeper");
    let zk = server.connect_string();
    setup(&zk);
    let c = ["--cluster", "C"];
    let listed = || {
        json(strand(
            &zk,
            &[&["plugin", "list", "--json"][..], &c].concat(),
        ))
    };

    refused(
        &strand(
            &zk,
            &[
                &["plugin", "deploy", "--max-size", "1K"][..],
                &c,
                &[&path(names::MASTER_SLAVE)],
            ]
            .concat(),
        ),
        "over the limit of 1024 bytes",
    );
    refused(
        &strand(
            &zk,
            &[&["plugin", "deploy"][..], &c, &[&path(names::WRONG_WORLD)]].concat(),
        ),
        "invalid",
    );
    refused(
        &strand(
            &zk,
            &[
                &["plugin", "deploy", "--name", "MasterSlave"][..],
                &c,
                &[&path(names::ONLINE_OFFLINE)],
            ]
            .concat(),
        ),
        "changes its states",
    );
    refused(
        &strand(
            &zk,
            &[
                "plugin",
                "deploy",
                "--cluster",
                "NOPE",
                &path(names::MASTER_SLAVE),
            ],
        ),
        "cluster NOPE",
    );
    refused(
        &strand(
            &zk,
            &[&["plugin", "history"][..], &c, &["Nothing"]].concat(),
        ),
        "not found",
    );
    assert_eq!(listed(), serde_json::json!([]), "nothing was deployed");

    let forced = ok(strand(
        &zk,
        &[
            &["plugin", "deploy", "--force", "--name", "MasterSlave"][..],
            &c,
            &[&path(names::ONLINE_OFFLINE)],
        ]
        .concat(),
    ));
    assert!(forced.contains("deployed MasterSlave"), "{forced}");
}

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
    }
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < DEADLINE, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_participant_without_local_plugins_follows_deployments() {
    let server = LocalZk::start().expect("zookeeper");
    let zk = server.connect_string();
    setup(&zk);
    let c = ["--cluster", "C"];
    ok(strand(
        &zk,
        &[&["plugin", "deploy"][..], &c, &[&path(names::MASTER_SLAVE)]].concat(),
    ));
    let cache = tempfile::tempdir().expect("cache dir");
    let _participant = Running(
        Command::new(env!("CARGO_BIN_EXE_strand"))
            .args(["participant", "--cluster", "C", "--instance", "localhost_1"])
            .arg("--cache-dir")
            .arg(cache.path())
            .args(["--zk", &zk])
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn strand participant"),
    );
    let runs = |version: &str| {
        let list = json(strand(
            &zk,
            &[&["plugin", "list", "--json"][..], &c].concat(),
        ));
        list[0]["instances"].as_array().is_some_and(|i| {
            i.iter()
                .any(|s| s["instance"] == "localhost_1" && s["active_version"] == version)
        })
    };
    wait_for("the participant to run 0.1.0", || runs("0.1.0"));
    ok(strand(
        &zk,
        &[
            &["plugin", "deploy"][..],
            &c,
            &[&path(names::MASTER_SLAVE_NEXT)],
        ]
        .concat(),
    ));
    wait_for("the participant to run 0.2.0", || runs("0.2.0"));
    let text = ok(strand(&zk, &[&["plugin", "list"][..], &c].concat()));
    assert!(text.contains("localhost_1"), "{text}");
    assert!(text.contains("runs 0.2.0"), "{text}");
}
