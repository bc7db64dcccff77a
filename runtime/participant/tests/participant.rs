//! The participant against a real ZooKeeper with real plugins. The tests
//! play the controller by writing state-transition messages shaped like
//! the ones Java Helix's controller writes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use strand_admin::{Admin, RebalanceMode};
use strand_devcluster::plugins::{names, plugin_path};
use strand_devcluster::zookeeper::LocalZk;
use strand_model::time::now_ms;
use strand_model::{
    CurrentState, LiveInstance, Message, MessageType, PropertyPaths, SessionId,
    StateTransitionSpec, ZNRecord,
};
use strand_participant::{Participant, ParticipantConfig};
use strand_plugin_host::{HostConfig, PluginHost, PluginOptions, PluginRegistry};
use strand_zk::{Accessor, CreateKind, ZkConfig};

const CLUSTER: &str = "TEST";
const INSTANCE: &str = "localhost_12001";
const DEADLINE: Duration = Duration::from_secs(60);

struct Fixture {
    server: LocalZk,
    admin: Admin,
    registry: Arc<PluginRegistry>,
    paths: PropertyPaths,
    counter: std::cell::Cell<u32>,
}

impl Fixture {
    async fn new() -> Self {
        let server = LocalZk::start().expect("zookeeper");
        let admin = Admin::connect(&server.connect_string())
            .await
            .expect("admin");
        admin.add_cluster(CLUSTER).await.expect("cluster");
        admin
            .add_instance(CLUSTER, INSTANCE)
            .await
            .expect("instance");
        let cache = tempfile::tempdir().expect("tempdir").keep();
        let host = PluginHost::new(HostConfig {
            cache_dir: Some(cache),
            ..HostConfig::default()
        })
        .expect("host");
        let registry = PluginRegistry::new(host);
        for (name, plugin) in [
            ("MasterSlave", names::MASTER_SLAVE),
            ("Faulty", names::FAULTY),
        ] {
            let path = plugin_path(plugin).expect("plugin built");
            registry
                .install_file(name, &path, PluginOptions::default())
                .expect("install");
        }
        Self {
            server,
            admin,
            registry,
            paths: PropertyPaths::new(CLUSTER),
            counter: std::cell::Cell::new(0),
        }
    }

    fn config(&self) -> ParticipantConfig {
        let zk = ZkConfig::new(self.server.connect_string())
            .with_session_timeout(Duration::from_secs(4));
        ParticipantConfig::new(zk, CLUSTER, INSTANCE)
    }

    async fn start(&self) -> Participant {
        Participant::start(self.config(), Arc::clone(&self.registry))
            .await
            .expect("participant starts")
    }

    fn acc(&self) -> &Accessor {
        self.admin.accessor()
    }

    /// Writes a controller-style message and returns its id.
    async fn send(
        &self,
        session: SessionId,
        resource: &str,
        model: &str,
        partition: &str,
        from: &str,
        to: &str,
    ) -> String {
        self.counter.set(self.counter.get() + 1);
        let id = format!("00000000-0000-0000-0000-{:012}", self.counter.get());
        let message = Message::state_transition(&StateTransitionSpec {
            msg_id: id.clone(),
            create_timestamp: now_ms() + i64::from(self.counter.get()),
            src_name: "controller0".into(),
            src_session_id: SessionId(0x1000_0000_0000_0001),
            tgt_name: INSTANCE.into(),
            tgt_session_id: session,
            resource: resource.into(),
            partition: partition.into(),
            from_state: from.into(),
            to_state: to.into(),
            state_model_def: model.into(),
            state_model_factory_name: "DEFAULT".into(),
            current_active_replica_number: -1,
            cluster_event_name: "CurrentStateChange".into(),
            retry_count: 3,
            rebalance_type: None,
            bucket_size: 0,
            resource_group_name: None,
            resource_tag: None,
            timeout: None,
        });
        self.acc()
            .create(
                &self.paths.message(INSTANCE, &id),
                message.record(),
                CreateKind::Persistent,
            )
            .await
            .expect("message written");
        id
    }

    async fn current_state(&self, session: SessionId, resource: &str) -> Option<CurrentState> {
        self.acc()
            .get(&self.paths.current_state(INSTANCE, session, resource))
            .await
            .expect("read")
            .map(|v| CurrentState::from(v.value))
    }

