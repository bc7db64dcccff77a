//! Cluster routes against a real ZooKeeper: list, create, summary, pause,
//! maintenance, configs, controller, delete.

use crate::common::{Api, names};
use strand_model::PropertyPaths;

#[tokio::test]
async fn cluster_lifecycle_summary_pause_and_maintenance() {
    let api = Api::start().await;
    assert!(names(&api.get("/clusters").await.expect(200).json["clusters"]).is_empty());

    api.put("/clusters/myCluster", "").await.expect(201);
    api.put("/clusters/myCluster", "")
        .await
        .expect_error(409, "already exists");
    assert_eq!(
        names(&api.get("/clusters").await.expect(200).json["clusters"]),
        ["myCluster"]
    );

    let summary = api.get("/clusters/myCluster").await.expect(200).json;
    assert_eq!(summary["id"], "myCluster");
    assert_eq!(summary["controller"], "No Lead Controller!");
    assert_eq!(summary["paused"], false);
    assert_eq!(summary["maintenance"], false);
    assert!(names(&summary["instances"]).is_empty());

    // Pause and resume (the PAUSE signal).
    api.post("/clusters/myCluster?command=disable", "")
        .await
        .expect(200);
    assert_eq!(api.get("/clusters/myCluster").await.json["paused"], true);
    assert!(api.admin.is_paused("myCluster").await.expect("paused"));
    api.post("/clusters/myCluster?command=enable", "")
        .await
        .expect(200);
    assert_eq!(api.get("/clusters/myCluster").await.json["paused"], false);

    // Maintenance with a JSON map: `reason` becomes REASON, the rest custom fields.
    api.post(
        "/clusters/myCluster?command=enableMaintenanceMode",
        r#"{"reason":"upgrading racks","ticket":"OPS-7"}"#,
    )
    .await
    .expect(200);
    let maintenance = api
        .get("/clusters/myCluster/maintenance")
        .await
        .expect(200)
        .json;
    assert_eq!(maintenance["maintenance"], true);
    assert_eq!(maintenance["REASON"], "upgrading racks");
    assert_eq!(maintenance["TRIGGERED_BY"], "USER");
    assert_eq!(maintenance["ticket"], "OPS-7");
    assert_eq!(
        api.get("/clusters/myCluster").await.json["maintenance"],
        true
    );
    // Plain text is the reason.
    api.post(
        "/clusters/myCluster?command=enableMaintenanceMode",
        "disk swap",
    )
    .await
    .expect(200);
    let signal = api
        .admin
        .maintenance("myCluster")
        .await
        .expect("read")
        .expect("in maintenance");
    assert_eq!(signal.reason(), Some("disk swap"));
    api.post("/clusters/myCluster?command=disableMaintenanceMode", "")
        .await
        .expect(200);
    assert_eq!(
        api.get("/clusters/myCluster/maintenance").await.json["maintenance"],
        false
    );

    // No controller leads: the controller route says so.
    api.get("/clusters/myCluster/controller")
        .await
        .expect_error(404, "no controller leads cluster myCluster");

    api.delete("/clusters/myCluster").await.expect(200);
    api.get("/clusters/myCluster")
        .await
        .expect_error(404, "cluster myCluster does not exist");
    assert!(names(&api.get("/clusters").await.json["clusters"]).is_empty());
}

#[tokio::test]
async fn cluster_config_update_and_delete() {
    let api = Api::start().await;
    api.put("/clusters/C1", "").await.expect(201);
    let config = api.get("/clusters/C1/configs").await.expect(200).json;
    assert_eq!(config["id"], "C1");

    api.post(
        "/clusters/C1/configs?command=update",
        r#"{"id":"C1","simpleFields":{"allowParticipantAutoJoin":"true","MAX_OFFLINE_INSTANCES_ALLOWED":"2"},"listFields":{},"mapFields":{}}"#,
    )
    .await
    .expect(200);
    let config = api.get("/clusters/C1/configs").await.expect(200).json;
    assert_eq!(config["simpleFields"]["allowParticipantAutoJoin"], "true");
    assert_eq!(config["simpleFields"]["MAX_OFFLINE_INSTANCES_ALLOWED"], "2");

    api.post(
        "/clusters/C1/configs?command=delete",
        r#"{"id":"C1","simpleFields":{"MAX_OFFLINE_INSTANCES_ALLOWED":""}}"#,
    )
    .await
    .expect(200);
    let stored = api.admin.cluster_config("C1").await.expect("config");
    assert_eq!(stored.simple("MAX_OFFLINE_INSTANCES_ALLOWED"), None);
    assert_eq!(stored.simple("allowParticipantAutoJoin"), Some("true"));

    // Refusals change nothing.
    let before = api.snapshot().await;
    api.post("/clusters/C1/configs", r#"{"id":"C1"}"#)
        .await
        .expect_error(400, "command is required");
    api.post(
        "/clusters/C1/configs?command=update",
        r#"{"id":"OTHER","simpleFields":{"x":"y"}}"#,
    )
    .await
    .expect_error(400, "does not match cluster");
    api.post("/clusters/C1/configs?command=merge", r#"{"id":"C1"}"#)
        .await
        .expect_error(400, "unsupported command");
    assert_eq!(before, api.snapshot().await);
    assert!(
        api.admin
            .zk()
            .exists(&PropertyPaths::new("C1").cluster_config())
            .await
            .expect("exists")
            .is_some()
    );
}
