//! The REST API driving a real cluster: everything is set up over HTTP —
//! cluster, instances, resource, rebalance, the ResourceConfig key that
//! makes the MasterSlave plugin report a customized state, and Helix's
//! documented customized-state-config request verbatim — then a real
//! controller and real plugin participants run, and the API shows the
//! external view, the customized view the controller aggregated for the
//! type the request enabled, the leader and the live current states.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use strand_admin::Admin;
use strand_controller::Controller;
use strand_devcluster::plugins::{names, plugin_path};
use strand_devcluster::zookeeper::LocalZk;
use strand_participant::{Participant, ParticipantConfig};
use strand_plugin_host::{HostConfig, PluginHost, PluginOptions, PluginRegistry};
use strand_zk::ZkConfig;

const DEADLINE: Duration = Duration::from_secs(90);
const SEED: &str = r#"{"id":"CustomizedStateConfig","listFields":{"AGGREGATION_ENABLED_TYPES":["CUSTOMIZED_STATE_TYPE_0","CUSTOMIZED_STATE_TYPE_1"]},"simpleFields":{},"mapFields":{}}"#;

struct Http {
    base: String,
    client: reqwest::Client,
}

impl Http {
    async fn call(&self, method: reqwest::Method, path: &str, body: &str) -> (u16, Value) {
        let response = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header("Content-Type", "application/json")
            .body(body.to_owned())
            .send()
            .await
            .expect("HTTP request");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn ok(&self, method: reqwest::Method, path: &str, body: &str) {
        let (status, json) = self.call(method.clone(), path, body).await;
        assert!(
            status == 200 || status == 201,
            "{method} {path}: {status} {json}"
        );
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.call(reqwest::Method::GET, path, "").await
    }

    /// Polls `path` until it answers 200 with a body `done` accepts.
    async fn wait(&self, path: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
        let start = Instant::now();
        loop {
            let (status, json) = self.get(path).await;
            if status == 200 && done(&json) {
                return json;
            }
            assert!(
                start.elapsed() < DEADLINE,
                "timed out waiting for {what}: {status} {json}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// A view's partition → instance → state maps all have `n` entries, one
/// of them MASTER.
fn settled(view: &Value, partitions: usize, replicas: usize) -> bool {
    view["mapFields"].as_object().is_some_and(|maps| {
        maps.len() == partitions
            && maps.values().all(|m| {
                m.as_object().is_some_and(|m| {
                    m.len() == replicas && m.values().filter(|s| *s == "MASTER").count() == 1
                })
            })
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cluster_set_up_over_rest_runs_and_its_views_are_served() {
    use reqwest::Method;
    let server = LocalZk::start().expect("zookeeper");
    let admin = Admin::connect(&server.connect_string())
        .await
        .expect("admin");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let http = Http {
        base: format!("http://{}/admin/v2", listener.local_addr().expect("addr")),
        client: reqwest::Client::new(),
    };
    let router = strand_rest::router(admin, &strand_rest::RestConfig::default());
    tokio::spawn(strand_rest::serve(listener, router, std::future::pending()));

    let instances = ["localhost_12913", "localhost_12914"];
    http.ok(Method::PUT, "/clusters/myCluster", "").await;
    for instance in instances {
        http.ok(
            Method::PUT,
            &format!("/clusters/myCluster/instances/{instance}"),
            "",
        )
        .await;
    }
    http.ok(
        Method::PUT,
        "/clusters/myCluster/resources/myDB?numPartitions=2&stateModelRef=MasterSlave",
        "",
    )
    .await;
    http.ok(
        Method::POST,
        "/clusters/myCluster/resources/myDB?command=rebalance&replicas=2",
        "",
    )
    .await;
    http.ok(
        Method::POST,
        "/clusters/myCluster/resources/myDB/configs",
        r#"{"id":"myDB","simpleFields":{"strand.customized-state-type":"CUSTOMIZED_STATE_TYPE_0"}}"#,
    )
    .await;
    http.ok(
        Method::PUT,
        "/clusters/myCluster/customized-state-config",
        SEED,
    )
    .await;

    let cache = tempfile::tempdir().expect("cache");
    let host = PluginHost::new(HostConfig {
        cache_dir: Some(cache.path().to_path_buf()),
        ..HostConfig::default()
    })
    .expect("host");
    let registry = PluginRegistry::new(host);
    registry
        .install_file(
            "MasterSlave",
            &plugin_path(names::MASTER_SLAVE).expect("plugin built"),
            PluginOptions::default(),
        )
        .expect("install");
    let zk = ZkConfig::new(server.connect_string()).with_session_timeout(Duration::from_secs(4));
    let controller = Controller::start(zk.clone(), "myCluster", "ctrl-rest")
        .await
        .expect("controller");
    let mut participants = Vec::new();
    for instance in instances {
        participants.push(
            Participant::start(
                ParticipantConfig::new(zk.clone(), "myCluster", instance),
                Arc::clone(&registry),
            )
            .await
            .expect("participant"),
        );
    }

    http.wait(
        "/clusters/myCluster/resources/myDB/externalView",
        "the external view",
        |v| settled(v, 2, 2),
    )
    .await;
    // The controller aggregated the type the documented request enabled.
    http.wait(
        "/clusters/myCluster/resources/myDB/CUSTOMIZED_STATE_TYPE_0/customizedView",
        "the CUSTOMIZED_STATE_TYPE_0 customized view",
        |v| settled(v, 2, 2),
    )
    .await;
    let (status, _) = http
        .get("/clusters/myCluster/resources/myDB/CUSTOMIZED_STATE_TYPE_1/customizedView")
        .await;
    assert_eq!(status, 404, "nobody reports CUSTOMIZED_STATE_TYPE_1");

    let (_, leader) = http.get("/clusters/myCluster/controller").await;
    assert_eq!(leader["controller"], "ctrl-rest");
    assert!(leader["SESSION_ID"].is_string(), "{leader}");
    let (_, summary) = http.get("/clusters/myCluster").await;
    assert_eq!(summary["controller"], "ctrl-rest");
    assert_eq!(summary["liveInstances"], serde_json::json!(instances));
    let (_, listed) = http.get("/clusters/myCluster/instances").await;
    assert_eq!(listed["online"], serde_json::json!(instances));
    let (_, held) = http
        .get("/clusters/myCluster/instances/localhost_12913/resources")
        .await;
    assert_eq!(held["resources"], serde_json::json!(["myDB"]));
    let (status, state) = http
        .get("/clusters/myCluster/instances/localhost_12913/resources/myDB")
        .await;
    assert_eq!(status, 200);
    assert_eq!(state["id"], "myDB");
    let (_, resources) = http.get("/clusters/myCluster/resources").await;
    assert_eq!(resources["externalViews"], serde_json::json!(["myDB"]));

    // Disabling the resource over REST takes its replicas offline.
    http.ok(
        Method::POST,
        "/clusters/myCluster/resources/myDB?command=disable",
        "",
    )
    .await;
    http.wait(
        "/clusters/myCluster/resources/myDB/externalView",
        "the disabled resource's replicas going OFFLINE",
        |v| {
            v["mapFields"].as_object().is_some_and(|maps| {
                maps.values().all(|m| {
                    m.as_object()
                        .is_some_and(|m| m.values().all(|s| s == "OFFLINE"))
                })
            })
        },
    )
    .await;

    for p in participants {
        p.shutdown().await;
    }
    controller.shutdown().await.expect("controller stops");
}
