//! Instance routes against a real ZooKeeper: add (from the path or an
//! InstanceConfig body), list, inspect, enable/disable, configs, messages,
//! error records, reset refusals and drop.

use crate::common::{Api, names};
use strand_model::{PropertyPaths, SessionId, ZNRecord};
use strand_zk::CreateKind;

async fn cluster_with_instances(api: &Api) {
    api.put("/clusters/C", "").await.expect(201);
    // From the path (host_port), as `addInstance` with no body.
    api.put("/clusters/C/instances/localhost_12913", "")
        .await
        .expect(200);
    // From an InstanceConfig body.
    api.put(
        "/clusters/C/instances/localhost_12914",
        r#"{"id":"localhost_12914","simpleFields":{"HELIX_HOST":"localhost","HELIX_PORT":"12914","HELIX_ENABLED":"true"},"listFields":{},"mapFields":{}}"#,
    )
    .await
    .expect(200);
}

#[tokio::test]
async fn add_list_get_enable_disable_configs_and_drop() {
    let api = Api::start().await;
    cluster_with_instances(&api).await;
    for path in PropertyPaths::new("C").instance_creation_paths("localhost_12914") {
        assert!(
            api.admin
                .zk()
                .exists(&path)
                .await
                .expect("exists")
                .is_some(),
            "{path} missing"
        );
    }

    let before = api.snapshot().await;
    api.put("/clusters/C/instances/localhost_12913", "")
        .await
        .expect_error(409, "already exists");
    api.put(
        "/clusters/C/instances/localhost_1",
        r#"{"id":"localhost_2","simpleFields":{}}"#,
    )
    .await
    .expect_error(400, "does not match instance");
    api.put("/clusters/C/instances/bad%01name", "")
        .await
        .expect_error(400, "invalid instance name");
    assert_eq!(before, api.snapshot().await);

    // A name without a port is an instance of that name, as in Helix.
    api.put("/clusters/C/instances/P0", "").await.expect(200);
    let p0 = api.get("/clusters/C/instances/P0").await.expect(200).json;
    assert_eq!(p0["config"]["simpleFields"]["HELIX_HOST"], "P0");
    assert!(p0["config"]["simpleFields"]["HELIX_PORT"].is_null());
    api.delete("/clusters/C/instances/P0").await.expect(200);
    assert_eq!(before, api.snapshot().await);

    let list = api.get("/clusters/C/instances").await.expect(200).json;
    assert_eq!(list["id"], "C");
    assert_eq!(
        names(&list["instances"]),
        ["localhost_12913", "localhost_12914"]
    );
    assert!(names(&list["online"]).is_empty());
    assert!(names(&list["disabled"]).is_empty());

    let one = api
        .get("/clusters/C/instances/localhost_12913")
        .await
        .expect(200)
        .json;
    assert_eq!(one["id"], "localhost_12913");
    assert!(one["liveInstance"].is_null());
    assert_eq!(one["config"]["simpleFields"]["HELIX_PORT"], "12913");

    api.post(
        "/clusters/C/instances/localhost_12913?command=disable&instanceDisabledReason=bad%20disk",
        "",
    )
    .await
    .expect(200);
    let list = api.get("/clusters/C/instances").await.json;
    assert_eq!(names(&list["disabled"]), ["localhost_12913"]);
    let config = api
        .get("/clusters/C/instances/localhost_12913/configs")
        .await
        .expect(200)
        .json;
    assert_eq!(config["simpleFields"]["HELIX_ENABLED"], "false");
    assert_eq!(config["simpleFields"]["HELIX_DISABLED_REASON"], "bad disk");
    api.post("/clusters/C/instances/localhost_12913?command=enable", "")
        .await
        .expect(200);
    assert!(names(&api.get("/clusters/C/instances").await.json["disabled"]).is_empty());

    // configs: update (default) and delete.
    api.post(
        "/clusters/C/instances/localhost_12913/configs",
        r#"{"id":"localhost_12913","listFields":{"TAG_LIST":["blue"]}}"#,
    )
    .await
    .expect(200);
    let config = api
        .get("/clusters/C/instances/localhost_12913/configs")
        .await
        .json;
    assert_eq!(
        config["listFields"]["TAG_LIST"],
        serde_json::json!(["blue"])
    );
    api.post(
        "/clusters/C/instances/localhost_12913/configs?command=delete",
        r#"{"id":"localhost_12913","listFields":{"TAG_LIST":[]}}"#,
    )
    .await
    .expect(200);
    let config = api
        .admin
        .instance_config("C", "localhost_12913")
        .await
        .expect("config");
    assert_eq!(config.list("TAG_LIST"), None);
    api.post(
        "/clusters/C/instances/localhost_12913/configs",
        r#"{"id":"localhost_12914","listFields":{}}"#,
    )
    .await
    .expect_error(400, "does not match instance");

    api.post("/clusters/C/instances/localhost_12913?command=explode", "")
        .await
        .expect_error(400, "unsupported command");

    api.delete("/clusters/C/instances/localhost_12914")
        .await
        .expect(200);
    api.get("/clusters/C/instances/localhost_12914")
        .await
        .expect_error(404, "instance localhost_12914 is not in cluster C");
    api.get("/clusters/C/instances/localhost_12914/configs")
        .await
        .expect(404);
}

