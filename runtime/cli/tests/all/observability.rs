//! Seeing a running cluster from outside (real ZooKeeper, a `strand
//! controller`, two `strand participant` processes with the Rust
//! MasterSlave plugin, a `strand rest`, each with `--metrics-listen` and
//! `--log-format json`):
//!
//! * each process serves Prometheus text on `/metrics`: the participants
//!   count their transitions by state model, from, to and outcome, their
//!   plugin calls by plugin and version, the version serving and their
//!   ZooKeeper session; the controller says it leads, counts its runs and
//!   messages, and reports each resource's convergence gap (nothing
//!   pending once converged, a resource with a broken IdealState held
//!   back); the REST server counts requests by route template;
//! * a routing table (`strand routes --watch`) reports its generation
//!   and how long after a view's write its snapshot showed it;
//! * one transition can be followed across the JSON logs: the
//!   participant's "transition done" line carries the cluster, instance,
//!   resource, partition and message id, and the controller's "message
//!   sent" line for the same message id carries the cluster.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::common::{DEADLINE, StrandProcess};
use serde_json::Value;
use strand_admin::RebalanceMode;
use strand_devcluster::plugins::{compiled_cache_dir, names, plugin_path};
use strand_tests::cluster::{CLUSTER, Cluster, count, instance};

/// A `strand` process logging JSON to a file, with metrics on a free
/// loopback port.
struct Process(StrandProcess);

impl Process {
    fn spawn(zk: &str, args: &[&str]) -> Self {
        Self(StrandProcess::spawn(|command| {
            command
                .args(["--zk", zk, "--log-format", "json", "-v"])
                .args(args)
                .args(["--metrics-listen", "127.0.0.1:0"])
                .env_remove("RUST_LOG");
        }))
    }

    fn participant(zk: &str, i: usize) -> Self {
        let plugin = plugin_path(names::MASTER_SLAVE).expect("plugin built");
        let plugin = format!("MasterSlave={}", plugin.display());
        let cache = compiled_cache_dir();
        let instance = instance(i);
        Self::spawn(
            zk,
            &[
                "participant",
                "--cluster",
                CLUSTER,
                "--instance",
                &instance,
                "--plugin",
                &plugin,
                "--cache-dir",
                path_str(&cache),
            ],
        )
    }

    fn stderr(&self) -> String {
        self.0.stderr()
    }

    /// The JSON log records written so far (other stderr lines, such as
    /// the banner, are not JSON and are skipped).
    fn records(&self) -> Vec<Value> {
        self.stderr()
            .lines()
            .filter(|line| line.starts_with('{'))
            .map(|line| serde_json::from_str(line).expect("every JSON log line parses"))
            .collect()
    }

