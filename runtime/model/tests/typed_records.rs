//! Typed records read from the Helix dump: getters return the dump's values, typed
//! round-trips keep the bytes, constructors produce Helix's exact records, and
//! read-modify-write keeps fields Strand does not know.

mod common;

use strand_model::records::{
    InstanceOperationKind, LiveInstanceStatus, MessageState, MessageType, RebalanceMode, Replicas,
};
use strand_model::{
    ClusterConfig, ControllerHistory, CurrentState, CustomizedState, CustomizedStateConfig,
    CustomizedView, ExternalView, IdealState, InstanceConfig, LiveInstance, Message, ModelError,
    ParticipantHistory, SessionId, StateTransitionSpec, TypedRecord, ZNRecord,
};

const CS_12001_OODB: &str =
    "B__INSTANCES__localhost_12001__CURRENTSTATES__1000021f98d000a__OODB.json";
const CS_12001_TESTDB: &str =
    "B__INSTANCES__localhost_12001__CURRENTSTATES__1000021f98d000a__TestDB.json";

fn typed<T: TypedRecord>(name: &str) -> T {
    match T::from_bytes(&common::bytes(name)) {
        Ok(Some(t)) => t,
        other => panic!("{name}: {:?}", other.map(|o| o.map(|t| t.id().to_string()))),
    }
}

/// Reading as a typed record and writing back gives the dump's bytes.
fn assert_typed_round_trip<T: TypedRecord>(name: &str) -> T {
    let t: T = typed(name);
    assert_eq!(
        String::from_utf8_lossy(&t.to_bytes().expect("fits")),
        String::from_utf8_lossy(&common::bytes(name)),
        "{name} ({}) did not round-trip",
        T::KIND
    );
    t
}

#[test]
fn cluster_and_instance_configs() {
    let c: ClusterConfig = assert_typed_round_trip("B__CONFIGS__CLUSTER__DEMO_.json");
    assert_eq!(c.id(), "DEMO_");
    assert!(!c.allow_participant_auto_join());
    assert_eq!(c.record(), ClusterConfig::new("DEMO_").record());

    let i: InstanceConfig =
        assert_typed_round_trip("B__CONFIGS__PARTICIPANT__localhost_12001.json");
    assert_eq!(i.id(), "localhost_12001");
    assert_eq!(i.host(), Some("localhost"));
    assert_eq!(i.port(), Some("12001"));
    assert!(i.helix_enabled() && i.instance_enabled());
    assert_eq!(i.instance_operation(), InstanceOperationKind::Enable);
    assert_eq!(i.enabled_timestamp(), Some(1_795_303_241_326));
    assert!(i.tags().is_empty());
    assert!(i.is_partition_enabled("TestDB", "TestDB_0"));

    // What `add-instance localhost:12001` should write to match the dump.
    let mut built = InstanceConfig::from_host_port("localhost:12001").expect("valid");
    built.set_instance_enabled(true, 1_795_303_241_326);
    assert_eq!(
        built.to_bytes().expect("fits"),
        common::bytes("B__CONFIGS__PARTICIPANT__localhost_12001.json")
    );
}

#[test]
fn live_instances_and_leader() {
    let li: LiveInstance = assert_typed_round_trip("B__LIVEINSTANCES__localhost_12001.json");
    assert_eq!(li.session_id(), Some(SessionId(0x1000021f98d000a)));
    assert_eq!(li.session_id_str(), Some("1000021f98d000a"));
    assert_eq!(li.helix_version(), Some("2.0.1"));
    assert_eq!(li.live_instance(), Some("22831@vm"));
    assert_eq!(li.current_task_thread_pool_size(), Some(40));
    assert_eq!(li.status(), LiveInstanceStatus::Normal);
    assert!(li.is_valid());

    let mut built = LiveInstance::new(
        "localhost_12001",
        SessionId(0x1000021f98d000a),
        "2.0.1",
        "22831@vm",
    );
    built.set_current_task_thread_pool_size(40);
    assert_eq!(
        built.to_bytes().expect("fits"),
        common::bytes("B__LIVEINSTANCES__localhost_12001.json")
    );

    let leader: LiveInstance = assert_typed_round_trip("B__CONTROLLER__LEADER.json");
    assert_eq!(leader.id(), "controller0");
    assert_eq!(leader.session_id(), Some(SessionId(0x1000021f98d000e)));
    let built = LiveInstance::new(
        "controller0",
        SessionId(0x1000021f98d000e),
        "2.0.1",
        "23194@vm",
    );
    assert_eq!(
        built.to_bytes().expect("fits"),
        common::bytes("B__CONTROLLER__LEADER.json")
    );
}