#[tokio::test]
async fn live_instances_messages_errors_and_refusals() {
    let api = Api::start().await;
    cluster_with_instances(&api).await;
    let paths = PropertyPaths::new("C");

    // No session, no messages, no errors: empty answers, not 404s.
    let resources = api
        .get("/clusters/C/instances/localhost_12913/resources")
        .await
        .expect(200)
        .json;
    assert_eq!(resources["id"], "localhost_12913");
    assert!(names(&resources["resources"]).is_empty());
    api.get("/clusters/C/instances/localhost_12913/resources/db")
        .await
        .expect_error(404, "no current state for db");
    let messages = api
        .get("/clusters/C/instances/localhost_12913/messages")
        .await
        .expect(200)
        .json;
    assert_eq!(messages["total_message_count"], 0);
    let errors = api
        .get("/clusters/C/instances/localhost_12913/errors")
        .await
        .expect(200)
        .json;
    assert_eq!(errors["total_error_count"], 0);

    // A live session of our own: the instance shows as online, and
    // dropping it or resetting a partition it does not hold is refused.
    let session = strand_zk::Zk::connect_to(&api.server.connect_string())
        .await
        .expect("participant session");
    let live = ZNRecord::new("localhost_12913");
    session
        .create(
            &paths.live_instance("localhost_12913"),
            &live.to_bytes().expect("bytes"),
            CreateKind::Ephemeral,
        )
        .await
        .expect("live instance");
    let session_id = SessionId::parse(&session.session_id()).expect("session id");
    let mut current = ZNRecord::new("db");
    current.set_simple("STATE_MODEL_DEF", "OnlineOffline");
    current
        .map_mut("db_0")
        .insert("CURRENT_STATE".into(), "ONLINE".into());
    api.admin
        .accessor()
        .put(
            &paths.current_state("localhost_12913", session_id, "db"),
            &current,
        )
        .await
        .expect("current state");

    let list = api.get("/clusters/C/instances").await.json;
    assert_eq!(names(&list["online"]), ["localhost_12913"]);
    let one = api.get("/clusters/C/instances/localhost_12913").await.json;
    assert_eq!(one["liveInstance"]["id"], "localhost_12913");
    assert_eq!(
        names(
            &api.get("/clusters/C/instances/localhost_12913/resources")
                .await
                .json["resources"]
        ),
        ["db"]
    );
    let state = api
        .get("/clusters/C/instances/localhost_12913/resources/db")
        .await
        .expect(200)
        .json;
    assert_eq!(state["mapFields"]["db_0"]["CURRENT_STATE"], "ONLINE");

    let before = api.snapshot().await;
    api.delete("/clusters/C/instances/localhost_12913")
        .await
        .expect_error(409, "is live");
    api.post(
        "/clusters/C/instances/localhost_12913?command=resetPartitions",
        r#"{"id":"localhost_12913","resource":"db","partitions":["db_0"]}"#,
    )
    .await
    .expect_error(409, "not ERROR");
    api.post(
        "/clusters/C/instances/localhost_12913?command=resetPartitions",
        r#"{"id":"localhost_12913","partitions":"db_0"}"#,
    )
    .await
    .expect_error(400, "malformed JSON body");
    assert_eq!(before, api.snapshot().await);

    // Messages (one new, one read) and an error record, written as Helix writes them.
    for (id, state) in [("m-new", "new"), ("m-read", "read")] {
        let mut message = ZNRecord::new(id);
        message.set_simple("MSG_ID", id);
        message.set_simple("MSG_TYPE", "STATE_TRANSITION");
        message.set_simple("MSG_STATE", state);
        message.set_simple("STATE_MODEL_DEF", "OnlineOffline");
        api.admin
            .accessor()
            .put(&paths.message("localhost_12913", id), &message)
            .await
            .expect("message");
    }
    let messages = api
        .get("/clusters/C/instances/localhost_12913/messages")
        .await
        .expect(200)
        .json;
    assert_eq!(names(&messages["new_messages"]), ["m-new"]);
    assert_eq!(names(&messages["read_messages"]), ["m-read"]);
    assert_eq!(messages["total_message_count"], 2);
    assert_eq!(messages["read_message_count"], 1);
    let filtered = api
        .get("/clusters/C/instances/localhost_12913/messages?stateModelDef=MasterSlave")
        .await
        .json;
    assert_eq!(filtered["total_message_count"], 0);
    let message = api
        .get("/clusters/C/instances/localhost_12913/messages/m-read")
        .await
        .expect(200)
        .json;
    assert_eq!(message["simpleFields"]["MSG_STATE"], "read");
    api.get("/clusters/C/instances/localhost_12913/messages/gone")
        .await
        .expect_error(404, "no message gone");

    let mut error = ZNRecord::new("db_0");
    error.set_simple("ERROR", "boom");
    api.admin
        .accessor()
        .put(
            &paths.error("localhost_12913", session_id, "db", "db_0"),
            &error,
        )
        .await
        .expect("error record");
    let errors = api
        .get("/clusters/C/instances/localhost_12913/errors")
        .await
        .expect(200)
        .json;
    assert_eq!(errors["total_error_count"], 1);
    assert_eq!(
        errors["errors"][session_id.to_string()]["db"],
        serde_json::json!(["db_0"])
    );
    let record = api
        .get(&format!(
            "/clusters/C/instances/localhost_12913/errors/{session_id}/db/db_0"
        ))
        .await
        .expect(200)
        .json;
    assert_eq!(record["simpleFields"]["ERROR"], "boom");
    api.get(&format!(
        "/clusters/C/instances/localhost_12913/errors/{session_id}/db/db_9"
    ))
    .await
    .expect(404);
}