    /// The metrics address the process announced.
    async fn metrics_url(&mut self) -> String {
        let start = Instant::now();
        loop {
            if let Some(line) = self
                .stderr()
                .lines()
                .find_map(|l| l.strip_prefix("metrics on "))
            {
                return line.trim().to_owned();
            }
            if let Some(status) = self.0.exited() {
                panic!("exited with {status}:\n{}", self.stderr());
            }
            assert!(
                start.elapsed() < DEADLINE,
                "no metrics address:\n{}",
                self.stderr()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}

/// The value of the sample `name{labels}` (labels exactly as exposed), if
/// the page has it.
fn sample(page: &str, series: &str) -> Option<f64> {
    page.lines().find_map(|line| {
        let value = line.strip_prefix(series)?.strip_prefix(' ')?;
        value.trim().parse().ok()
    })
}

async fn scrape(url: &str) -> String {
    let response = reqwest::get(url).await.expect("scrape");
    assert_eq!(response.status().as_u16(), 200);
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    response.text().await.expect("body")
}

/// Scrapes `url` until `done` holds for the page.
async fn scrape_until(url: &str, what: &str, done: impl Fn(&str) -> bool) -> String {
    let start = Instant::now();
    loop {
        let page = scrape(url).await;
        if done(&page) {
            return page;
        }
        assert!(start.elapsed() < DEADLINE, "{what}; last scrape:\n{page}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A span's field in a JSON record (`spans`, outermost first).
fn span_field<'a>(record: &'a Value, span: &str, field: &str) -> Option<&'a str> {
    record["spans"]
        .as_array()?
        .iter()
        .find(|s| s["name"] == span)?
        .get(field)?
        .as_str()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_and_json_logs_show_what_the_cluster_does() {
    const PARTITIONS: u32 = 8;
    let cluster = Cluster::new(2).await;
    let zk = cluster.server.connect_string();
    cluster
        .add_master_slave_replicas("db", PARTITIONS, 2, RebalanceMode::SemiAuto)
        .await;
    let mut participants = [Process::participant(&zk, 0), Process::participant(&zk, 1)];
    let mut controller =
        Process::spawn(&zk, &["controller", "--cluster", CLUSTER, "--name", "ctl0"]);
    cluster
        .wait_view("db", "convergence", |view| {
            view.len() == PARTITIONS as usize
                && view
                    .values()
                    .all(|m| count(m, "MASTER") == 1 && count(m, "SLAVE") == 1)
        })
        .await;

    // Participants: every replica went OFFLINE → SLAVE, half of them on
    // to MASTER, all counted with their plugin calls.
    let mut offline_to_slave = 0.0;
    let mut slave_to_master = 0.0;
    for p in &mut participants {
        let url = p.metrics_url().await;
        let page = scrape(&url).await;
        offline_to_slave += sample(
            &page,
            r#"strand_transitions_total{state_model="MasterSlave",from="OFFLINE",to="SLAVE",outcome="ok"}"#,
        )
        .unwrap_or(0.0);
        slave_to_master += sample(
            &page,
            r#"strand_transitions_total{state_model="MasterSlave",from="SLAVE",to="MASTER",outcome="ok"}"#,
        )
        .unwrap_or(0.0);
        assert!(
            page.contains("# TYPE strand_transition_duration_seconds histogram"),
            "{page}"
        );
        assert_eq!(
            sample(&page, r#"strand_zookeeper_sessions{state="connected"}"#),
            Some(1.0),
            "{page}"
        );
        let active = page
            .lines()
            .find(|l| {
                l.starts_with(r#"strand_plugin_active_version{plugin="MasterSlave",version=""#)
            })
            .unwrap_or_else(|| panic!("no active MasterSlave version:\n{page}"));
        assert!(active.ends_with("} 1"), "{active}");
        let returned: f64 = page
            .lines()
            .filter(|l| {
                l.starts_with(r#"strand_plugin_calls_total{plugin="MasterSlave","#)
                    && l.contains(r#"outcome="returned""#)
            })
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum();
        assert!(returned >= 1.0, "{page}");
        assert!(
            sample(
                &page,
                r#"strand_messages_received_total{type="STATE_TRANSITION"}"#
            )
            .is_some_and(|n| n >= 1.0),
            "{page}"
        );
    }
    assert!(
        offline_to_slave >= f64::from(2 * PARTITIONS),
        "OFFLINE→SLAVE {offline_to_slave}"
    );
    assert!(
        slave_to_master >= f64::from(PARTITIONS),
        "SLAVE→MASTER {slave_to_master}"
    );

    // Controller: leads, ran, sent at least every transition, and once
    // converged nothing is pending for db.
    let url = controller.metrics_url().await;
    let pending =
        format!(r#"strand_resource_pending_messages{{cluster="{CLUSTER}",resource="db"}}"#);
    let not_best = format!(
        r#"strand_resource_partitions_not_best_possible{{cluster="{CLUSTER}",resource="db"}}"#
    );
    let page = scrape_until(&url, "db's gap closes", |page| {
        sample(page, &pending) == Some(0.0) && sample(page, &not_best) == Some(0.0)
    })
    .await;
    assert_eq!(
        sample(
            &page,
            &format!(r#"strand_controller_leader{{cluster="{CLUSTER}"}}"#)
        ),
        Some(1.0),
        "{page}"
    );
    assert!(
        sample(
            &page,
            &format!(
                r#"strand_controller_pipeline_runs_total{{cluster="{CLUSTER}",outcome="ok"}}"#
            )
        )
        .is_some_and(|n| n >= 1.0),
        "{page}"
    );
    assert!(
        sample(
            &page,
            &format!(r#"strand_controller_messages_sent_total{{cluster="{CLUSTER}"}}"#)
        )
        .is_some_and(|n| n >= offline_to_slave + slave_to_master),
        "{page}"
    );

    // A resource whose IdealState stops parsing is held back, and says so.
    cluster
        .admin
        .add_resource(CLUSTER, "broken", 2, "MasterSlave", RebalanceMode::SemiAuto)
        .await
        .expect("resource");
    cluster
        .admin
        .zk()
        .set(&cluster.paths.ideal_state("broken"), b"{ not json", None)
        .await
        .expect("break the IdealState");
    let held = format!(r#"strand_resource_held_back{{cluster="{CLUSTER}",resource="broken"}}"#);
    scrape_until(&url, "broken is held back", |page| {
        sample(page, &held) == Some(1.0)
    })
    .await;

    // One transition, followed from the participant's log to the
    // controller's by its message id.
    let done = participants
        .iter()
        .flat_map(Process::records)
        .find(|r| r["message"] == "transition done")
        .expect("a participant logged a transition");
    assert_eq!(
        span_field(&done, "participant", "cluster"),
        Some(CLUSTER),
        "{done}"
    );
    assert!(
        span_field(&done, "participant", "instance").is_some(),
        "{done}"
    );
    assert_eq!(
        span_field(&done, "transition", "resource"),
        Some("db"),
        "{done}"
    );
    assert!(
        span_field(&done, "transition", "partition").is_some(),
        "{done}"
    );
    let msg_id = span_field(&done, "transition", "msg_id").expect("the message id");
    let sent = controller
        .records()
        .into_iter()
        .find(|r| r["message"] == "message sent" && r["msg_id"] == msg_id)
        .unwrap_or_else(|| panic!("the controller's log has no \"message sent\" for {msg_id}"));
    assert_eq!(
        span_field(&sent, "controller", "cluster"),
        Some(CLUSTER),
        "{sent}"
    );
    assert_eq!(sent["resource"], "db", "{sent}");
    assert_eq!(
        sent["partition"],
        span_field(&done, "transition", "partition").unwrap_or_default()
    );

    // REST: requests counted by route template, not by path.
    let port = strand_devcluster::zookeeper::free_port().expect("free port");
    let listen = format!("127.0.0.1:{port}");
    let mut rest = Process::spawn(&zk, &["rest", "--listen", &listen]);
    let rest_metrics = rest.metrics_url().await;
    let client = reqwest::Client::new();
    let start = Instant::now();
    loop {
        let answered = client
            .get(format!(
                "http://{listen}/admin/v2/clusters/{CLUSTER}/resources/db"
            ))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if answered {
            break;
        }
        assert!(
            start.elapsed() < DEADLINE,
            "strand rest never answered:\n{}",
            rest.stderr()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let page = scrape(&rest_metrics).await;
    assert!(
        sample(
            &page,
            r#"strand_http_requests_total{route="/admin/v2/clusters/{cluster}/resources/{resource}",method="GET",status="200"}"#
        )
        .is_some_and(|n| n >= 1.0),
        "{page}"
    );
    assert!(
        !page.contains(&format!("/clusters/{CLUSTER}/")),
        "paths never become labels:\n{page}"
    );
    drop(rest);

    // A routing table (`strand routes --watch`): a view written after it
    // started is in a newer snapshot, and the write's lag is measured.
    let mut routes = Process::spawn(&zk, &["routes", "--cluster", CLUSTER, "--watch", "--json"]);
    let routes_metrics = routes.metrics_url().await;
    let generation = format!(r#"strand_routing_table_generation{{cluster="{CLUSTER}"}}"#);
    let lags = format!(r#"strand_routing_view_lag_seconds_count{{cluster="{CLUSTER}"}}"#);
    let first = sample(
        &scrape_until(&routes_metrics, "a first snapshot", |page| {
            sample(page, &generation).is_some()
        })
        .await,
        &generation,
    )
    .unwrap_or_default();
    cluster
        .add_master_slave_replicas("db2", 2, 2, RebalanceMode::SemiAuto)
        .await;
    scrape_until(
        &routes_metrics,
        "db2's view reaches the routing table",
        |page| {
            sample(page, &generation).is_some_and(|g| g > first)
                && sample(page, &lags).is_some_and(|n| n >= 1.0)
        },
    )
    .await;
}