#[test]
fn ideal_states() {
    let is: IdealState = assert_typed_round_trip("B__IDEALSTATES__TestDB.json");
    assert_eq!(is.rebalance_mode(), RebalanceMode::SemiAuto);
    assert_eq!(is.replicas(), Some(Replicas::Count(3)));
    assert_eq!(is.num_partitions(), Some(6));
    assert_eq!(is.state_model_def_ref(), Some("MasterSlave"));
    assert_eq!(is.state_model_factory_name(), "DEFAULT");
    assert_eq!(is.rebalance_strategy(), "DEFAULT");
    assert!(is.enabled());
    assert_eq!(
        is.partitions(),
        [
            "TestDB_0", "TestDB_1", "TestDB_2", "TestDB_3", "TestDB_4", "TestDB_5"
        ]
    );
    assert_eq!(
        is.preference_list("TestDB_0").unwrap_or_default(),
        ["localhost_12002", "localhost_12003", "localhost_12001"]
    );
    assert_eq!(
        is.instance_state_map("TestDB_0")
            .and_then(|m| m.get("localhost_12002"))
            .map(String::as_str),
        Some("MASTER")
    );
    assert!(is.is_valid());

    let oodb: IdealState = assert_typed_round_trip("B__IDEALSTATES__OODB.json");
    assert_eq!(oodb.rebalance_mode(), RebalanceMode::FullAuto);
    assert_eq!(oodb.partitions().len(), 6);
    assert_eq!(oodb.preference_list("OODB_3").map(<[String]>::len), Some(0));

    // `add-resource` then `rebalance` for FULL_AUTO, as Helix writes it.
    let mut built = IdealState::for_new_resource(
        "OODB",
        6,
        "OnlineOffline",
        RebalanceMode::FullAuto,
        "DEFAULT",
    );
    built.set_replicas(Replicas::Count(3));
    for p in 0..6 {
        built
            .record_mut()
            .set_map_field(format!("OODB_{p}"), Default::default());
        built.set_preference_list(&format!("OODB_{p}"), Vec::<String>::new());
    }
    assert_eq!(
        built.to_bytes().expect("fits"),
        common::bytes("B__IDEALSTATES__OODB.json")
    );
}

#[test]
fn current_states() {
    let cs: CurrentState = assert_typed_round_trip(CS_12001_TESTDB);
    assert_eq!(cs.session_id(), Some(SessionId(0x1000021f98d000a)));
    assert_eq!(cs.state_model_def(), Some("MasterSlave"));
    assert_eq!(cs.state_model_factory_name(), Some("DEFAULT"));
    assert_eq!(cs.bucket_size(), 0);
    assert!(!cs.batch_message_mode());
    assert_eq!(cs.state("TestDB_2"), Some("MASTER"));
    assert_eq!(cs.previous_state("TestDB_2"), Some("SLAVE"));
    assert_eq!(cs.start_time("TestDB_2"), Some(1_795_303_251_522));
    assert_eq!(cs.end_time("TestDB_2"), Some(1_795_303_251_583));
    assert_eq!(cs.info("TestDB_2"), Some(""));
    assert_eq!(cs.triggered_by("TestDB_2"), Some("controller0"));
    assert_eq!(cs.partitions().count(), 6);
    // Partition order is arrival order, kept as read.
    assert_eq!(cs.partitions().next(), Some("TestDB_2"));

    // The participant's writes, replayed with the typed API, give the same record.
    let read: CurrentState = typed(CS_12001_OODB);
    let mut built = CurrentState::new(
        "OODB",
        SessionId(0x1000021f98d000a),
        "OnlineOffline",
        "DEFAULT",
    );
    for p in read.partitions() {
        let entry = read.partition(p).expect("present");
        built.set_partition(p, &entry);
    }
    assert_eq!(built.record(), read.record());
}