#[tokio::test]
async fn set_instance_operation_drains_and_is_evacuate_finished_answers() {
    let api = Api::start().await;
    cluster_with_instances(&api).await;
    let path = "/clusters/C/instances/localhost_12913";
    api.post(
        &format!(
            "{path}?command=setInstanceOperation&instanceOperation=EVACUATE&reason=maintenance"
        ),
        "",
    )
    .await
    .expect(200);
    let config = api.get(&format!("{path}/configs")).await.expect(200).json;
    let operations = config["listFields"]["HELIX_INSTANCE_OPERATIONS"]
        .as_array()
        .expect("operations")
        .clone();
    assert_eq!(operations.len(), 1);
    let entry: serde_json::Value =
        serde_json::from_str(operations[0].as_str().expect("a JSON string")).expect("JSON");
    assert_eq!(entry["OPERATION"], "EVACUATE");
    assert_eq!(entry["SOURCE"], "USER");
    assert_eq!(entry["REASON"], "maintenance");
    // Not live: nothing left on it.
    let finished = api
        .post(&format!("{path}?command=isEvacuateFinished"), "")
        .await
        .expect(200)
        .json;
    assert_eq!(finished, serde_json::json!({ "successful": true }));

    let before = api.snapshot().await;
    api.post(
        &format!("{path}?command=setInstanceOperation&instanceOperation=SWAP_IN"),
        "",
    )
    .await
    .expect_error(400, "not supported by Strand");
    api.post(
        &format!("{path}?command=setInstanceOperation&instanceOperation=EVACUATE&instanceOperationSource=ROBOT"),
        "",
    )
    .await
    .expect_error(400, "unknown instanceOperationSource");
    assert_eq!(before, api.snapshot().await);

    // ENABLE (the default operation) ends the USER drain.
    api.post(&format!("{path}?command=setInstanceOperation"), "")
        .await
        .expect(200);
    let config = api.get(&format!("{path}/configs")).await.expect(200).json;
    let entry: serde_json::Value = serde_json::from_str(
        config["listFields"]["HELIX_INSTANCE_OPERATIONS"][0]
            .as_str()
            .expect("a JSON string"),
    )
    .expect("JSON");
    assert_eq!(entry["OPERATION"], "ENABLE");
}

#[tokio::test]
async fn tags_and_partitions_are_set_through_helix_commands() {
    let api = Api::start().await;
    cluster_with_instances(&api).await;
    let instance = "/clusters/C/instances/localhost_12913";
    let config = |api: &Api| {
        let api_admin = api.admin.clone();
        async move {
            strand_model::InstanceConfig::from(
                api_admin
                    .instance_config("C", "localhost_12913")
                    .await
                    .expect("config"),
            )
        }
    };

    api.post(
        &format!("{instance}?command=addInstanceTag"),
        r#"{"id":"localhost_12913","instanceTags":["ssd","rack1"]}"#,
    )
    .await
    .expect(200);
    assert_eq!(config(&api).await.tags(), ["ssd", "rack1"]);
    api.post(
        &format!("{instance}?command=removeInstanceTag"),
        r#"{"id":"localhost_12913","instanceTags":["ssd"]}"#,
    )
    .await
    .expect(200);
    assert_eq!(config(&api).await.tags(), ["rack1"]);
    // Helix checks the body names the instance.
    api.post(
        &format!("{instance}?command=addInstanceTag"),
        r#"{"id":"someone_else","instanceTags":["x"]}"#,
    )
    .await
    .expect_error(400, "does not match");
    assert_eq!(config(&api).await.tags(), ["rack1"]);

    api.post(
        &format!("{instance}?command=disablePartitions"),
        r#"{"resource":"db","partitions":["db_0","db_1"]}"#,
    )
    .await
    .expect(200);
    assert_eq!(
        config(&api).await.disabled_partitions("db"),
        ["db_0", "db_1"]
    );
    api.post(
        &format!("{instance}?command=enablePartitions"),
        r#"{"resource":"db","partitions":["db_1"]}"#,
    )
    .await
    .expect(200);
    assert_eq!(config(&api).await.disabled_partitions("db"), ["db_0"]);
    api.post(
        &format!("{instance}?command=disablePartitions"),
        r#"{"resource":"db"}"#,
    )
    .await
    .expect_error(400, "partitions");
}
