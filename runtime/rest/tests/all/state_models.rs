//! State model definition routes against a real ZooKeeper.

use crate::common::{Api, names};
use strand_model::builtin;

#[tokio::test]
async fn list_get_create_overwrite_and_delete() {
    let api = Api::start().await;
    api.put("/clusters/C", "").await.expect(201);
    let list = api.get("/clusters/C/statemodeldefs").await.expect(200).json;
    assert_eq!(list["id"], "C");
    let models = names(&list["stateModelDefinitions"]);
    assert!(models.iter().any(|m| m == "MasterSlave"), "{models:?}");

    // The stored definition is byte-for-byte Helix's.
    let got = api
        .get("/clusters/C/statemodeldefs/MasterSlave")
        .await
        .expect(200);
    let builtin = builtin::by_name("MasterSlave").expect("builtin");
    assert_eq!(
        got.json,
        serde_json::from_slice::<serde_json::Value>(&builtin.record().to_json_bytes())
            .expect("json")
    );
    api.get("/clusters/C/statemodeldefs/Nope")
        .await
        .expect_error(404, "state model Nope is not defined");

    // A copy under a new name.
    let mut copy = builtin.record().with_id("MyModel");
    let body = copy.to_json_string();
    api.put("/clusters/C/statemodeldefs/MyModel", &body)
        .await
        .expect(200);
    api.put("/clusters/C/statemodeldefs/MyModel", &body)
        .await
        .expect_error(409, "already exists");
    copy.set_simple("EXTRA", "1");
    api.post("/clusters/C/statemodeldefs/MyModel", &copy.to_json_string())
        .await
        .expect(200);
    let stored = api.get("/clusters/C/statemodeldefs/MyModel").await.json;
    assert_eq!(stored["simpleFields"]["EXTRA"], "1");

    let before = api.snapshot().await;
    api.put("/clusters/C/statemodeldefs/Other", &body)
        .await
        .expect_error(400, "does not match state model");
    let mut broken = copy.clone();
    broken.remove_simple("INITIAL_STATE");
    api.post(
        "/clusters/C/statemodeldefs/MyModel",
        &broken.to_json_string(),
    )
    .await
    .expect_error(400, "INITIAL_STATE");
    // In use by a resource: refused.
    assert_eq!(before, api.snapshot().await);
    api.put(
        "/clusters/C/resources/db?numPartitions=1&stateModelRef=MyModel",
        "",
    )
    .await
    .expect(200);
    api.delete("/clusters/C/statemodeldefs/MyModel")
        .await
        .expect_error(409, "used by resources db");
    api.delete("/clusters/C/resources/db").await.expect(200);
    api.delete("/clusters/C/statemodeldefs/MyModel")
        .await
        .expect(200);
    api.get("/clusters/C/statemodeldefs/MyModel")
        .await
        .expect(404);
}