#[test]
fn group_commit_style_merges_on_a_read_current_state() {
    // Participant-side: merge a delta for a new partition, subtract a dropped one.
    let mut current = common::record(CS_12001_OODB);
    let mut delta = CurrentState::new(
        "OODB",
        SessionId(0x1000021f98d000a),
        "OnlineOffline",
        "DEFAULT",
    );
    delta.set_state("OODB_9", "ONLINE");
    current.merge(delta.record());
    assert_eq!(
        current.map_fields.keys().last().map(String::as_str),
        Some("OODB_9")
    );
    assert_eq!(current.map_fields.len(), 7);
    current.subtract(&ZNRecord::removal_of("OODB", ["OODB_2"]));
    assert!(current.map("OODB_2").is_none());
    // Unchanged partitions keep their bytes and position.
    let json = current.to_json_string();
    assert!(json.find("\"OODB_0\"") < json.find("\"OODB_9\""));
}

#[test]
fn views_and_customized_records() {
    let ev: ExternalView = assert_typed_round_trip("B__EXTERNALVIEW__TestDB.json");
    assert_eq!(ev.state_model_def_ref(), Some("MasterSlave"));
    assert_eq!(ev.bucket_size(), 0);
    assert_eq!(ev.replicas(), Some("3"));
    assert_eq!(
        ev.state_map("TestDB_1")
            .and_then(|m| m.get("localhost_12003"))
            .map(String::as_str),
        Some("MASTER")
    );
    let after_failover: ExternalView = assert_typed_round_trip("D__EXTERNALVIEW__TestDB.json");
    assert!(after_failover.partitions().count() == 6);

    let cs: CustomizedState = assert_typed_round_trip(
        "B__INSTANCES__localhost_12001__CUSTOMIZEDSTATES__DEPLOY_STATE__TestDB.json",
    );
    assert_eq!(cs.state("TestDB_2"), Some("SERVING_WRITES"));
    assert_eq!(cs.start_time("TestDB_2"), Some(1_795_303_251_527));

    let cv: CustomizedView = assert_typed_round_trip("B__CUSTOMIZEDVIEW__DEPLOY_STATE__OODB.json");
    assert_eq!(
        cv.state_map("OODB_0")
            .and_then(|m| m.get("localhost_12002"))
            .map(String::as_str),
        Some("ONLINE_SERVING")
    );

    let config: CustomizedStateConfig =
        assert_typed_round_trip("B__CONFIGS__CUSTOMIZED_STATE__DEMO_.json");
    assert_eq!(config.aggregation_enabled_types(), ["DEPLOY_STATE"]);
    assert_eq!(
        CustomizedStateConfig::new(["DEPLOY_STATE"])
            .to_bytes()
            .expect("fits"),
        common::bytes("B__CONFIGS__CUSTOMIZED_STATE__DEMO_.json")
    );

    // A customized-state update merged into an empty record gives Helix's layout.
    let mut record = ZNRecord::new("OODB");
    record.merge(
        CustomizedState::update_for("OODB", "OODB_0", "ONLINE_SERVING", 1_795_303_250_649).record(),
    );
    let expected =
        common::record("B__INSTANCES__localhost_12001__CUSTOMIZEDSTATES__DEPLOY_STATE__OODB.json");
    assert_eq!(record.map("OODB_0"), expected.map("OODB_0"));
    assert_eq!(
        record
            .map("OODB_0")
            .map(|m| m.keys().cloned().collect::<Vec<_>>()),
        expected
            .map("OODB_0")
            .map(|m| m.keys().cloned().collect::<Vec<_>>())
    );
}

