//! The customized-state config routes, starting with the request exactly
//! as Helix's documentation gives it.

use crate::common::Api;
use reqwest::Method;

/// Helix's documented request body, verbatim.
const SEED: &str = r#"{"id":"CustomizedStateConfig","listFields":{"AGGREGATION_ENABLED_TYPES":["CUSTOMIZED_STATE_TYPE_0","CUSTOMIZED_STATE_TYPE_1"]},"simpleFields":{},"mapFields":{}}"#;

#[tokio::test]
async fn helix_documented_put_then_add_delete_get_and_remove() {
    let api = Api::start().await;
    api.put("/clusters/myCluster", "").await.expect(201);
    api.get("/clusters/myCluster/customized-state-config")
        .await
        .expect_error(404, "no customized-state config");

    // curl -X PUT -H "Content-Type: application/json" …/customized-state-config -d '<SEED>'
    api.send(
        api.request(Method::PUT, "/clusters/myCluster/customized-state-config")
            .header("Content-Type", "application/json")
            .body(SEED),
    )
    .await
    .expect(200);
    assert_eq!(
        api.admin
            .customized_state_types("myCluster")
            .await
            .expect("types"),
        ["CUSTOMIZED_STATE_TYPE_0", "CUSTOMIZED_STATE_TYPE_1"]
    );
    let got = api
        .get("/clusters/myCluster/customized-state-config")
        .await
        .expect(200)
        .json;
    assert_eq!(got["id"], "CustomizedStateConfig");
    assert_eq!(
        got["listFields"]["AGGREGATION_ENABLED_TYPES"],
        serde_json::json!(["CUSTOMIZED_STATE_TYPE_0", "CUSTOMIZED_STATE_TYPE_1"])
    );

    // add (the default command) appends once; adding again does not duplicate.
    api.post(
        "/clusters/myCluster/customized-state-config?type=DEPLOY_STATE",
        "",
    )
    .await
    .expect(200);
    api.post(
        "/clusters/myCluster/customized-state-config?command=add&type=DEPLOY_STATE",
        "",
    )
    .await
    .expect(200);
    assert_eq!(
        api.admin
            .customized_state_types("myCluster")
            .await
            .expect("types"),
        [
            "CUSTOMIZED_STATE_TYPE_0",
            "CUSTOMIZED_STATE_TYPE_1",
            "DEPLOY_STATE"
        ]
    );
    api.post(
        "/clusters/myCluster/customized-state-config?command=delete&type=CUSTOMIZED_STATE_TYPE_0",
        "",
    )
    .await
    .expect(200);
    assert_eq!(
        api.admin
            .customized_state_types("myCluster")
            .await
            .expect("types"),
        ["CUSTOMIZED_STATE_TYPE_1", "DEPLOY_STATE"]
    );

    // Refusals change nothing.
    let before = api.snapshot().await;
    api.post(
        "/clusters/myCluster/customized-state-config?command=add",
        "",
    )
    .await
    .expect_error(400, "type is required");
    api.post(
        "/clusters/myCluster/customized-state-config?command=toggle&type=X",
        "",
    )
    .await
    .expect_error(400, "unsupported command");
    api.post(
        "/clusters/myCluster/customized-state-config?command=delete&type=NOPE",
        "",
    )
    .await
    .expect_error(400, "NOPE");
    api.put(
        "/clusters/myCluster/customized-state-config",
        r#"{"id":"CustomizedStateConfig","simpleFields":{}}"#,
    )
    .await
    .expect_error(400, "AGGREGATION_ENABLED_TYPES");
    api.put(
        "/clusters/myCluster/customized-state-config",
        r#"{"id":"CustomizedStateConfig","listFields":{"AGGREGATION_ENABLED_TYPES":["a/b"]}}"#,
    )
    .await
    .expect_error(400, "invalid customized-state type");
    api.put("/clusters/nope/customized-state-config", SEED)
        .await
        .expect_error(404, "cluster nope does not exist");
    assert_eq!(before, api.snapshot().await);

    api.delete("/clusters/myCluster/customized-state-config")
        .await
        .expect(200);
    api.get("/clusters/myCluster/customized-state-config")
        .await
        .expect(404);
    assert!(
        api.admin
            .customized_state_types("myCluster")
            .await
            .expect("types")
            .is_empty()
    );
}
