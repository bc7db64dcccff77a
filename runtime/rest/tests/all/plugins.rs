//! Strand's plugin routes against a real ZooKeeper with real plugin
//! components from `plugins/`: upload, list, history, rollback, and the
//! refusals (not a component, unknown cluster or plugin, over the cap).

use crate::common::Api;
use reqwest::Method;
use serde_json::Value;
use strand_devcluster::plugins::{names, plugin_path};
use strand_rest::RestConfig;

fn component(name: &str) -> Vec<u8> {
    std::fs::read(plugin_path(name).expect("plugin built")).expect("read component")
}

async fn upload(api: &Api, path: &str, bytes: Vec<u8>) -> crate::common::Reply {
    api.send(
        api.request(Method::POST, path)
            .header("Content-Type", "application/wasm")
            .body(bytes),
    )
    .await
}

fn active_version(list: &Value, plugin: &str) -> Option<String> {
    list["plugins"]
        .as_array()?
        .iter()
        .find(|p| p["name"] == plugin)
        .and_then(|p| p["active"]["version"].as_str().map(str::to_owned))
}

#[tokio::test]
async fn upload_list_history_and_rollback() {
    let api = Api::start().await;
    api.put("/clusters/C", "").await.expect(201);
    let empty = api.get("/clusters/C/plugins").await.expect(200).json;
    assert_eq!(empty["plugins"], serde_json::json!([]));

    let first = upload(&api, "/clusters/C/plugins", component(names::MASTER_SLAVE))
        .await
        .expect(200)
        .json;
    assert_eq!(first["name"], "MasterSlave");
    assert_eq!(first["active"], true);
    assert_eq!(first["deployed_by"], "strand-rest");
    let next = upload(
        &api,
        "/clusters/C/plugins",
        component(names::MASTER_SLAVE_NEXT),
    )
    .await
    .expect(200)
    .json;
    assert_ne!(first["version"], next["version"]);

    let list = api.get("/clusters/C/plugins").await.expect(200).json;
    assert_eq!(
        active_version(&list, "MasterSlave"),
        next["version"].as_str().map(str::to_owned)
    );
    let history = api
        .get("/clusters/C/plugins/MasterSlave")
        .await
        .expect(200)
        .json;
    let versions: Vec<&Value> = history["versions"]
        .as_array()
        .expect("versions")
        .iter()
        .map(|d| &d["version"])
        .collect();
    assert_eq!(versions, [&first["version"], &next["version"]]);

    let rolled = api
        .post("/clusters/C/plugins/MasterSlave?command=rollback", "")
        .await
        .expect(200)
        .json;
    assert_eq!(rolled["version"], first["version"]);
    let list = api.get("/clusters/C/plugins").await.json;
    assert_eq!(
        active_version(&list, "MasterSlave"),
        first["version"].as_str().map(str::to_owned)
    );

    // Refusals change nothing.
    let before = api.snapshot().await;
    upload(&api, "/clusters/C/plugins", b"not a component".to_vec())
        .await
        .expect(400);
    upload(&api, "/clusters/C/plugins", Vec::new())
        .await
        .expect_error(400, "body is empty");
    upload(
        &api,
        "/clusters/NOPE/plugins",
        component(names::MASTER_SLAVE),
    )
    .await
    .expect_error(404, "cluster NOPE");
    api.get("/clusters/C/plugins/Nope").await.expect(404);
    api.post("/clusters/C/plugins/Nope?command=rollback", "")
        .await
        .expect(404);
    api.post("/clusters/C/plugins/MasterSlave?command=delete", "")
        .await
        .expect_error(400, "unsupported command");
    assert_eq!(before, api.snapshot().await);
}

#[tokio::test]
async fn uploads_over_the_deployment_cap_get_413() {
    let bytes = component(names::MASTER_SLAVE);
    let api = Api::start_with(RestConfig {
        // Under the component's size, but far above the ordinary body limit.
        max_body_bytes: 1024,
        max_plugin_bytes: bytes.len() - 1,
        ..RestConfig::default()
    })
    .await;
    api.put("/clusters/C", "").await.expect(201);
    let before = api.snapshot().await;
    upload(&api, "/clusters/C/plugins", bytes).await.expect(413);
    assert_eq!(before, api.snapshot().await);
}
