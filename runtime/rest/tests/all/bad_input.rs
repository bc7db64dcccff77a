//! Bad requests: malformed bodies, oversized bodies, unknown clusters,
//! routes and methods all get a 4xx with a JSON error naming the problem,
//! and ZooKeeper is left exactly as it was.

use crate::common::Api;
use strand_rest::RestConfig;

#[tokio::test]
async fn malformed_bodies_unknown_clusters_and_routes() {
    let api = Api::start().await;
    api.put("/clusters/C", "").await.expect(201);
    api.put("/clusters/C/instances/localhost_1", "")
        .await
        .expect(200);
    api.put(
        "/clusters/C/resources/db?numPartitions=1&stateModelRef=MasterSlave",
        "",
    )
    .await
    .expect(200);
    let before = api.snapshot().await;

    // Record routes: not JSON, not an object, no id, wrong field types, empty.
    let record_routes = [
        ("PUT", "/clusters/C/customized-state-config"),
        ("POST", "/clusters/C/configs?command=update"),
        ("PUT", "/clusters/C/statemodeldefs/X"),
        ("POST", "/clusters/C/statemodeldefs/X"),
        ("POST", "/clusters/C/instances/localhost_1/configs"),
        ("POST", "/clusters/C/resources/db/idealState"),
        ("POST", "/clusters/C/resources/db/configs"),
        ("PUT", "/clusters/C/resources/other"),
        ("PUT", "/clusters/C/instances/localhost_2"),
    ];
    let bodies = [
        ("{\"id\": \"x\", ", "not a ZNRecord"),
        ("[1, 2]", "expected an object"),
        (r#"{"simpleFields":{}}"#, "no \"id\""),
        (
            r#"{"id":"x","listFields":{"L":"not-a-list"}}"#,
            "expected an array",
        ),
        (r#"{"id":"x","simpleFields":[]}"#, "not a ZNRecord"),
    ];
    for (method, path) in record_routes {
        for (body, needle) in bodies {
            let reply = api
                .send(
                    api.request(method.parse().expect("method"), path)
                        .header("Content-Type", "application/json")
                        .body(body.to_owned()),
                )
                .await;
            assert_eq!(reply.status, 400, "{method} {path} {body}: {}", reply.text);
            assert!(
                reply.error().contains(needle),
                "{method} {path} {body}: {} lacks {needle}",
                reply.text
            );
        }
    }
    for path in [
        "/clusters/C/customized-state-config",
        "/clusters/C/statemodeldefs/X",
    ] {
        api.put(path, "")
            .await
            .expect_error(400, "the request body is empty");
    }
    api.post(
        "/clusters/C?command=enableMaintenanceMode",
        r#"{"reason": 5}"#,
    )
    .await
    .expect_error(400, "JSON object of strings");
    api.post("/clusters/C?command=enableMaintenanceMode", "{oops")
        .await
        .expect_error(400, "JSON object of strings");
    api.post("/clusters/C", "")
        .await
        .expect_error(400, "command is required");
    api.post("/clusters/C?command=explode", "")
        .await
        .expect_error(400, "unsupported command \"explode\"");
    api.put("/clusters/D?recreate=maybe", "")
        .await
        .expect_error(400, "recreate");
    api.put("/clusters/D?recreate=true", "")
        .await
        .expect_error(400, "not supported");
    api.put("/clusters/bad%2Fname", "")
        .await
        .expect_error(400, "invalid cluster name");

    // Unknown clusters: 404 naming the cluster on every kind of route.
    for path in [
        "/clusters/NOPE",
        "/clusters/NOPE/configs",
        "/clusters/NOPE/maintenance",
        "/clusters/NOPE/controller",
        "/clusters/NOPE/instances",
        "/clusters/NOPE/instances/localhost_1",
        "/clusters/NOPE/resources",
        "/clusters/NOPE/resources/db/externalView",
        "/clusters/NOPE/statemodeldefs",
        "/clusters/NOPE/customized-state-config",
    ] {
        api.get(path)
            .await
            .expect_error(404, "cluster NOPE does not exist");
    }
    api.delete("/clusters/NOPE")
        .await
        .expect_error(404, "cluster NOPE does not exist");
    api.post("/clusters/NOPE?command=disable", "")
        .await
        .expect_error(404, "cluster NOPE");

    // Unknown routes and methods.
    api.get("/nothing/here")
        .await
        .expect_error(404, "no route GET /admin/v2/nothing/here");
    api.send(api.request(reqwest::Method::PATCH, "/clusters/C"))
        .await
        .expect_error(405, "does not support PATCH");
    api.post("/clusters", "")
        .await
        .expect_error(405, "does not support POST");

    assert_eq!(
        before,
        api.snapshot().await,
        "a refused request changed ZooKeeper"
    );
}

#[tokio::test]
async fn bodies_over_the_limit_get_413_and_change_nothing() {
    let api = Api::start_with(RestConfig {
        max_body_bytes: 4096,
        ..RestConfig::default()
    })
    .await;
    api.put("/clusters/C", "").await.expect(201);
    let before = api.snapshot().await;
    let big = format!(
        r#"{{"id":"CustomizedStateConfig","listFields":{{"AGGREGATION_ENABLED_TYPES":["{}"]}}}}"#,
        "T".repeat(8192)
    );
    api.put("/clusters/C/customized-state-config", &big)
        .await
        .expect_error(413, "larger than this server accepts");
    assert_eq!(before, api.snapshot().await);
    // Under the limit the same route works.
    api.put(
        "/clusters/C/customized-state-config",
        r#"{"id":"CustomizedStateConfig","listFields":{"AGGREGATION_ENABLED_TYPES":["T"]}}"#,
    )
    .await
    .expect(200);
}

/// Every route, with each of its path names replaced in turn by a name
/// ZooKeeper cannot take — sent byte for byte, so `..` and `.` reach the
/// server — answers 400 naming the problem (never 500), and nothing
/// changes.
#[tokio::test]
async fn names_zookeeper_cannot_take_are_400_on_every_route() {
    let api = Api::start().await;
    api.put("/clusters/C", "").await.expect(201);
    let before = api.snapshot().await;
    let bad_names = [
        ("..", "relative paths"),
        (".", "relative paths"),
        ("a%00b", "NUL"),
        ("a%01b", "control characters"),
        ("a%7Fb", "control characters"),
        ("smile%F0%9F%98%80", "Basic Multilingual Plane"),
        ("a%2Fb", "'/'"),
        ("%EE%80%80", "private-use"),
    ];
    let mut checked = 0;
    for route in strand_rest::routes() {
        let path = route.path.trim_start_matches(strand_rest::PREFIX);
        let params: Vec<&str> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .collect();
        for bad_param in &params {
            for (bad, needle) in bad_names {
                let mut target = path.to_owned();
                for param in &params {
                    let value = if param == bad_param { bad } else { "C" };
                    target = target.replace(&format!("{{{param}}}"), value);
                }
                let method = format!("{:?}", route.verb).to_uppercase();
                let reply = api
                    .raw(
                        &method,
                        &target,
                        &[("Content-Type", "application/json")],
                        b"{}",
                    )
                    .await;
                assert_eq!(reply.status, 400, "{method} {target}: {}", reply.text);
                assert!(
                    reply.error().contains("invalid") && reply.error().contains(needle),
                    "{method} {target}: {}",
                    reply.text
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 300, "only {checked} requests checked");
    assert_eq!(before, api.snapshot().await, "a bad name changed ZooKeeper");
}
