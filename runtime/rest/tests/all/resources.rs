//! Resource routes against a real ZooKeeper: add from parameters or an
//! IdealState body, list, inspect, IdealState edits, enable/disable,
//! rebalance, ResourceConfig, views and drop.

use crate::common::{Api, names};
use strand_model::IdealState;

async fn cluster(api: &Api) {
    api.put("/clusters/C", "").await.expect(201);
    for port in 12913..12916 {
        api.put(&format!("/clusters/C/instances/localhost_{port}"), "")
            .await
            .expect(200);
    }
}

#[tokio::test]
async fn add_inspect_rebalance_enable_and_drop() {
    let api = Api::start().await;
    cluster(&api).await;
    api.put(
        "/clusters/C/resources/myDB?numPartitions=4&stateModelRef=MasterSlave&rebalancerMode=SEMI_AUTO",
        "",
    )
    .await
    .expect(200);
    // From a whole IdealState.
    api.put(
        "/clusters/C/resources/oodb",
        r#"{"id":"oodb","simpleFields":{"NUM_PARTITIONS":"2","REBALANCE_MODE":"FULL_AUTO","REPLICAS":"2","STATE_MODEL_DEF_REF":"OnlineOffline","STATE_MODEL_FACTORY_NAME":"DEFAULT"},"listFields":{"oodb_0":[],"oodb_1":[]},"mapFields":{"oodb_0":{},"oodb_1":{}}}"#,
    )
    .await
    .expect(200);

    let list = api.get("/clusters/C/resources").await.expect(200).json;
    assert_eq!(list["id"], "C");
    assert_eq!(names(&list["idealStates"]), ["myDB", "oodb"]);
    assert!(names(&list["externalViews"]).is_empty());

    let one = api.get("/clusters/C/resources/myDB").await.expect(200).json;
    assert_eq!(one["id"], "myDB");
    assert_eq!(one["idealState"]["simpleFields"]["NUM_PARTITIONS"], "4");
    assert_eq!(
        one["idealState"]["simpleFields"]["STATE_MODEL_DEF_REF"],
        "MasterSlave"
    );
    assert!(one["resourceConfig"].is_null());
    assert!(one["externalView"].is_null());

    api.post(
        "/clusters/C/resources/myDB?command=rebalance&replicas=3",
        "",
    )
    .await
    .expect(200);
    let ideal = api
        .get("/clusters/C/resources/myDB/idealState")
        .await
        .expect(200)
        .json;
    assert_eq!(ideal["simpleFields"]["REPLICAS"], "3");
    for p in 0..4 {
        let list = names(&ideal["listFields"][format!("myDB_{p}")]);
        assert_eq!(list.len(), 3, "myDB_{p}: {list:?}");
    }

    api.post("/clusters/C/resources/myDB?command=disable", "")
        .await
        .expect(200);
    assert!(
        !api.admin
            .ideal_state("C", "myDB")
            .await
            .expect("is")
            .enabled()
    );
    api.post("/clusters/C/resources/myDB?command=enable", "")
        .await
        .expect(200);
    assert!(
        api.admin
            .ideal_state("C", "myDB")
            .await
            .expect("is")
            .enabled()
    );

    // IdealState edits: update (default) then delete.
    api.post(
        "/clusters/C/resources/myDB/idealState",
        r#"{"id":"myDB","simpleFields":{"MIN_ACTIVE_REPLICAS":"2"}}"#,
    )
    .await
    .expect(200);
    assert_eq!(
        api.admin
            .ideal_state("C", "myDB")
            .await
            .expect("is")
            .min_active_replicas(),
        Some(2)
    );
    api.post(
        "/clusters/C/resources/myDB/idealState?command=delete",
        r#"{"id":"myDB","simpleFields":{"MIN_ACTIVE_REPLICAS":""}}"#,
    )
    .await
    .expect(200);
    assert_eq!(
        api.admin
            .ideal_state("C", "myDB")
            .await
            .expect("is")
            .min_active_replicas(),
        None
    );

    // ResourceConfig: none yet, then created by an update.
    api.get("/clusters/C/resources/myDB/configs")
        .await
        .expect_error(404, "no ResourceConfig");
    api.post(
        "/clusters/C/resources/myDB/configs?command=update",
        r#"{"id":"myDB","simpleFields":{"strand.customized-state-type":"DEPLOY_STATE"}}"#,
    )
    .await
    .expect(200);
    let config = api
        .get("/clusters/C/resources/myDB/configs")
        .await
        .expect(200)
        .json;
    assert_eq!(
        config["simpleFields"]["strand.customized-state-type"],
        "DEPLOY_STATE"
    );
    assert_eq!(
        api.get("/clusters/C/resources/myDB").await.json["resourceConfig"]["id"],
        "myDB"
    );

    // Views are 404 until a controller writes them.
    api.get("/clusters/C/resources/myDB/externalView")
        .await
        .expect_error(404, "no external view");
    api.get("/clusters/C/resources/myDB/DEPLOY_STATE/customizedView")
        .await
        .expect_error(404, "no DEPLOY_STATE customized view");

    api.delete("/clusters/C/resources/oodb").await.expect(200);
    api.get("/clusters/C/resources/oodb")
        .await
        .expect_error(404, "resource oodb is not in cluster C");
    assert_eq!(
        names(&api.get("/clusters/C/resources").await.json["idealStates"]),
        ["myDB"]
    );
}