    async fn message_gone(&self, id: &str) -> bool {
        self.admin
            .zk()
            .exists(&self.paths.message(INSTANCE, id))
            .await
            .expect("exists")
            .is_none()
    }

    /// Sends a transition and waits until it is done (see
    /// [`Fixture::expect_state_after`]).
    async fn transition(
        &self,
        session: SessionId,
        resource: &str,
        model: &str,
        partition: &str,
        from: &str,
        to: &str,
    ) {
        let id = self
            .send(session, resource, model, partition, from, to)
            .await;
        self.expect_state_after(&id, session, resource, partition, to)
            .await;
    }

    /// Waits for a message to be deleted, then checks the replica's state
    /// was already written (current state before deletion).
    async fn expect_state_after(
        &self,
        id: &str,
        session: SessionId,
        resource: &str,
        partition: &str,
        state: &str,
    ) {
        eventually(&format!("message {id} deleted"), || self.message_gone(id)).await;
        let Some(cs) = self.current_state(session, resource).await else {
            let root = self.paths.current_states_root(INSTANCE);
            let mut tree = Vec::new();
            for s in self.admin.zk().children(&root).await.expect("list") {
                let under = self.paths.current_states(INSTANCE, &s);
                tree.push((s, self.admin.zk().children(&under).await.expect("list")));
            }
            panic!("no current state of {resource} in session {session} after {id}: {tree:?}");
        };
        assert_eq!(cs.state(partition), Some(state), "{:?}", cs.record());
    }
}

