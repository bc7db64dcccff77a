//! Admin operations against a real ZooKeeper: what they create, and that
//! every refusal leaves ZooKeeper exactly as it was.

use std::collections::BTreeMap;

use strand_admin::{Admin, AdminError, RebalanceMode};
use strand_devcluster::zookeeper::LocalZk;
use strand_model::{
    IdealState, InstanceConfig, PropertyPaths, StateModelDefinition, ZNRecord, builtin,
};
use strand_zk::{CreateKind, Zk};

type TestResult = Result<(), Box<dyn std::error::Error>>;

async fn setup() -> (LocalZk, Admin) {
    let server = LocalZk::start().expect("start ZooKeeper");
    let admin = Admin::connect(&server.connect_string())
        .await
        .expect("connect");
    (server, admin)
}

/// Every znode with its data and version.
async fn snapshot(zk: &Zk) -> BTreeMap<String, (Vec<u8>, i32)> {
    let mut out = BTreeMap::new();
    let mut stack = vec!["/".to_owned()];
    while let Some(path) = stack.pop() {
        if path.starts_with("/zookeeper") {
            continue;
        }
        if let Some((data, stat)) = zk.get(&path).await.expect("read") {
            out.insert(path.clone(), (data, stat.version));
        }
        for child in zk.children(&path).await.expect("list") {
            stack.push(strand_zk::join(&path, &child));
        }
    }
    out
}

#[tokio::test]
async fn add_cluster_creates_helix_layout_and_builtin_models() -> TestResult {
    let (_server, admin) = setup().await;
    admin.add_cluster("DEMO_").await?;
    let paths = PropertyPaths::new("DEMO_");
    for path in paths.cluster_creation_paths() {
        assert!(admin.zk().exists(&path).await?.is_some(), "{path} missing");
    }
    assert!(admin.is_cluster_setup("DEMO_").await?);
    // The same state model definitions as Helix writes.
    for name in ["MasterSlave", "OnlineOffline", "LeaderStandby"] {
        let stored = admin.state_model("DEMO_", name).await?;
        let expected = builtin::by_name(name).expect("builtin");
        assert_eq!(stored.record(), expected.record(), "{name}");
    }
    // The ClusterConfig and HISTORY records Helix writes.
    let config = admin
        .accessor()
        .get(&paths.cluster_config())
        .await?
        .expect("config")
        .value;
    assert_eq!(config.id, "DEMO_");
    let history = admin
        .accessor()
        .get(&paths.controller_history())
        .await?
        .expect("history")
        .value;
    assert_eq!(history.id, "HISTORY");
    assert_eq!(history.list("DEMO_"), Some(&[][..]));
    assert_eq!(admin.list_clusters().await?, vec!["DEMO_"]);
    Ok(())
}