#[test]
fn histories() {
    let h: ControllerHistory = assert_typed_round_trip("B__CONTROLLER__HISTORY.json");
    assert_eq!(h.leaders("DEMO_"), ["controller0"]);
    assert_eq!(
        h.entries()[0].get("CONTROLLER").map(String::as_str),
        Some("controller0")
    );
    let mut built = ControllerHistory::new("DEMO_");
    built.record_leader("DEMO_", "controller0", 1_795_303_249_382, "2.0.1");
    assert_eq!(built.record(), h.record());

    let p: ParticipantHistory =
        assert_typed_round_trip("B__INSTANCES__localhost_12001__HISTORY.json");
    assert_eq!(p.last_offline_time(), Some(-1));
    let mut built = ParticipantHistory::new("localhost_12001");
    built.report_online(
        SessionId(0x1000021f98d000a),
        1_795_303_245_719,
        "2.0.1",
        "vm",
    );
    assert_eq!(
        built.to_bytes().expect("fits"),
        common::bytes("B__INSTANCES__localhost_12001__HISTORY.json")
    );

    let offline: ParticipantHistory =
        assert_typed_round_trip("D__INSTANCES__localhost_12003__HISTORY.json");
    assert_eq!(offline.last_offline_time(), Some(1_795_303_274_297));
    let mut built = ParticipantHistory::new("localhost_12003");
    built.report_online(
        SessionId(0x1000021f98d0008),
        1_795_303_245_768,
        "2.0.1",
        "vm",
    );
    built.report_offline(1_795_303_274_297);
    assert_eq!(
        built.to_bytes().expect("fits"),
        common::bytes("D__INSTANCES__localhost_12003__HISTORY.json")
    );
}

fn spec_for_message2() -> StateTransitionSpec {
    StateTransitionSpec {
        msg_id: "eac67b69-252d-4eb2-91b5-ea4d3eb4812d".into(),
        create_timestamp: 1_795_303_250_012,
        src_name: "controller0".into(),
        src_session_id: SessionId(0x1000021f98d000e),
        tgt_name: "localhost_12002".into(),
        tgt_session_id: SessionId(0x1000021f98d0009),
        resource: "TestDB".into(),
        partition: "TestDB_0".into(),
        from_state: "OFFLINE".into(),
        to_state: "SLAVE".into(),
        state_model_def: "MasterSlave".into(),
        state_model_factory_name: "DEFAULT".into(),
        current_active_replica_number: 0,
        cluster_event_name: "ControllerChange".into(),
        retry_count: 3,
        rebalance_type: None,
        bucket_size: 0,
        resource_group_name: None,
        resource_tag: None,
        timeout: None,
    }
}

#[test]
fn controller_message_is_shaped_like_helix() {
    let built = Message::state_transition(&spec_for_message2());
    assert_eq!(
        String::from_utf8_lossy(&built.to_bytes().expect("fits")),
        String::from_utf8_lossy(&common::bytes("C__message2_created.json"))
    );
    assert!(built.is_valid());
}

#[test]
fn messages_read_and_marked_read_like_helix() {
    for n in 2..=4 {
        let created: Message = assert_typed_round_trip(&format!("C__message{n}_created.json"));
        assert_eq!(created.msg_type(), Some(MessageType::StateTransition));
        assert_eq!(created.msg_state(), Some(MessageState::New));
        assert_eq!(created.src_name(), Some("controller0"));
        assert_eq!(created.retry_count(), 3);
        assert!(created.is_valid());
        assert!(created.is_for_session(SessionId(0x1000021f98d0009)));
        let updated: Message = assert_typed_round_trip(&format!("C__message{n}_updated.json"));
        let mut marked = created.clone();
        marked.mark_read(
            updated.read_timestamp().expect("has READ_TIMESTAMP"),
            SessionId(0x1000021f98d0009),
        );
        assert_eq!(
            String::from_utf8_lossy(&marked.to_bytes().expect("fits")),
            String::from_utf8_lossy(&common::bytes(&format!("C__message{n}_updated.json"))),
            "message {n}"
        );
    }
    let m3: Message = typed("C__message3_created.json");
    assert_eq!(
        (m3.from_state(), m3.to_state()),
        (Some("SLAVE"), Some("MASTER"))
    );
    assert_eq!(m3.cluster_event_name(), Some("LiveInstanceChange"));
    assert_eq!(m3.current_active_replica_number(), 2);
    let m4: Message = typed("C__message4_created.json");
    assert_eq!(m4.current_active_replica_number(), -1);
    assert_eq!(m4.partition_names(), ["TestDB_3"]);

    let noop: Message = assert_typed_round_trip("C__message1_created.json");
    assert_eq!(noop.msg_type(), Some(MessageType::NoOp));
    let mut built = Message::new(
        &MessageType::NoOp,
        "03772e13-9d8f-46bc-8199-ffbef263daf1",
        1_795_303_245_775,
    );
    built.record_mut().set_simple("SRC_NAME", "localhost_12001");
    built.record_mut().set_simple("TGT_NAME", "localhost_12001");
    assert_eq!(
        built.to_bytes().expect("fits"),
        common::bytes("C__message1_created.json")
    );
}