async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let end = Instant::now() + DEADLINE;
    while !check().await {
        assert!(Instant::now() < end, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_live_instance_announces_the_configured_task_thread_pool_size() {
    let f = Fixture::new().await;
    let mut cluster = ZNRecord::new(CLUSTER);
    cluster.set_simple("GLOBAL_TARGET_TASK_THREAD_POOL_SIZE", "12");
    f.admin
        .edit_cluster_config(CLUSTER, strand_admin::RecordEdit::Update, &cluster)
        .await
        .expect("cluster config");
    let announced = |f: &Fixture| {
        let zk = f.admin.zk().clone();
        let path = f.paths.live_instance(INSTANCE);
        async move {
            let (data, _) = zk.get(&path).await.expect("read").expect("live");
            LiveInstance::from(ZNRecord::from_bytes(&data).expect("record").expect("data"))
                .current_task_thread_pool_size()
        }
    };
    let p = f.start().await;
    assert_eq!(announced(&f).await, Some(12), "the cluster's setting");
    p.shutdown().await;

    // The instance's own setting wins; a negative one counts as unset.
    for (own, want) in [("7", 7), ("-1", 12)] {
        let mut instance = ZNRecord::new(INSTANCE);
        instance.set_simple("TARGET_TASK_THREAD_POOL_SIZE", own);
        f.admin
            .edit_instance_config(
                CLUSTER,
                INSTANCE,
                strand_admin::RecordEdit::Update,
                &instance,
            )
            .await
            .expect("instance config");
        let p = f.start().await;
        assert_eq!(
            announced(&f).await,
            Some(want),
            "TARGET_TASK_THREAD_POOL_SIZE={own}"
        );
        p.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn joins_and_runs_transitions_like_the_java_participant() {
    let f = Fixture::new().await;
    let p = f.start().await;
    let session = p.session();

    // LiveInstance: ephemeral, owned by the session, hex session id.
    let (data, stat) = f
        .admin
        .zk()
        .get(&f.paths.live_instance(INSTANCE))
        .await
        .expect("read")
        .expect("live");
    assert_eq!(SessionId::from_i64(stat.ephemeral_owner), session);
    let live = LiveInstance::from(ZNRecord::from_bytes(&data).expect("record").expect("data"));
    assert_eq!(live.session_id_str(), Some(session.to_string().as_str()));
    assert!(live.helix_version().is_some_and(|v| v.starts_with("2.0.1")));
    assert_eq!(
        live.current_task_thread_pool_size(),
        Some(40),
        "Helix's default, as a Java participant announces it"
    );

    f.transition(
        session,
        "TestDB",
        "MasterSlave",
        "TestDB_0",
        "OFFLINE",
        "SLAVE",
    )
    .await;
    let cs = f.current_state(session, "TestDB").await.expect("cs");
    assert_eq!(cs.session_id_str(), Some(session.to_string().as_str()));
    assert_eq!(cs.state_model_def(), Some("MasterSlave"));
    assert_eq!(cs.previous_state("TestDB_0"), Some("OFFLINE"));
    assert_eq!(cs.triggered_by("TestDB_0"), Some("controller0"));
    assert!(
        cs.start_time("TestDB_0").is_some() && cs.end_time("TestDB_0") >= cs.start_time("TestDB_0")
    );
    assert!(
        cs.info("TestDB_0")
            .is_some_and(|i| i.contains("OFFLINE->SLAVE")),
        "{:?}",
        cs.info("TestDB_0")
    );

    f.transition(
        session,
        "TestDB",
        "MasterSlave",
        "TestDB_0",
        "SLAVE",
        "MASTER",
    )
    .await;

    // Stale (wrong from-state) and duplicate messages are deleted, unexecuted.
    let stale = f
        .send(
            session,
            "TestDB",
            "MasterSlave",
            "TestDB_0",
            "OFFLINE",
            "SLAVE",
        )
        .await;
    let duplicate = f
        .send(
            session,
            "TestDB",
            "MasterSlave",
            "TestDB_0",
            "SLAVE",
            "MASTER",
        )
        .await;
    let wrong_session = f
        .send(
            SessionId(0xdead),
            "TestDB",
            "MasterSlave",
            "TestDB_0",
            "MASTER",
            "SLAVE",
        )
        .await;
    for id in [&stale, &duplicate, &wrong_session] {
        eventually("bad message deleted", || f.message_gone(id)).await;
    }
    assert_eq!(
        f.current_state(session, "TestDB")
            .await
            .and_then(|c| c.state("TestDB_0").map(str::to_owned))
            .as_deref(),
        Some("MASTER")
    );

    // Down to DROPPED: the partition leaves the current state, and the
    // record goes with its last partition.
    for (from, to) in [
        ("MASTER", "SLAVE"),
        ("SLAVE", "OFFLINE"),
        ("OFFLINE", "DROPPED"),
    ] {
        let id = f
            .send(session, "TestDB", "MasterSlave", "TestDB_0", from, to)
            .await;
        eventually("transition", || f.message_gone(&id)).await;
    }
    assert!(f.current_state(session, "TestDB").await.is_none());
    p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn malformed_and_unknown_messages_are_deleted_and_serving_continues() {
    let f = Fixture::new().await;
    let p = f.start().await;
    let session = p.session();
    let zk = f.admin.zk();
    zk.create(
        &f.paths.message(INSTANCE, "garbage"),
        b"{ not json",
        CreateKind::Persistent,
    )
    .await
    .expect("write");
    let unknown = Message::new(
        &MessageType::parse("SOMETHING_NEW"),
        "unknown-type",
        now_ms(),
    );
    f.acc()
        .create(
            &f.paths.message(INSTANCE, "unknown-type"),
            unknown.record(),
            CreateKind::Persistent,
        )
        .await
        .expect("write");
    let mut incomplete = ZNRecord::new("incomplete");
    incomplete.set_simple("MSG_TYPE", "STATE_TRANSITION");
    incomplete.set_simple("MSG_STATE", "new");
    incomplete.set_simple("TGT_SESSION_ID", session.to_string());
    f.acc()
        .create(
            &f.paths.message(INSTANCE, "incomplete"),
            &incomplete,
            CreateKind::Persistent,
        )
        .await
        .expect("write");
    let noop = Message::new(&MessageType::NoOp, "noop", now_ms());
    f.acc()
        .create(
            &f.paths.message(INSTANCE, "noop"),
            noop.record(),
            CreateKind::Persistent,
        )
        .await
        .expect("write");
    for id in ["garbage", "unknown-type", "incomplete", "noop"] {
        eventually(&format!("{id} deleted"), || f.message_gone(id)).await;
    }
    f.transition(
        session,
        "TestDB",
        "MasterSlave",
        "TestDB_1",
        "OFFLINE",
        "SLAVE",
    )
    .await;
    p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn failures_go_to_error_and_reset_brings_them_back() {
    let f = Fixture::new().await;
    f.admin
        .add_state_model_def(CLUSTER, &faulty_definition())
        .await
        .expect("model");
    f.admin
        .add_resource(CLUSTER, "F", 4, "Faulty", RebalanceMode::Customized)
        .await
        .expect("resource");
    let p = f.start().await;
    let session = p.session();
    let fatal = f
        .send(session, "F", "Faulty", "fatal_0", "OFFLINE", "ONLINE")
        .await;
    let trap = f
        .send(session, "F", "Faulty", "trap_0", "OFFLINE", "ONLINE")
        .await;
    let fine = f
        .send(session, "F", "Faulty", "fine_0", "OFFLINE", "ONLINE")
        .await;
    f.expect_state_after(&fatal, session, "F", "fatal_0", "ERROR")
        .await;
    f.expect_state_after(&trap, session, "F", "trap_0", "ERROR")
        .await;
    f.expect_state_after(&fine, session, "F", "fine_0", "ONLINE")
        .await;
    let cs = f.current_state(session, "F").await.expect("cs");
    assert!(
        cs.info("fatal_0")
            .is_some_and(|i| i.contains("deliberate fatal")),
        "{:?}",
        cs.info("fatal_0")
    );
    assert!(
        cs.info("trap_0").is_some_and(|i| i.contains("trap")),
        "{:?}",
        cs.info("trap_0")
    );
    // The error record Helix writes, off the transition's path.
    let error_path = f.paths.error(INSTANCE, session, "F", "fatal_0");
    eventually("error record written", || async {
        f.acc().get(&error_path).await.expect("read").is_some()
    })
    .await;
    let record = f
        .acc()
        .get(&error_path)
        .await
        .expect("read")
        .expect("record")
        .value;
    assert_eq!(record.id, format!("{session}__F"));
    let (key, fields) = record.map_fields.iter().next().expect("one error");
    assert!(
        key.starts_with("HELIX_ERROR     ") && key.contains(" fatal_0 Trans:O->O  "),
        "{key:?}"
    );
    assert_eq!(fields.get("MSG_ID"), Some(&fatal));
    assert_eq!(
        fields.get("Message state").map(String::as_str),
        Some("READ")
    );
    assert!(
        fields
            .get("AdditionalInfo")
            .is_some_and(|i| i.contains("deliberate fatal")),
        "{fields:?}"
    );
    let index = f
        .admin
        .instance_errors(CLUSTER, INSTANCE)
        .await
        .expect("error index");
    assert!(
        index
            .get(&session.to_string())
            .and_then(|r| r.get("F"))
            .is_some_and(|p| p.contains(&"fatal_0".to_owned())),
        "{index:?}"
    );

    // Reset is refused for a partition that is not in ERROR …
    assert!(
        f.admin
            .reset_partitions(CLUSTER, INSTANCE, "F", &["fine_0".into()])
            .await
            .is_err()
    );
    // … and takes an ERROR partition back to the initial state.
    f.admin
        .reset_partitions(CLUSTER, INSTANCE, "F", &["fatal_0".into()])
        .await
        .expect("reset");
    eventually("reset applied", || async {
        f.current_state(session, "F")
            .await
            .and_then(|c| c.state("fatal_0").map(str::to_owned))
            .as_deref()
            == Some("OFFLINE")
    })
    .await;
    p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn session_expiry_re_registers_and_carries_states_over() {
    let f = Fixture::new().await;
    let p = f.start().await;
    let first = p.session();
    f.transition(
        first,
        "TestDB",
        "MasterSlave",
        "TestDB_0",
        "OFFLINE",
        "SLAVE",
    )
    .await;

    p.zk().expire_session().await.expect("expired");
    eventually("a new session", || async { p.session() != first }).await;
    let second = p.session();
    eventually("the LiveInstance of the new session", || async {
        f.admin
            .zk()
            .exists(&f.paths.live_instance(INSTANCE))
            .await
            .ok()
            .flatten()
            .map(|s| SessionId::from_i64(s.ephemeral_owner))
            == Some(second)
    })
    .await;
    // Carried over at the initial state; the old session's records are gone.
    let cs = f
        .current_state(second, "TestDB")
        .await
        .expect("carried over");
    assert_eq!(cs.state("TestDB_0"), Some("OFFLINE"));
    assert_eq!(cs.session_id_str(), Some(second.to_string().as_str()));
    assert!(f.current_state(first, "TestDB").await.is_none());
    // And it keeps serving.
    f.transition(
        second,
        "TestDB",
        "MasterSlave",
        "TestDB_0",
        "OFFLINE",
        "SLAVE",
    )
    .await;
    p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn graceful_stop_removes_the_live_instance_at_once_and_reports_offline() {
    let f = Fixture::new().await;
    let history = || async {
        let (data, _) = f
            .admin
            .zk()
            .get(&f.paths.participant_history(INSTANCE))
            .await
            .expect("read")
            .expect("history");
        ZNRecord::from_bytes(&data).expect("record").expect("data")
    };
    let p = f.start().await;
    assert!(
        f.admin
            .zk()
            .exists(&f.paths.live_instance(INSTANCE))
            .await
            .expect("exists")
            .is_some()
    );
    assert_eq!(history().await.simple("LAST_OFFLINE_TIME"), Some("-1"));
    let before = now_ms();
    p.shutdown().await;
    assert!(
        f.admin
            .zk()
            .exists(&f.paths.live_instance(INSTANCE))
            .await
            .expect("exists")
            .is_none()
    );
    // As Helix's ParticipantManager.disconnect: LAST_OFFLINE_TIME and an
    // OFFLINE entry.
    let record = history().await;
    let offline: i64 = record
        .simple_parsed("LAST_OFFLINE_TIME")
        .expect("LAST_OFFLINE_TIME");
    assert!(offline >= before, "{offline} < {before}");
    assert_eq!(record.list("OFFLINE").map(<[String]>::len), Some(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn unknown_instances_are_refused_unless_auto_join() {
    let f = Fixture::new().await;
    let mut config = f.config();
    config.instance = "newhost_7000".into();
    let err = Participant::start(config.clone(), Arc::clone(&f.registry))
        .await
        .expect_err("unknown");
    assert!(err.to_string().contains("newhost_7000"), "{err}");
    config.auto_join = true;
    let p = Participant::start(config, Arc::clone(&f.registry))
        .await
        .expect("auto-join");
    assert!(
        f.admin
            .zk()
            .exists(&f.paths.instance_config("newhost_7000"))
            .await
            .expect("exists")
            .is_some()
    );
    p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn customized_state_updates_from_100_partitions_all_land() {
    let f = Fixture::new().await;
    let p = f.start().await;
    let provider = p.customized_state();
    let writes = (0..100).map(|i| {
        let provider = Arc::clone(&provider);
        async move {
            provider
                .update_state("DEPLOY_STATE", "TestDB", &format!("TestDB_{i}"), "DEPLOYED")
                .await
        }
    });
    for result in futures::future::join_all(writes).await {
        result.expect("update");
    }
    let all = provider
        .get_partitions("DEPLOY_STATE", "TestDB")
        .await
        .expect("read");
    assert_eq!(all.len(), 100);
    assert!(all.values().all(
        |m| m.get("CURRENT_STATE").map(String::as_str) == Some("DEPLOYED")
            && m.contains_key("START_TIME")
    ));
    provider
        .delete_partition("DEPLOY_STATE", "TestDB", "TestDB_0")
        .await
        .expect("delete");
    assert!(
        provider
            .get_partition("DEPLOY_STATE", "TestDB", "TestDB_0")
            .await
            .expect("read")
            .is_none()
    );
    p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hot_swap_keeps_every_partition_and_later_transitions_use_the_new_version() {
    let f = Fixture::new().await;
    let p = f.start().await;
    let session = p.session();
    for i in 0..8 {
        f.transition(
            session,
            "TestDB",
            "MasterSlave",
            &format!("TestDB_{i}"),
            "OFFLINE",
            "SLAVE",
        )
        .await;
    }
    let before = f.current_state(session, "TestDB").await.expect("cs");
    let old_info = before.info("TestDB_0").expect("info").to_owned();

    let next = plugin_path(names::MASTER_SLAVE_NEXT).expect("next version");
    f.registry
        .install_file("MasterSlave", &next, PluginOptions::default())
        .expect("swap");
    let after_swap = f.current_state(session, "TestDB").await.expect("cs");
    assert_eq!(
        before.record().map_fields.len(),
        after_swap.record().map_fields.len()
    );

    f.transition(
        session,
        "TestDB",
        "MasterSlave",
        "TestDB_0",
        "SLAVE",
        "MASTER",
    )
    .await;
    let new_info = f
        .current_state(session, "TestDB")
        .await
        .expect("cs")
        .info("TestDB_0")
        .expect("info")
        .to_owned();
    assert_ne!(
        old_info.split(':').next(),
        new_info.split(':').next(),
        "{old_info} vs {new_info}"
    );
    p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn keeps_serving_across_a_zookeeper_restart_and_plugins_write_customized_state() {
    let mut f = Fixture::new().await;
    // The built-in models record each replica's state under the customized
    // type named in the resource's config.
    f.admin
        .add_resource(CLUSTER, "TestDB", 2, "MasterSlave", RebalanceMode::SemiAuto)
        .await
        .expect("resource");
    f.acc()
        .update(&f.paths.ideal_state("TestDB"), false, |current| {
            let mut record = current.expect("ideal state");
            record.set_simple("strand.customized-state-type", "DEPLOY_STATE");
            strand_zk::Update::Write(record)
        })
        .await
        .expect("config");
    // A session timeout well beyond a ZooKeeper restart on a loaded
    // machine (the JVM alone may take seconds): the session must survive.
    let mut config = f.config();
    config.zk = config.zk.with_session_timeout(Duration::from_secs(30));
    let p = Participant::start(config, Arc::clone(&f.registry))
        .await
        .expect("participant starts");
    let session = p.session();
    f.transition(
        session,
        "TestDB",
        "MasterSlave",
        "TestDB_0",
        "OFFLINE",
        "SLAVE",
    )
    .await;
    let custom = p
        .customized_state()
        .get_partition("DEPLOY_STATE", "TestDB", "TestDB_0")
        .await
        .expect("read");
    assert_eq!(
        custom
            .as_ref()
            .and_then(|m| m.get("CURRENT_STATE"))
            .map(String::as_str),
        Some("SLAVE"),
        "{custom:?}"
    );

    // ZooKeeper goes away and comes back within the session timeout.
    f.server.stop();
    tokio::time::sleep(Duration::from_millis(500)).await;
    f.server.restart().expect("restart");
    let admin = Admin::connect(&f.server.connect_string())
        .await
        .expect("admin again");
    f.admin = admin;
    assert_eq!(p.session(), session, "the session survived");
    f.transition(
        session,
        "TestDB",
        "MasterSlave",
        "TestDB_0",
        "SLAVE",
        "MASTER",
    )
    .await;
    p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_state_model_that_does_not_parse_holds_its_messages_until_it_does() {
    let f = Fixture::new().await;
    f.admin
        .add_state_model_def(CLUSTER, &faulty_definition())
        .await
        .expect("model");
    let p = f.start().await;
    let session = p.session();
    let model_path = f.paths.state_model_def("Faulty");
    f.admin
        .zk()
        .set(&model_path, b"{ not json", None)
        .await
        .expect("garbage written");
    let id = f
        .send(session, "F", "Faulty", "fine_0", "OFFLINE", "ONLINE")
        .await;
    // A later message of a healthy model still runs …
    f.admin
        .add_resource(CLUSTER, "TestDB", 1, "MasterSlave", RebalanceMode::SemiAuto)
        .await
        .expect("resource");
    f.transition(
        session,
        "TestDB",
        "MasterSlave",
        "TestDB_0",
        "OFFLINE",
        "SLAVE",
    )
    .await;
    // … while the one whose model does not parse waited, untouched.
    assert!(
        !f.message_gone(&id).await,
        "it ran on a model that does not parse"
    );
    let waiting = f
        .acc()
        .get(&f.paths.message(INSTANCE, &id))
        .await
        .expect("read")
        .expect("message");
    assert_eq!(
        Message::from(waiting.value).msg_state(),
        Some(strand_model::MessageState::New)
    );
    assert!(f.current_state(session, "F").await.is_none());
    // Repaired: it runs.
    f.admin
        .zk()
        .set(&model_path, &faulty_definition(), None)
        .await
        .expect("repaired");
    f.expect_state_after(&id, session, "F", "fine_0", "ONLINE")
        .await;
    p.shutdown().await;
}

fn faulty_definition() -> Vec<u8> {
    let mut record = strand_model::builtin::online_offline().into_record();
    record.id = "Faulty".into();
    record.to_bytes().expect("bytes")
}