#[tokio::test]
async fn bad_resource_requests_change_nothing() {
    let api = Api::start().await;
    cluster(&api).await;
    api.put(
        "/clusters/C/resources/myDB?numPartitions=2&stateModelRef=MasterSlave",
        "",
    )
    .await
    .expect(200);
    let before = api.snapshot().await;

    api.put(
        "/clusters/C/resources/myDB?numPartitions=2&stateModelRef=MasterSlave",
        "",
    )
    .await
    .expect_error(409, "already exists");
    api.put("/clusters/C/resources/x?stateModelRef=MasterSlave", "")
        .await
        .expect_error(400, "numPartitions is required");
    api.put(
        "/clusters/C/resources/x?numPartitions=many&stateModelRef=MasterSlave",
        "",
    )
    .await
    .expect_error(400, "numPartitions=\"many\"");
    api.put(
        "/clusters/C/resources/x?numPartitions=2&stateModelRef=MasterSlave&rebalancerMode=SOMETIMES",
        "",
    )
    .await
    .expect_error(400, "rebalancerMode");
    api.put(
        "/clusters/C/resources/x?numPartitions=2&stateModelRef=Nope",
        "",
    )
    .await
    .expect_error(404, "state model Nope");
    api.put(
        "/clusters/C/resources/x",
        r#"{"id":"y","simpleFields":{"NUM_PARTITIONS":"1","STATE_MODEL_DEF_REF":"MasterSlave"}}"#,
    )
    .await
    .expect_error(400, "does not match resource");
    api.put(
        "/clusters/C/resources/x",
        r#"{"id":"x","simpleFields":{"NUM_PARTITIONS":"1"}}"#,
    )
    .await
    .expect_error(400, "STATE_MODEL_DEF_REF");
    api.post("/clusters/C/resources/myDB?command=rebalance", "")
        .await
        .expect_error(400, "replicas is required");
    api.post(
        "/clusters/C/resources/myDB?command=rebalance&replicas=9",
        "",
    )
    .await
    .expect_error(400, "fewer than 9 replicas");
    api.post("/clusters/C/resources/myDB?command=shuffle", "")
        .await
        .expect_error(400, "unsupported command");
    // An edit that would leave an invalid IdealState is refused whole.
    api.post(
        "/clusters/C/resources/myDB/idealState?command=delete",
        r#"{"id":"myDB","simpleFields":{"STATE_MODEL_DEF_REF":""}}"#,
    )
    .await
    .expect_error(400, "invalid IdealState");
    // A rebalance mode Helix does not define, as an edit or in a body.
    api.post(
        "/clusters/C/resources/myDB/idealState",
        r#"{"id":"myDB","simpleFields":{"REBALANCE_MODE":"NOPE"}}"#,
    )
    .await
    .expect_error(400, "REBALANCE_MODE \"NOPE\"");
    api.post(
        "/clusters/C/resources/myDB/idealState",
        r#"{"id":"myDB","simpleFields":{"IDEAL_STATE_MODE":"SOMETIMES"}}"#,
    )
    .await
    .expect_error(400, "IDEAL_STATE_MODE");
    api.put(
        "/clusters/C/resources/x",
        r#"{"id":"x","simpleFields":{"NUM_PARTITIONS":"1","STATE_MODEL_DEF_REF":"MasterSlave","REBALANCE_MODE":"NOPE"}}"#,
    )
    .await
    .expect_error(400, "REBALANCE_MODE");
    // Partition counts no ZooKeeper record could hold: one clear 400.
    for count in ["2000000000", "900000"] {
        api.put(
            &format!("/clusters/C/resources/x?numPartitions={count}&stateModelRef=MasterSlave"),
            "",
        )
        .await
        .expect_error(400, "cannot fit in one ZooKeeper record");
    }
    api.put(
        "/clusters/C/resources/x",
        r#"{"id":"x","simpleFields":{"NUM_PARTITIONS":"2000000000","STATE_MODEL_DEF_REF":"MasterSlave","REBALANCE_MODE":"FULL_AUTO"}}"#,
    )
    .await
    .expect_error(400, "cannot fit in one ZooKeeper record");
    api.post(
        "/clusters/C/resources/myDB/idealState",
        r#"{"id":"myDB","simpleFields":{"NUM_PARTITIONS":"2000000000"}}"#,
    )
    .await
    .expect_error(400, "cannot fit in one ZooKeeper record");
    api.post(
        "/clusters/C/resources/nope/idealState",
        r#"{"id":"nope","simpleFields":{}}"#,
    )
    .await
    .expect_error(404, "resource nope");
    api.post(
        "/clusters/C/resources/nope/configs",
        r#"{"id":"nope","simpleFields":{}}"#,
    )
    .await
    .expect_error(404, "resource nope");
    api.delete("/clusters/C/resources/nope")
        .await
        .expect_error(404, "resource nope");
    assert_eq!(before, api.snapshot().await);
    assert!(
        IdealState::from(
            api.admin
                .accessor()
                .get(&strand_model::PropertyPaths::new("C").ideal_state("myDB"))
                .await
                .expect("read")
                .expect("present")
                .value
        )
        .validate()
        .is_ok()
    );
}