#[tokio::test]
async fn refusals_change_nothing() -> TestResult {
    let (_server, admin) = setup().await;
    admin.add_cluster("C").await?;
    admin.add_instance("C", "localhost:12001").await?;
    admin
        .add_resource("C", "DB", 4, "MasterSlave", RebalanceMode::SemiAuto)
        .await?;
    // An IdealState written by another tool with a count no record holds.
    let mut absurd = IdealState::for_new_resource(
        "HUGE",
        2_000_000_000,
        "MasterSlave",
        RebalanceMode::FullAuto,
        "DEFAULT",
    );
    absurd.set_replicas(strand_model::Replicas::Count(3));
    admin
        .accessor()
        .create(
            &PropertyPaths::new("C").ideal_state("HUGE"),
            absurd.record(),
            CreateKind::Persistent,
        )
        .await?;
    let before = snapshot(admin.zk()).await;

    let cases: Vec<(&str, AdminError)> = vec![
        (
            "duplicate cluster",
            admin.add_cluster("C").await.expect_err("dup"),
        ),
        (
            "unknown cluster",
            admin
                .add_instance("NOPE", "h:1")
                .await
                .expect_err("unknown"),
        ),
        (
            "duplicate instance",
            admin
                .add_instance("C", "localhost_12001")
                .await
                .expect_err("dup"),
        ),
        (
            "bad instance",
            admin.add_instance("C", "no/slash").await.expect_err("bad"),
        ),
        (
            "emoji instance",
            admin
                .add_instance("C", "h\u{1F600}_1")
                .await
                .expect_err("emoji"),
        ),
        (
            "control character in a resource",
            admin
                .add_resource("C", "D\u{7}B", 2, "MasterSlave", RebalanceMode::SemiAuto)
                .await
                .expect_err("control"),
        ),
        (
            "dot-dot resource",
            admin.rebalance("C", "..", 1).await.expect_err("dots"),
        ),
        (
            "absurd partition count",
            admin
                .add_resource("C", "X", u32::MAX, "MasterSlave", RebalanceMode::FullAuto)
                .await
                .expect_err("count"),
        ),
        (
            "partition count over the record limit",
            admin
                .add_resource("C", "X", 900_000, "MasterSlave", RebalanceMode::FullAuto)
                .await
                .expect_err("count"),
        ),
        (
            "rebalance of an absurd count",
            admin.rebalance("C", "HUGE", 3).await.expect_err("count"),
        ),
        (
            "no replicas",
            admin.rebalance("C", "DB", 0).await.expect_err("zero"),
        ),
        (
            "unknown model",
            admin
                .add_resource("C", "X", 2, "NoSuchModel", RebalanceMode::SemiAuto)
                .await
                .expect_err("model"),
        ),
        (
            "duplicate resource",
            admin
                .add_resource("C", "DB", 2, "MasterSlave", RebalanceMode::SemiAuto)
                .await
                .expect_err("dup"),
        ),
        (
            "too many replicas",
            admin.rebalance("C", "DB", 3).await.expect_err("replicas"),
        ),
        (
            "unknown resource",
            admin.rebalance("C", "NOPE", 1).await.expect_err("resource"),
        ),
        (
            "malformed model json",
            admin
                .add_state_model_def("C", b"{ nope")
                .await
                .expect_err("json"),
        ),
        (
            "model without states",
            admin
                .add_state_model_def(
                    "C",
                    br#"{"id":"Bad","simpleFields":{},"listFields":{},"mapFields":{}}"#,
                )
                .await
                .expect_err("invalid"),
        ),
        (
            "duplicate model",
            admin
                .add_state_model_def("C", &builtin::master_slave().record().to_bytes()?)
                .await
                .expect_err("dup"),
        ),
        (
            "unknown instance",
            admin
                .set_instance_enabled("C", "h_9", false, None)
                .await
                .expect_err("inst"),
        ),
        (
            "bad cluster name",
            admin.add_cluster("a/b").await.expect_err("name"),
        ),
        (
            "remove unknown type",
            admin
                .remove_customized_state_type("C", "T")
                .await
                .expect_err("type"),
        ),
    ];
    for (what, err) in &cases {
        let message = err.to_string();
        assert!(
            !message.is_empty() && !message.contains('\n'),
            "{what}: {message:?}"
        );
        if what.contains("count") {
            assert!(message.contains("cannot fit"), "{what}: {message}");
        }
        if what.contains("emoji") || what.contains("control") || what.contains("dot-dot") {
            assert!(message.contains("invalid"), "{what}: {message}");
        }
    }
    assert_eq!(
        snapshot(admin.zk()).await,
        before,
        "a refusal changed ZooKeeper"
    );
    Ok(())
}

