//! The `strand admin` command line against a real ZooKeeper: output,
//! `--zk` placement, and one clear stderr line with a non-zero exit for
//! every kind of bad input.

use std::process::{Command, Output};

use strand_devcluster::zookeeper::LocalZk;

fn strand(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_strand"))
        .args(args)
        .env_remove("STRAND_ZK")
        .env("RUST_LOG", "off")
        .output()
        .expect("run strand")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts a failure with exactly one line on stderr containing `needle`.
fn assert_one_line_error(out: &Output, needle: &str) {
    assert!(
        !out.status.success(),
        "expected failure, got {:?}",
        out.status
    );
    let err = stderr(out);
    assert_eq!(err.trim_end().lines().count(), 1, "stderr: {err}");
    assert!(err.contains(needle), "stderr {err:?} lacks {needle:?}");
}

#[test]
fn admin_commands_work_with_zk_before_or_after_the_subcommand() {
    let server = LocalZk::start().expect("zookeeper");
    let zk = server.connect_string();
    let ok = |out: Output| {
        assert!(
            out.status.success(),
            "stdout: {} stderr: {}",
            stdout(&out),
            stderr(&out)
        );
        out
    };
    ok(strand(&["--zk", &zk, "admin", "add-cluster", "MYCLUSTER"]));
    ok(strand(&[
        "admin",
        "add-instance",
        "MYCLUSTER",
        "localhost:12913",
        "--zk",
        &zk,
    ]));
    ok(strand(&[
        "admin",
        "--zk",
        &zk,
        "add-instance",
        "MYCLUSTER",
        "localhost:12914",
    ]));
    ok(strand(&[
        "admin",
        "add-resource",
        "MYCLUSTER",
        "myDB",
        "6",
        "LeaderStandby",
        "--zk",
        &zk,
    ]));
    ok(strand(&[
        "admin",
        "rebalance",
        "MYCLUSTER",
        "myDB",
        "2",
        "--zk",
        &zk,
    ]));
    ok(strand(&[
        "admin",
        "customized-state-config",
        "MYCLUSTER",
        "add-type",
        "T0",
        "--zk",
        &zk,
    ]));
    let listed = ok(strand(&["admin", "list-clusters", "--zk", &zk]));
    assert_eq!(stdout(&listed).trim(), "MYCLUSTER");
    let info = ok(strand(&["admin", "cluster-info", "MYCLUSTER", "--zk", &zk]));
    let text = stdout(&info);
    assert!(
        text.contains("localhost_12913") && text.contains("myDB"),
        "{text}"
    );
    let json = ok(strand(&[
        "admin",
        "cluster-info",
        "MYCLUSTER",
        "--json",
        "--zk",
        &zk,
    ]));
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
    assert_eq!(value["resources"][0]["partitions"], 6);
    let types = ok(strand(&[
        "admin",
        "customized-state-config",
        "MYCLUSTER",
        "get",
        "--zk",
        &zk,
    ]));
    assert_eq!(stdout(&types).trim(), "T0");
    let dump = ok(strand(&[
        "admin",
        "dump",
        "/MYCLUSTER/IDEALSTATES",
        "--zk",
        &zk,
    ]));
    assert!(stdout(&dump).contains("\"STATE_MODEL_DEF_REF\" : \"LeaderStandby\""));
    ok(strand(&[
        "admin",
        "disable-instance",
        "MYCLUSTER",
        "localhost_12913",
        "--zk",
        &zk,
    ]));
    ok(strand(&[
        "admin",
        "enable-instance",
        "MYCLUSTER",
        "localhost_12913",
        "--zk",
        &zk,
    ]));
    ok(strand(&[
        "admin",
        "drop-resource",
        "MYCLUSTER",
        "myDB",
        "--zk",
        &zk,
    ]));
    ok(strand(&[
        "admin",
        "drop-instance",
        "MYCLUSTER",
        "localhost_12914",
        "--zk",
        &zk,
    ]));
    ok(strand(&["admin", "drop-cluster", "MYCLUSTER", "--zk", &zk]));
}

#[test]
fn bad_input_gets_one_clear_line_and_a_failure_status() {
    let server = LocalZk::start().expect("zookeeper");
    let zk = server.connect_string();
    assert!(
        strand(&["admin", "add-cluster", "C", "--zk", &zk])
            .status
            .success()
    );
    assert!(
        strand(&["admin", "add-instance", "C", "h:1", "--zk", &zk])
            .status
            .success()
    );

    assert_one_line_error(
        &strand(&["admin", "add-cluster", "C", "--zk", &zk]),
        "already exists",
    );
    assert_one_line_error(
        &strand(&["admin", "add-instance", "NOPE", "h:2", "--zk", &zk]),
        "NOPE",
    );
    assert_one_line_error(
        &strand(&["admin", "add-instance", "C", "h_1", "--zk", &zk]),
        "h_1",
    );
    assert_one_line_error(
        &strand(&["admin", "add-resource", "C", "R", "4", "Nope", "--zk", &zk]),
        "state model Nope",
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{ not json").expect("write");
    assert_one_line_error(
        &strand(&[
            "admin",
            "add-state-model-def",
            "C",
            bad.to_str().expect("utf8"),
            "--zk",
            &zk,
        ]),
        "not a state model definition",
    );
    assert_one_line_error(
        &strand(&[
            "admin",
            "add-state-model-def",
            "C",
            "/no/such/file.json",
            "--zk",
            &zk,
        ]),
        "/no/such/file.json",
    );

    // An unreachable ZooKeeper: a clear error, quickly.
    let port = strand_devcluster::zookeeper::free_port().expect("port");
    let unreachable = format!("127.0.0.1:{port}");
    let started = std::time::Instant::now();
    assert_one_line_error(
        &strand(&["admin", "list-clusters", "--zk", &unreachable]),
        &unreachable,
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(30));

    // Names ZooKeeper cannot take, and partition counts no record holds.
    for (args, needle) in [
        (vec!["add-cluster", ".."], "relative paths"),
        (vec!["add-instance", "C", "h\u{1}x"], "control characters"),
        (
            vec!["add-resource", "C", "db\u{1F600}", "4", "MasterSlave"],
            "emoji",
        ),
        (
            vec!["add-resource", "C", "R", "4000000000", "MasterSlave"],
            "cannot fit in one ZooKeeper record",
        ),
        (
            vec![
                "add-resource",
                "C",
                "R",
                "900000",
                "MasterSlave",
                "--mode",
                "FULL_AUTO",
            ],
            "cannot fit in one ZooKeeper record",
        ),
        (vec!["rebalance", "C", "NOPE", "0"], "NOPE"),
    ] {
        let mut all = vec!["--zk", zk.as_str(), "admin"];
        all.extend(args.iter().copied());
        assert_one_line_error(&strand(&all), needle);
    }
    // A chroot that does not exist is an error, not an empty listing.
    assert_one_line_error(
        &strand(&[
            "admin",
            "list-clusters",
            "--zk",
            &format!("{zk}/no-such-chroot"),
        ]),
        "the chroot /no-such-chroot does not exist",
    );
    // A credentials file that is missing or malformed: one line.
    assert_one_line_error(
        &strand(&[
            "--zk-auth-file",
            "/no/such/creds",
            "admin",
            "list-clusters",
            "--zk",
            &zk,
        ]),
        "/no/such/creds",
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let creds = dir.path().join("creds");
    std::fs::write(&creds, "no-colon-here\n").expect("write");
    assert_one_line_error(
        &strand(&[
            "--zk-auth-file",
            creds.to_str().expect("utf8"),
            "admin",
            "list-clusters",
            "--zk",
            &zk,
        ]),
        "user:password",
    );
    // --acl needs credentials.
    assert_one_line_error(
        &strand(&["admin", "add-cluster", "D", "--acl", "--zk", &zk]),
        "needs ZooKeeper credentials",
    );
    let out = strand(&["admin", "add-cluster", "D", "--private-reads", "--zk", &zk]);
    assert_one_line_error(&out, "--private-reads only makes sense with --acl");
    let out = strand(&[
        "admin",
        "add-cluster",
        "D",
        "--acl-entry",
        "bogus",
        "--zk",
        &zk,
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));

    // Flags that make no sense are usage errors (exit 2).
    let out = strand(&[
        "admin",
        "add-resource",
        "C",
        "R",
        "many",
        "MasterSlave",
        "--zk",
        &zk,
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

#[test]
fn instances_without_a_port_and_json_with_one_key_spelling() {
    let server = LocalZk::start().expect("zookeeper");
    let zk = server.connect_string();
    let run = |args: &[&str]| {
        let mut all = vec!["--zk", zk.as_str(), "admin"];
        all.extend_from_slice(args);
        let out = strand(&all);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        out
    };
    run(&["add-cluster", "TUTORIAL"]);
    // Helix's customized-view tutorial names its instances P0 and P1.
    assert_eq!(
        stdout(&run(&["add-instance", "TUTORIAL", "P0"])).trim(),
        "Added instance P0 to TUTORIAL"
    );
    run(&["add-instance", "TUTORIAL", "P1"]);
    run(&[
        "add-resource",
        "TUTORIAL",
        "MyResource",
        "2",
        "OnlineOffline",
    ]);
    run(&["rebalance", "TUTORIAL", "MyResource", "2"]);
    run(&[
        "customized-state-config",
        "TUTORIAL",
        "add-type",
        "CUSTOMIZED_STATE_TYPE_1",
    ]);

    let json = |args: &[&str]| -> serde_json::Value {
        serde_json::from_slice(&run(args).stdout).expect("JSON output")
    };
    let info = json(&["cluster-info", "TUTORIAL", "--json"]);
    assert_eq!(info["instances"][0]["id"], "P0");
    assert_eq!(info["resources"][0]["state_model"], "OnlineOffline");
    assert!(info["resources"][0]["external_view"].is_object());
    assert_eq!(info["state_models"].as_array().map(Vec::len), Some(7));
    assert_eq!(
        info["customized_state_types"],
        serde_json::json!(["CUSTOMIZED_STATE_TYPE_1"])
    );
    assert_eq!(
        json(&["list-clusters", "--json"]),
        serde_json::json!({ "clusters": ["TUTORIAL"] })
    );
    assert_eq!(
        json(&["customized-state-config", "TUTORIAL", "get", "--json"]),
        serde_json::json!({
            "cluster": "TUTORIAL",
            "customized_state_types": ["CUSTOMIZED_STATE_TYPE_1"],
        })
    );
    assert_eq!(
        json(&["list-aggregators", "TUTORIAL", "--json"]),
        serde_json::json!({ "cluster": "TUTORIAL", "aggregators": {} })
    );
    let dump = json(&["dump", "/TUTORIAL/CONFIGS/PARTICIPANT", "--json"]);
    let nodes = dump["znodes"].as_array().expect("znodes");
    let p0 = nodes
        .iter()
        .find(|n| n["path"] == "/TUTORIAL/CONFIGS/PARTICIPANT/P0")
        .expect("P0 dumped");
    assert_eq!(p0["record"]["simpleFields"]["HELIX_HOST"], "P0");
    assert!(p0["ephemeral_session"].is_null());
    // Every key of every document is snake_case (records keep Helix's).
    fn keys_are_snake_case(value: &serde_json::Value, path: &str) {
        if let Some(map) = value.as_object() {
            for (key, inner) in map {
                if key == "record" {
                    continue;
                }
                assert!(
                    key.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                    "{path}.{key}"
                );
                if !matches!(key.as_str(), "external_view" | "aggregators") {
                    keys_are_snake_case(inner, &format!("{path}.{key}"));
                }
            }
        } else if let Some(items) = value.as_array() {
            for item in items {
                keys_are_snake_case(item, path);
            }
        }
    }
    keys_are_snake_case(&info, "cluster-info");
    keys_are_snake_case(&dump, "dump");
}

#[test]
fn aggregators_are_deployed_bound_listed_and_unbound() {
    use strand_devcluster::plugins::{names, plugin_path};
    let server = LocalZk::start().expect("zookeeper");
    let zk = server.connect_string();
    let summary = plugin_path(names::PARTITION_SUMMARY).expect("plugin");
    let summary = summary.to_str().expect("utf-8 path");
    let state_model = plugin_path(names::MASTER_SLAVE).expect("plugin");
    let state_model = state_model.to_str().expect("utf-8 path");
    let run = |args: &[&str]| {
        let mut all = vec!["--zk", zk.as_str(), "admin"];
        all.extend_from_slice(args);
        strand(&all)
    };
    assert!(run(&["add-cluster", "AGG"]).status.success());

    // Refusals change nothing.
    assert_one_line_error(&run(&["set-aggregator", "NOPE", "DEPLOY", summary]), "NOPE");
    assert_one_line_error(
        &run(&["set-aggregator", "AGG", "DEPLOY", state_model]),
        "not the aggregator world",
    );
    assert_one_line_error(
        &run(&["set-aggregator", "AGG", "DEPLOY", "--plugin", "missing"]),
        "no plugin named missing",
    );
    assert_eq!(stdout(&run(&["list-aggregators", "AGG"])), "");

    let out = run(&["set-aggregator", "AGG", "DEPLOY", summary]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("DEPLOY is aggregated by partition-summary"));
    assert!(stderr(&out).contains("add-type DEPLOY"), "{}", stderr(&out));
    let out = run(&[
        "set-aggregator",
        "AGG",
        "OTHER",
        "--plugin",
        "partition-summary",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&run(&["list-aggregators", "AGG"])),
        "DEPLOY\tpartition-summary\nOTHER\tpartition-summary\n"
    );
    assert!(
        run(&["remove-aggregator", "AGG", "DEPLOY"])
            .status
            .success()
    );
    assert_one_line_error(
        &run(&["remove-aggregator", "AGG", "DEPLOY"]),
        "no aggregator",
    );
    assert_eq!(
        stdout(&run(&["list-aggregators", "AGG"])),
        "OTHER\tpartition-summary\n"
    );
}

#[test]
fn drain_and_undrain_instance_set_helix_instance_operations() {
    let server = LocalZk::start().expect("zookeeper");
    let zk = server.connect_string();
    let run = |args: &[&str]| {
        let mut all = vec!["--zk", zk.as_str(), "admin"];
        all.extend_from_slice(args);
        let out = strand(&all);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        stdout(&out)
    };
    run(&["add-cluster", "C"]);
    run(&["add-instance", "C", "localhost:12913"]);
    let said = run(&[
        "drain-instance",
        "C",
        "localhost_12913",
        "--reason",
        "disk swap",
    ]);
    assert!(said.contains("Draining localhost_12913"), "{said}");
    let operations = |dump: String| -> Vec<serde_json::Value> {
        let dump: serde_json::Value = serde_json::from_str(&dump).expect("json");
        dump["znodes"][0]["record"]["listFields"]["HELIX_INSTANCE_OPERATIONS"]
            .as_array()
            .map(|ops| {
                ops.iter()
                    .map(|op| serde_json::from_str(op.as_str().expect("string")).expect("json"))
                    .collect()
            })
            .unwrap_or_default()
    };
    let dump = || run(&["dump", "/C/CONFIGS/PARTICIPANT/localhost_12913", "--json"]);
    let ops = operations(dump());
    assert_eq!(ops.len(), 1, "{ops:?}");
    assert_eq!(ops[0]["OPERATION"], "EVACUATE");
    assert_eq!(ops[0]["REASON"], "disk swap");
    // Not live: nothing is left on it, so --wait returns at once.
    let said = run(&[
        "drain-instance",
        "C",
        "localhost_12913",
        "--wait",
        "--timeout",
        "10s",
    ]);
    assert!(said.contains("Drained localhost_12913"), "{said}");
    run(&["undrain-instance", "C", "localhost_12913"]);
    let ops = operations(dump());
    assert_eq!(ops[0]["OPERATION"], "ENABLE", "{ops:?}");
    assert_eq!(ops.len(), 1, "{ops:?}");
    assert_one_line_error(
        &strand(&["--zk", &zk, "admin", "drain-instance", "C", "nobody_1"]),
        "instance nobody_1 is not in cluster C",
    );
}

#[test]
fn instance_tags_are_added_listed_and_removed_under_both_names() {
    let server = LocalZk::start().expect("zookeeper");
    let zk = server.connect_string();
    let run = |args: &[&str]| admin_ok(&zk, args);
    run(&["add-cluster", "TAGS"]);
    for instance in ["localhost_1", "localhost_2"] {
        run(&["add-instance", "TAGS", instance]);
    }
    run(&["add-instance-tag", "TAGS", "localhost_2", "ssd"]);
    // Helix's camelCase name, twice: the tag is added once.
    run(&["addInstanceTag", "TAGS", "localhost_2", "ssd"]);
    let tagged = run(&["list-instances", "TAGS", "--tag", "ssd"]);
    assert_eq!(tagged.trim(), "localhost_2");
    let all: serde_json::Value =
        serde_json::from_str(&run(&["listInstances", "TAGS", "--json"])).expect("json");
    assert_eq!(
        all["instances"],
        serde_json::json!(["localhost_1", "localhost_2"])
    );
    let dump: serde_json::Value = serde_json::from_str(&run(&[
        "dump",
        "/TAGS/CONFIGS/PARTICIPANT/localhost_2",
        "--json",
    ]))
    .expect("json");
    assert_eq!(
        dump["znodes"][0]["record"]["listFields"]["TAG_LIST"],
        serde_json::json!(["ssd"])
    );

    run(&["removeInstanceTag", "TAGS", "localhost_2", "ssd"]);
    assert_eq!(run(&["list-instances", "TAGS", "--tag", "ssd"]).trim(), "");

    assert_each_refused(
        &zk,
        &[
            (
                &["add-instance-tag", "TAGS", "localhost_2", ""],
                "invalid instance tag",
            ),
            (&["add-instance-tag", "TAGS", "nobody", "ssd"], "nobody"),
            (&["add-instance-tag", "NOPE", "localhost_2", "ssd"], "NOPE"),
        ],
    );
}

#[test]
fn scoped_configs_resources_and_clusters_as_helix_admin_has_them() {
    let server = LocalZk::start().expect("zookeeper");
    let zk = server.connect_string();
    let run = |args: &[&str]| admin_ok(&zk, args);
    run(&["add-cluster", "CFG"]);
    run(&["add-instance", "CFG", "localhost_1"]);
    run(&["add-resource", "CFG", "db", "2", "MasterSlave"]);

    // Every scope, under Helix's names: set, get (Helix's ZNRecord), remove.
    for (scope, args) in [
        ("CLUSTER", "CFG"),
        ("PARTICIPANT", "CFG,localhost_1"),
        ("RESOURCE", "CFG,db"),
        ("PARTITION", "CFG,db,db_0"),
    ] {
        run(&["setConfig", scope, args, "k1=v1,k2=v2"]);
        let got: serde_json::Value =
            serde_json::from_str(&run(&["get-config", scope, args, "k1,k2,k3"])).expect("json");
        assert_eq!(got["id"], scope);
        assert_eq!(
            got["simpleFields"],
            serde_json::json!({"k1": "v1", "k2": "v2"}),
            "{scope}"
        );
        run(&["removeConfig", scope, args, "k1"]);
        let got: serde_json::Value =
            serde_json::from_str(&run(&["getConfig", scope, args, "k1,k2"])).expect("json");
        assert_eq!(
            got["simpleFields"],
            serde_json::json!({"k2": "v2"}),
            "{scope}"
        );
    }
    // Where they live: the partition's keys in its resource's config.
    let dump: serde_json::Value =
        serde_json::from_str(&run(&["dump", "/CFG/CONFIGS/RESOURCE/db", "--json"])).expect("json");
    let record = &dump["znodes"][0]["record"];
    assert_eq!(record["simpleFields"]["k2"], "v2");
    assert_eq!(record["mapFields"]["db_0"]["k2"], "v2");

    // Resources and clusters on and off.
    run(&["disable-resource", "CFG", "db"]);
    let ideal = run(&["dump", "/CFG/IDEALSTATES/db"]);
    assert!(ideal.contains("\"HELIX_ENABLED\" : \"false\""), "{ideal}");
    run(&["enable-resource", "CFG", "db"]);
    run(&["disable-cluster", "CFG", "--reason", "upgrade"]);
    assert!(run(&["dump", "/CFG/CONTROLLER/PAUSE"]).contains("upgrade"));
    run(&["enable-cluster", "CFG"]);

    // A resource from a whole IdealState file (Helix's addIdealState).
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("ideal.json");
    std::fs::write(
        &file,
        r#"{"id":"ext","simpleFields":{"NUM_PARTITIONS":"1","REBALANCE_MODE":"SEMI_AUTO","REPLICAS":"1","STATE_MODEL_DEF_REF":"OnlineOffline"},"listFields":{"ext_0":["localhost_1"]},"mapFields":{"ext_0":{}}}"#,
    )
    .expect("write");
    let path = file.to_str().expect("UTF-8 path");
    run(&["addIdealState", "CFG", "ext", path]);
    assert!(run(&["dump", "/CFG/IDEALSTATES/ext"]).contains("OnlineOffline"));

    // Bad input: one line, a failure.
    assert_each_refused(
        &zk,
        &[
            (
                &["set-config", "CLOUD", "CFG", "k=v"],
                "unknown config scope",
            ),
            (
                &["set-config", "RESOURCE", "CFG", "k=v"],
                "CLUSTER,RESOURCE",
            ),
            (&["set-config", "RESOURCE", "CFG,nodb", "k=v"], "nodb"),
            (&["set-config", "CLUSTER", "CFG", "novalue"], "key=value"),
            (
                &["set-config", "PARTICIPANT", "CFG,nobody", "k=v"],
                "nobody",
            ),
            (&["disable-resource", "CFG", "nodb"], "nodb"),
            (&["add-ideal-state", "CFG", "other", path], "does not match"),
        ],
    );
}

/// Runs `strand admin ARGS --zk ZK`, which must succeed; its stdout.
fn admin_ok(zk: &str, args: &[&str]) -> String {
    let mut full = vec!["admin"];
    full.extend(args);
    full.extend(["--zk", zk]);
    let out = strand(&full);
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    stdout(&out)
}

/// Each `strand admin ARGS` fails with one stderr line naming the problem.
fn assert_each_refused(zk: &str, cases: &[(&[&str], &str)]) {
    for (args, needle) in cases {
        let mut full = vec!["admin"];
        full.extend(args.iter());
        full.extend(["--zk", zk]);
        assert_one_line_error(&strand(&full), needle);
    }
}
