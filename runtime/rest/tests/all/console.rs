//! The web console against a real ZooKeeper: the page and its assets with
//! their security headers, and the live feed — a snapshot of every topic,
//! then only the topics a change touches (one resource's change never
//! resends another resource), partitions in ERROR with their INFO, and
//! refusals for clusters that do not exist or cannot.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::common::Api;
use serde_json::Value;
use strand_model::{PropertyPaths, ZNRecord};
use strand_zk::{CreateKind, Zk};

/// Generous: a change reaches the page within a second when the machine
/// is idle; the deadline only bounds a failing test.
const DEADLINE: Duration = Duration::from_secs(30);

/// A server-sent-events reader over a live response.
struct Events {
    response: reqwest::Response,
    buffer: String,
}

impl Events {
    async fn open(api: &Api, cluster: &str) -> Self {
        let url = format!("http://{}/console/clusters/{cluster}/events", api.address());
        let response = reqwest::get(url).await.expect("open the feed");
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()["content-type"].to_str().ok(),
            Some("text/event-stream")
        );
        Self {
            response,
            buffer: String::new(),
        }
    }

    /// The next event: its name and data.
    async fn next(&mut self) -> (String, Value) {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut name = String::from("message");
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(value) = line.strip_prefix("event:") {
                        name = value.trim().to_owned();
                    } else if let Some(value) = line.strip_prefix("data:") {
                        data.push_str(value.trim_start());
                    }
                }
                if data.is_empty() {
                    continue; // a keep-alive comment
                }
                return (
                    name,
                    serde_json::from_str(&data).expect("event data is JSON"),
                );
            }
            let chunk = tokio::time::timeout(DEADLINE, self.response.chunk())
                .await
                .expect("an event before the deadline")
                .expect("read the feed")
                .expect("the feed stays open");
            self.buffer
                .push_str(std::str::from_utf8(&chunk).expect("UTF-8"));
        }
    }

    /// Topic updates up to `ready`.
    async fn snapshot(&mut self) -> BTreeMap<String, Value> {
        let mut topics = BTreeMap::new();
        loop {
            match self.next().await {
                (name, _) if name == "ready" => return topics,
                (name, data) if name == "topic" => {
                    topics.insert(topic_of(&data), data["value"].clone());
                }
                (name, data) => panic!("unexpected event {name}: {data}"),
            }
        }
    }

    /// Topic updates until one satisfies `done`; returns every topic seen
    /// on the way (the last one included).
    async fn until(&mut self, mut done: impl FnMut(&str, &Value) -> bool) -> Vec<String> {
        let mut seen = Vec::new();
        loop {
            let (name, data) = self.next().await;
            assert_eq!(name, "topic", "unexpected event: {data}");
            let topic = topic_of(&data);
            seen.push(topic.clone());
            if done(&topic, &data["value"]) {
                return seen;
            }
        }
    }
}

fn topic_of(data: &Value) -> String {
    data["topic"].as_str().expect("a topic").to_owned()
}

async fn write(zk: &Zk, path: &str, record: &ZNRecord) {
    let data = record.to_json_bytes();
    if zk.exists(path).await.expect("exists").is_some() {
        zk.set(path, &data, None).await.expect("set");
    } else {
        zk.create_all(path).await.expect("create");
        zk.set(path, &data, None).await.expect("set");
    }
}

fn view(resource: &str, states: &[(&str, &str, &str)]) -> ZNRecord {
    let mut record = ZNRecord::new(resource);
    for (partition, instance, state) in states {
        record
            .map_mut(*partition)
            .insert((*instance).into(), (*state).into());
    }
    record
}

#[tokio::test]
async fn the_page_and_its_assets_are_served_with_a_strict_policy() {
    let api = Api::start().await;
    let client = reqwest::Client::new();
    for (path, kind) in [
        ("/", "text/html"),
        ("/console/app.js", "text/javascript"),
        ("/console/app.css", "text/css"),
    ] {
        let reply = client
            .get(format!("http://{}{path}", api.address()))
            .send()
            .await
            .expect("GET");
        assert_eq!(reply.status(), 200, "{path}");
        let headers = reply.headers().clone();
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        assert!(header("content-type").starts_with(kind), "{path}");
        assert!(header("content-security-policy").contains("default-src 'none'"));
        assert!(header("content-security-policy").contains("script-src 'self'"));
        assert_eq!(header("x-content-type-options"), "nosniff");
        let body = reply.text().await.expect("body");
        assert!(!body.is_empty());
        if path == "/" {
            assert!(body.contains("/console/app.js") && body.contains("/console/app.css"));
            assert!(
                !body.contains("http://") && !body.contains("https://"),
                "no CDN"
            );
        }
    }
}