#[tokio::test]
async fn instances_are_added_enabled_disabled_and_dropped() -> TestResult {
    let (_server, admin) = setup().await;
    admin.add_cluster("C").await?;
    let id = admin.add_instance("C", "localhost:12001").await?;
    assert_eq!(id, "localhost_12001");
    let paths = PropertyPaths::new("C");
    for path in paths.instance_creation_paths(&id) {
        assert!(admin.zk().exists(&path).await?.is_some(), "{path} missing");
    }
    let config = InstanceConfig::from(
        admin
            .accessor()
            .get(&paths.instance_config(&id))
            .await?
            .expect("cfg")
            .value,
    );
    assert_eq!(
        (config.host(), config.port()),
        (Some("localhost"), Some("12001"))
    );
    assert!(config.instance_enabled());

    // A name without a port is taken as Helix takes it: id and host.
    assert_eq!(admin.add_instance("C", "P0").await?, "P0");
    let p0 = InstanceConfig::from(
        admin
            .accessor()
            .get(&paths.instance_config("P0"))
            .await?
            .expect("cfg")
            .value,
    );
    assert_eq!((p0.host(), p0.port()), (Some("P0"), None));
    for path in paths.instance_creation_paths("P0") {
        assert!(admin.zk().exists(&path).await?.is_some(), "{path} missing");
    }
    admin.drop_instance("C", "P0").await?;

    admin
        .set_instance_enabled("C", &id, false, Some("maintenance"))
        .await?;
    let config = InstanceConfig::from(
        admin
            .accessor()
            .get(&paths.instance_config(&id))
            .await?
            .expect("cfg")
            .value,
    );
    assert!(!config.instance_enabled());
    assert_eq!(config.disabled_reason(), Some("maintenance"));
    admin.set_instance_enabled("C", &id, true, None).await?;
    let info = admin.cluster_info("C").await?;
    assert!(info.instances[0].enabled);

    // A live instance cannot be dropped, nor its cluster.
    admin
        .zk()
        .create(&paths.live_instance(&id), b"", CreateKind::Ephemeral)
        .await?;
    assert!(matches!(
        admin.drop_instance("C", &id).await,
        Err(AdminError::Refused(_))
    ));
    assert!(matches!(
        admin.drop_cluster("C").await,
        Err(AdminError::Refused(_))
    ));
    admin.zk().delete(&paths.live_instance(&id), None).await?;
    admin.drop_instance("C", &id).await?;
    assert!(admin.zk().exists(&paths.instance(&id)).await?.is_none());
    assert!(
        admin
            .zk()
            .exists(&paths.instance_config(&id))
            .await?
            .is_none()
    );
    admin.drop_cluster("C").await?;
    assert!(admin.list_clusters().await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn resources_are_added_rebalanced_and_dropped() -> TestResult {
    let (_server, admin) = setup().await;
    admin.add_cluster("C").await?;
    for port in 12001..=12003 {
        admin
            .add_instance("C", &format!("localhost_{port}"))
            .await?;
    }
    admin
        .add_resource("C", "TestDB", 6, "MasterSlave", RebalanceMode::SemiAuto)
        .await?;
    let fresh = admin.ideal_state("C", "TestDB").await?;
    assert!(
        fresh.partitions().is_empty(),
        "no partitions before rebalance"
    );
    assert_eq!(fresh.record().simple("REPLICAS"), Some("0"));
    assert_eq!(fresh.record().simple("IDEAL_STATE_MODE"), Some("AUTO"));

    admin.rebalance("C", "TestDB", 3).await?;
    let ideal = admin.ideal_state("C", "TestDB").await?;
    assert_eq!(ideal.record().simple("REPLICAS"), Some("3"));
    assert_eq!(ideal.partitions().len(), 6);
    for p in 0..6 {
        let name = format!("TestDB_{p}");
        let list = ideal.preference_list(&name).expect("list");
        assert_eq!(list.len(), 3);
        let states = ideal.instance_state_map(&name).expect("map");
        assert_eq!(states.get(&list[0]).map(String::as_str), Some("MASTER"));
    }
    ideal.validate()?;

    // FULL_AUTO gets empty lists and maps, as in the reference cluster.
    admin
        .add_resource("C", "OODB", 6, "OnlineOffline", RebalanceMode::FullAuto)
        .await?;
    admin.rebalance("C", "OODB", 3).await?;
    let oodb: IdealState = admin.ideal_state("C", "OODB").await?;
    assert_eq!(
        oodb.record().simple("IDEAL_STATE_MODE"),
        Some("AUTO_REBALANCE")
    );
    for p in 0..6 {
        assert_eq!(oodb.preference_list(&format!("OODB_{p}")), Some(&[][..]));
        assert!(
            oodb.instance_state_map(&format!("OODB_{p}"))
                .is_some_and(|m| m.is_empty())
        );
    }

    // Many partitions: every one placed, keys written in Helix's (Java
    // string) order, and the record valid.
    admin
        .add_resource("C", "BigDB", 20_000, "MasterSlave", RebalanceMode::SemiAuto)
        .await?;
    admin.rebalance("C", "BigDB", 3).await?;
    let big = admin.ideal_state("C", "BigDB").await?;
    big.validate()?;
    assert_eq!(big.partitions().len(), 20_000);
    let (data, _) = admin
        .zk()
        .get(&PropertyPaths::new("C").ideal_state("BigDB"))
        .await?
        .expect("written");
    let written = ZNRecord::from_bytes(&data)?.expect("record");
    let keys: Vec<&String> = written.list_fields.keys().collect();
    assert!(
        keys.windows(2)
            .all(|w| strand_model::java::compare_strings(w[0], w[1]).is_lt()),
        "list fields are not in Java string order"
    );
    // A placement too big for one record is refused, and nothing changes.
    admin
        .add_resource(
            "C",
            "HugeDB",
            180_000,
            "MasterSlave",
            RebalanceMode::SemiAuto,
        )
        .await?;
    let before = snapshot(admin.zk()).await;
    let err = admin
        .rebalance("C", "HugeDB", 3)
        .await
        .expect_err("too big")
        .to_string();
    assert!(err.contains("over ZooKeeper's record limit"), "{err}");
    assert_eq!(before, snapshot(admin.zk()).await);
    admin.drop_resource("C", "BigDB").await?;
    admin.drop_resource("C", "HugeDB").await?;

    let info = admin.cluster_info("C").await?;
    assert_eq!(info.resources.len(), 2);
    let json = info.to_json();
    assert_eq!(json["resources"][1]["name"], "TestDB");
    assert!(info.to_string().contains("TestDB"));

    admin.drop_resource("C", "TestDB").await?;
    assert!(matches!(
        admin.ideal_state("C", "TestDB").await,
        Err(AdminError::NoSuchResource { .. })
    ));
    Ok(())
}

#[tokio::test]
async fn custom_state_model_and_customized_state_config() -> TestResult {
    let (_server, admin) = setup().await;
    admin.add_cluster("C").await?;
    let mut custom: ZNRecord = builtin::leader_standby().into_record();
    custom.id = "MyStateModel".into();
    let name = admin.add_state_model_def("C", &custom.to_bytes()?).await?;
    assert_eq!(name, "MyStateModel");
    let stored: StateModelDefinition = admin.state_model("C", "MyStateModel").await?;
    assert_eq!(stored.initial_state(), Some("OFFLINE"));

    admin.add_customized_state_type("C", "T0").await?;
    admin.add_customized_state_type("C", "T1").await?;
    admin.add_customized_state_type("C", "T0").await?;
    assert_eq!(admin.customized_state_types("C").await?, vec!["T0", "T1"]);
    let record = admin
        .accessor()
        .get(&PropertyPaths::new("C").customized_state_config())
        .await?
        .expect("config")
        .value;
    assert_eq!(record.id, "CustomizedStateConfig");
    admin.remove_customized_state_type("C", "T0").await?;
    assert_eq!(admin.customized_state_types("C").await?, vec!["T1"]);

    let dump = admin.dump("/C/CONFIGS").await?;
    assert!(dump.contains("=== /C/CONFIGS/CUSTOMIZED_STATE/C"), "{dump}");
    assert!(
        dump.contains("\"AGGREGATION_ENABLED_TYPES\" : [ \"T1\" ]"),
        "{dump}"
    );
    assert!(admin.dump("/nope").await.is_err());
    Ok(())
}

/// A live instance (its LiveInstance ephemeral on the admin's own session)
/// whose current state of `db` holds `states`.
async fn live_with_states(admin: &Admin, instance: &str, states: &[(&str, &str)]) {
    let zk = admin.zk();
    let paths = PropertyPaths::new("C");
    let session = strand_model::SessionId::parse(&zk.session_id()).expect("session");
    let live = strand_model::LiveInstance::new(instance, session, "2.0.1", "1@test");
    zk.create(
        &paths.live_instance(instance),
        &live.to_bytes().expect("bytes"),
        CreateKind::Ephemeral,
    )
    .await
    .expect("live instance");
    let mut current = strand_model::CurrentState::new("db", session, "MasterSlave", "DEFAULT");
    for (partition, state) in states {
        current.set_state(partition, state);
    }
    zk.create_all(&paths.current_states(instance, session))
        .await
        .expect("current-state dir");
    zk.create(
        &paths.current_state(instance, session, "db"),
        &current.into_record().to_bytes().expect("bytes"),
        CreateKind::Persistent,
    )
    .await
    .expect("current state");
}

/// The (partition, from, to) of the instance's messages.
async fn sent(admin: &Admin, instance: &str) -> Vec<(String, String, String)> {
    let mut out: Vec<_> = admin
        .messages("C", instance)
        .await
        .expect("messages")
        .into_iter()
        .map(|m| {
            (
                m.partition_name().unwrap_or_default().to_owned(),
                m.from_state().unwrap_or_default().to_owned(),
                m.to_state().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn instances_and_resources_are_reset_and_partitions_disabled() -> TestResult {
    let (_server, admin) = setup().await;
    admin.add_cluster("C").await?;
    for instance in ["h_1", "h_2", "h_3"] {
        admin.add_instance("C", instance).await?;
    }
    admin
        .add_resource("C", "db", 3, "MasterSlave", RebalanceMode::SemiAuto)
        .await?;
    live_with_states(
        &admin,
        "h_1",
        &[("db_0", "ERROR"), ("db_1", "SLAVE"), ("db_2", "ERROR")],
    )
    .await;
    live_with_states(&admin, "h_2", &[("db_1", "ERROR"), ("db_2", "MASTER")]).await;

    // Helix's resetInstance: every ERROR partition there, to OFFLINE.
    let reset = admin.reset_instance("C", "h_1").await?;
    assert_eq!(
        reset,
        vec![("db".to_owned(), vec!["db_0".to_owned(), "db_2".to_owned()])]
    );
    let expected = |p: &str| (p.to_owned(), "ERROR".to_owned(), "OFFLINE".to_owned());
    assert_eq!(
        sent(&admin, "h_1").await,
        vec![expected("db_0"), expected("db_2")]
    );

    // Helix's resetResource: h_1's are pending now (refused, nothing sent);
    // on h_2 alone it resets db_1.
    let before = sent(&admin, "h_2").await;
    assert!(before.is_empty());
    let refused = admin.reset_resource("C", "db").await;
    assert!(
        matches!(refused, Err(AdminError::Refused(_))),
        "{refused:?}"
    );
    for message in admin.messages("C", "h_1").await? {
        admin
            .zk()
            .delete(
                &PropertyPaths::new("C").message("h_1", message.msg_id()),
                None,
            )
            .await?;
    }
    let reset = admin.reset_resource("C", "db").await?;
    assert_eq!(
        reset,
        vec![
            ("h_1".to_owned(), vec!["db_0".to_owned(), "db_2".to_owned()]),
            ("h_2".to_owned(), vec!["db_1".to_owned()])
        ]
    );
    assert_eq!(sent(&admin, "h_2").await, vec![expected("db_1")]);

    // Refusals: an instance that is not live, a resource that does not exist.
    assert!(matches!(
        admin.reset_instance("C", "h_3").await,
        Err(AdminError::Refused(_))
    ));
    assert!(matches!(
        admin.reset_resource("C", "nodb").await,
        Err(AdminError::NoSuchResource { .. })
    ));

    // Helix's enablePartition false / true.
    admin
        .set_partitions_enabled("C", "h_3", "db", &["db_0".into(), "db_1".into()], false)
        .await?;
    let config = InstanceConfig::from(admin.instance_config("C", "h_3").await?);
    assert_eq!(config.disabled_partitions("db"), vec!["db_0", "db_1"]);
    admin
        .set_partitions_enabled("C", "h_3", "db", &["db_0".into()], true)
        .await?;
    let config = InstanceConfig::from(admin.instance_config("C", "h_3").await?);
    assert_eq!(config.disabled_partitions("db"), vec!["db_1"]);
    assert!(matches!(
        admin
            .set_partitions_enabled("C", "h_3", "db", &[], false)
            .await,
        Err(AdminError::Invalid(_))
    ));
    Ok(())
}
