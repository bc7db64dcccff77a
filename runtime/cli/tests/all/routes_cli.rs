//! `strand routes` against a real ZooKeeper, with the views written
//! directly: the table, JSON, filters, `--watch` printing only when what
//! it shows changed,
//! and one clear stderr line for bad input.

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use strand_admin::Admin;
use strand_devcluster::zookeeper::LocalZk;
use strand_model::{LiveInstance, PropertyPaths, SessionId, ZNRecord};
use strand_zk::{CreateKind, Zk};

const CLUSTER: &str = "ROUTES_CLI";

fn strand(zk: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_strand"))
        .args(["--zk", zk])
        .args(args)
        .env_remove("STRAND_ZK")
        .env("RUST_LOG", "off")
        .output()
        .expect("run strand")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn view(resource: &str, entries: &[(&str, &str, &str)]) -> ZNRecord {
    let mut record = ZNRecord::new(resource);
    for (partition, instance, state) in entries {
        record
            .map_mut(*partition)
            .insert((*instance).to_owned(), (*state).to_owned());
    }
    record
}

async fn set_up(server: &LocalZk) -> (Admin, Zk) {
    let admin = Admin::connect(&server.connect_string())
        .await
        .expect("admin");
    admin.add_cluster(CLUSTER).await.expect("cluster");
    for i in ["a_1", "b_1"] {
        admin.add_instance(CLUSTER, i).await.expect("instance");
    }
    admin
        .add_resource(
            CLUSTER,
            "DB",
            2,
            "MasterSlave",
            strand_admin::RebalanceMode::SemiAuto,
        )
        .await
        .expect("resource");
    admin
        .add_customized_state_type(CLUSTER, "DEPLOY")
        .await
        .expect("type");
    let live = Zk::connect_to(&server.connect_string())
        .await
        .expect("session");
    for i in ["a_1", "b_1"] {
        let record = LiveInstance::new(i, SessionId::from_i64(1), "test", "1@test");
        live.create(
            &PropertyPaths::new(CLUSTER).live_instance(i),
            &record.to_bytes().expect("encode"),
            CreateKind::Ephemeral,
        )
        .await
        .expect("live");
    }
    admin
        .accessor()
        .put(
            &PropertyPaths::new(CLUSTER).external_view("DB"),
            &view(
                "DB",
                &[
                    ("DB_0", "a_1", "MASTER"),
                    ("DB_0", "b_1", "SLAVE"),
                    ("DB_1", "a_1", "SLAVE"),
                    ("DB_1", "b_1", "MASTER"),
                ],
            ),
        )
        .await
        .expect("view");
    (admin, live)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prints_tables_json_and_filters() {
    let server = LocalZk::start().expect("zookeeper");
    let zk = server.connect_string();
    let (_admin, _live) = set_up(&server).await;

    let out = strand(&zk, &["routes", "--cluster", CLUSTER]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    assert!(table.contains("live instances: a_1, b_1"), "{table}");
    let row = |p: &str| {
        table
            .lines()
            .find(|l| l.starts_with(p))
            .map(|l| l.split_whitespace().collect::<Vec<_>>())
    };
    assert_eq!(row("partition"), Some(vec!["partition", "a_1", "b_1"]));
    assert_eq!(row("DB_0"), Some(vec!["DB_0", "MASTER", "SLAVE"]));
    assert_eq!(row("DB_1"), Some(vec!["DB_1", "SLAVE", "MASTER"]));

    let out = strand(
        &zk,
        &[
            "routes",
            "--cluster",
            CLUSTER,
            "--state",
            "MASTER",
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["source"], "EXTERNALVIEW");
    assert_eq!(
        json["resources"]["DB"],
        serde_json::json!({"DB_0": {"a_1": "MASTER"}, "DB_1": {"b_1": "MASTER"}})
    );
    assert_eq!(json["live_instances"], serde_json::json!(["a_1", "b_1"]));

    let out = strand(
        &zk,
        &[
            "routes",
            "--cluster",
            CLUSTER,
            "--customized",
            "DEPLOY",
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["source"], "CUSTOMIZEDVIEW/DEPLOY");
    assert_eq!(json["resources"], serde_json::json!({}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_prints_a_document_only_when_what_it_shows_changes() {
    let server = LocalZk::start().expect("zookeeper");
    let zk = server.connect_string();
    let (admin, _live) = set_up(&server).await;
    let mut child = Command::new(env!("CARGO_BIN_EXE_strand"))
        .args([
            "--zk",
            &zk,
            "routes",
            "--cluster",
            CLUSTER,
            "--resource",
            "DB",
            "--json",
            "--watch",
        ])
        .env_remove("STRAND_ZK")
        .env("RUST_LOG", "off")
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn strand routes --watch");
    let stdout = child.stdout.take().expect("stdout");
    let (lines_tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let next = || -> serde_json::Value {
        let line = lines
            .recv_timeout(Duration::from_secs(60))
            .expect("a document within 60 s");
        serde_json::from_str(&line).expect("json line")
    };
    let first = next();
    assert_eq!(first["resources"]["DB"]["DB_0"]["a_1"], "MASTER");
    // Changes that do not change what is shown print nothing: the same
    // view written again, and another resource's view.
    let paths = PropertyPaths::new(CLUSTER);
    let (same, _) = admin
        .zk()
        .get(&paths.external_view("DB"))
        .await
        .expect("read")
        .expect("view");
    admin
        .zk()
        .set(&paths.external_view("DB"), &same, None)
        .await
        .expect("rewrite");
    admin
        .accessor()
        .put(
            &paths.external_view("OTHER"),
            &view("OTHER", &[("OTHER_0", "a_1", "ONLINE")]),
        )
        .await
        .expect("other view");
    // The masters swap: the very next document shows it.
    admin
        .accessor()
        .put(
            &PropertyPaths::new(CLUSTER).external_view("DB"),
            &view(
                "DB",
                &[
                    ("DB_0", "a_1", "SLAVE"),
                    ("DB_0", "b_1", "MASTER"),
                    ("DB_1", "a_1", "MASTER"),
                    ("DB_1", "b_1", "SLAVE"),
                ],
            ),
        )
        .await
        .expect("view");
    let doc = next();
    assert!(doc["generation"].as_u64() > first["generation"].as_u64());
    assert_eq!(
        doc["resources"]["DB"]["DB_0"]["b_1"], "MASTER",
        "a document was printed for a change it does not show: {doc}"
    );
    child.kill().expect("kill");
    let _ = child.wait();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_one_clear_line() {
    let server = LocalZk::start().expect("zookeeper");
    let zk = server.connect_string();
    let (_admin, _live) = set_up(&server).await;
    for (args, needle) in [
        (
            vec!["routes", "--cluster", "NOPE"],
            "cluster NOPE is not set up",
        ),
        (
            vec!["routes", "--cluster", CLUSTER, "--resource", "NOPE"],
            "resource NOPE not found",
        ),
        (
            vec!["routes", "--cluster", CLUSTER, "--customized", "OTHER"],
            "not aggregated",
        ),
    ] {
        let out = strand(&zk, &args);
        assert!(!out.status.success(), "{args:?} succeeded");
        let err = text(&out.stderr);
        assert_eq!(err.trim_end().lines().count(), 1, "stderr: {err}");
        assert!(err.contains(needle), "stderr {err:?} lacks {needle:?}");
    }
}