#[test]
fn unknown_fields_survive_typed_read_modify_write() {
    // A record as a newer Java Helix might write it: extra simple/list/map fields and
    // an unknown top-level property.
    let mut json =
        String::from_utf8_lossy(&common::bytes("B__IDEALSTATES__TestDB.json")).into_owned();
    json = json.replacen(
        "\"simpleFields\" : {",
        "\"simpleFields\" : {\n    \"FUTURE_FLAG\" : \"x\",",
        1,
    );
    json = json.replacen(
        "\"listFields\" : {",
        "\"listFields\" : {\n    \"FUTURE_LIST\" : [ \"a\", \"b\" ],",
        1,
    );
    json = json.replacen(
        "\n}",
        ",\n  \"futureTopLevel\" : {\n    \"k\" : [ 1, true, null ]\n  }\n}",
        1,
    );
    let mut is = match IdealState::from_bytes(json.as_bytes()) {
        Ok(Some(is)) => is,
        other => panic!("{other:?}"),
    };
    is.set_replicas(Replicas::Count(2));
    is.set_rebalance_mode(RebalanceMode::Customized);
    is.set_partition_state("TestDB_0", "localhost_12004", "OFFLINE");
    let written = is.to_bytes().expect("fits");
    let back = ZNRecord::from_bytes(&written)
        .expect("parses")
        .expect("not empty");
    assert_eq!(back.simple("FUTURE_FLAG"), Some("x"));
    assert_eq!(back.list("FUTURE_LIST").map(<[String]>::len), Some(2));
    assert_eq!(
        back.extra.get("futureTopLevel"),
        Some(&serde_json::json!({"k": [1, true, null]}))
    );
    assert_eq!(back.simple("REPLICAS"), Some("2"));
    assert_eq!(back.simple("IDEAL_STATE_MODE"), Some("CUSTOMIZED"));
    // Everything else is untouched, byte for byte: only the changed lines differ
    // (REPLICAS, REBALANCE_MODE, IDEAL_STATE_MODE, the new replica, and the comma now
    // ending the line before it).
    let before: Vec<&str> = json.lines().collect();
    let after = String::from_utf8_lossy(&written).into_owned();
    let changed = after.lines().filter(|l| !before.contains(l)).count();
    assert_eq!(changed, 5, "{after}");

    // Same through an InstanceConfig enable/disable.
    let mut raw = common::record("B__CONFIGS__PARTICIPANT__localhost_12002.json");
    raw.set_simple("JAVA_ONLY", "1");
    raw.map_mut("INSTANCE_INFO_MAP")
        .insert("rack".into(), "r1".into());
    let mut config = InstanceConfig::from(raw);
    config.set_instance_enabled(false, 5);
    let back = config.into_record();
    assert_eq!(back.simple("JAVA_ONLY"), Some("1"));
    assert_eq!(back.simple("HELIX_ENABLED"), Some("false"));
    assert!(back.map("INSTANCE_INFO_MAP").is_some());
}

#[test]
fn malformed_input_gives_the_right_errors() {
    assert!(matches!(
        IdealState::from_bytes(b"{\"id\" : \"x\", "),
        Err(ModelError::MalformedJson(_))
    ));
    assert!(matches!(
        Message::from_bytes(b"[]"),
        Err(ModelError::NotAZnRecord(_))
    ));
    assert!(matches!(
        CurrentState::from_bytes(&[0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0xff, 1, 2, 3]),
        Err(ModelError::Gzip(_))
    ));
    assert!(matches!(LiveInstance::from_bytes(b""), Ok(None)));
    let err = ZNRecord::from_bytes(b"{\"id\" : \"x\",\n \"mapFields\" : {\"P\" : [1]}}")
        .expect_err("not a record");
    assert!(err.to_string().contains("mapFields.P"), "{err}");
    let err = ZNRecord::from_bytes(b"{oops}").expect_err("bad json");
    assert!(
        err.to_string()
            .starts_with("malformed ZNRecord JSON: key must be a string"),
        "{err}"
    );
}