#[tokio::test]
async fn the_feed_sends_a_snapshot_then_only_the_topics_a_change_touches() {
    let api = Api::start().await;
    api.put("/clusters/C", "").await.expect(201);
    api.put("/clusters/C/instances/h_1", "").await.expect(200);
    api.put("/clusters/C/instances/h_2", "").await.expect(200);
    for resource in ["db", "other"] {
        api.put(
            &format!("/clusters/C/resources/{resource}?numPartitions=2&stateModelRef=MasterSlave"),
            "",
        )
        .await
        .expect(200);
    }
    let zk = api.admin.zk().clone();
    let paths = PropertyPaths::new("C");
    write(
        &zk,
        &paths.external_view("db"),
        &view("db", &[("db_0", "h_1", "MASTER"), ("db_0", "h_2", "SLAVE")]),
    )
    .await;
    write(
        &zk,
        &paths.external_view("other"),
        &view("other", &[("other_0", "h_2", "MASTER")]),
    )
    .await;

    let mut events = Events::open(&api, "C").await;
    let snapshot = events.snapshot().await;
    for topic in [
        "instances",
        "controller",
        "plugins",
        "resource/db",
        "resource/other",
    ] {
        assert!(snapshot.contains_key(topic), "{topic} in {snapshot:?}");
    }
    let db = &snapshot["resource/db"];
    assert_eq!(db["views"]["EXTERNALVIEW"]["db_0"]["h_1"], "MASTER");
    assert_eq!(db["ideal_state"]["state_model"], "MasterSlave");
    let instances = snapshot["instances"]["instances"]
        .as_array()
        .expect("instances");
    assert_eq!(instances.len(), 2);
    assert_eq!(instances[0]["name"], "h_1");
    assert_eq!(instances[0]["live"], false);
    assert_eq!(instances[0]["enabled"], true);
    assert_eq!(snapshot["controller"]["leader"], Value::Null);

    // A failover in db's view: db's topic comes, other's never does.
    write(
        &zk,
        &paths.external_view("db"),
        &view("db", &[("db_0", "h_1", "SLAVE"), ("db_0", "h_2", "MASTER")]),
    )
    .await;
    let seen = events
        .until(|topic, value| {
            topic == "resource/db" && value["views"]["EXTERNALVIEW"]["db_0"]["h_2"] == "MASTER"
        })
        .await;
    assert!(
        !seen.iter().any(|t| t == "resource/other"),
        "an unchanged resource was resent: {seen:?}"
    );

    // An instance disabled through the API: the instances topic says so.
    api.post("/clusters/C/instances/h_2?command=disable", "")
        .await
        .expect(200);
    let seen = events
        .until(|topic, value| {
            topic == "instances" && value["instances"][1]["enabled"] == Value::Bool(false)
        })
        .await;
    assert!(!seen.iter().any(|t| t.starts_with("resource/")), "{seen:?}");

    // What a participant reports running, and the leader's status record.
    let mut status = ZNRecord::new("h_1");
    status
        .map_mut("MasterSlave")
        .insert("ACTIVE_VERSION".into(), "0.2.0".into());
    write(&zk, "/C/PROPERTYSTORE/STRAND/STATUS/h_1", &status).await;
    events
        .until(|topic, value| {
            topic == "instances" && value["instances"][0]["plugins"]["MasterSlave"] == "0.2.0"
        })
        .await;
    let mut leader = ZNRecord::new("CONTROLLER");
    leader.set_simple("LEADER", "ctl0");
    leader.set_simple("CONVERGED", "true");
    write(&zk, "/C/PROPERTYSTORE/STRAND/CONTROLLER", &leader).await;
    events
        .until(|topic, value| {
            topic == "controller" && value["status"]["simpleFields"]["CONVERGED"] == "true"
        })
        .await;

    // A live instance whose current state holds a partition in ERROR: the
    // resource's document lists it with the participant's INFO.
    let mut live = ZNRecord::new("h_1");
    live.set_simple("SESSION_ID", "5a1");
    zk.create(
        &paths.live_instance("h_1"),
        &live.to_json_bytes(),
        CreateKind::Ephemeral,
    )
    .await
    .expect("live instance");
    let mut current = ZNRecord::new("other");
    current.set_simple("SESSION_ID", "5a1");
    let entry = current.map_mut("other_1");
    entry.insert("CURRENT_STATE".into(), "ERROR".into());
    entry.insert("INFO".into(), "the plugin trapped".into());
    write(&zk, &paths.current_state("h_1", "5a1", "other"), &current).await;
    events
        .until(|topic, value| {
            topic == "resource/other"
                && value["errors"][0]["partition"] == "other_1"
                && value["errors"][0]["instance"] == "h_1"
                && value["errors"][0]["info"] == "the plugin trapped"
        })
        .await;

    // A dropped resource's topic is removed (a null value).
    zk.delete(&paths.external_view("db"), None)
        .await
        .expect("delete view");
    api.delete("/clusters/C/resources/db").await.expect(200);
    events
        .until(|topic, value| topic == "resource/db" && value.is_null())
        .await;

    // A second page on the same cluster gets the same snapshot.
    let mut second = Events::open(&api, "C").await;
    let again = second.snapshot().await;
    assert!(!again.contains_key("resource/db"));
    assert_eq!(again["resource/other"]["errors"][0]["partition"], "other_1");
}

#[tokio::test]
async fn the_feed_of_a_cluster_that_does_not_exist_is_refused() {
    let api = Api::start().await;
    let client = reqwest::Client::new();
    let get = |cluster: &str| {
        client
            .get(format!(
                "http://{}/console/clusters/{cluster}/events",
                api.address()
            ))
            .send()
    };
    let missing = get("nowhere").await.expect("GET");
    assert_eq!(missing.status(), 404);
    let body: Value = missing.json().await.expect("JSON error");
    assert!(
        body["error"]
            .as_str()
            .unwrap_or_default()
            .contains("nowhere")
    );
    // A control character no znode name may hold.
    let invalid = get("a%01b").await.expect("GET");
    assert_eq!(invalid.status(), 400);
}
