//! What plugins print and raise, through a real cluster: the Python and
//! JavaScript `noisy` fixtures deployed to the cluster's plugin store and
//! served by a participant that follows it (no local plugin files), with a
//! real controller on a private ZooKeeper. Their output is in the
//! participant's log, tagged with the plugin's name and version; the
//! uncaught exception of ONLINE -> OFFLINE (the resources are disabled)
//! puts the partition in ERROR with the exception's message — and for
//! Python its traceback — in the replica's `INFO`.

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use strand_admin::{Admin, RebalanceMode};
use strand_controller::Controller;
use strand_devcluster::plugins::{compiled_cache_dir, names, plugin_path};
use strand_devcluster::zookeeper::LocalZk;
use strand_model::{CurrentState, LiveInstance, PropertyPaths};
use strand_participant::{ClusterPlugins, ClusterPluginsConfig, Participant, ParticipantConfig};
use strand_plugin_host::{HostConfig, HostInspector, PluginHost, PluginRegistry};
use strand_plugin_store::{DeployOptions, PluginStore};
use strand_zk::ZkConfig;

const CLUSTER: &str = "OUTPUT";
const INSTANCE: &str = "localhost_14000";
const DEADLINE: Duration = Duration::from_secs(120);

/// The log of this test process.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(PoisonError::into_inner)).into_owned()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `partition -> (state, INFO)` of the participant's live session.
async fn replicas(admin: &Admin, resource: &str) -> Vec<(String, String, String)> {
    let paths = PropertyPaths::new(CLUSTER);
    let acc = admin.accessor();
    let Ok(Some(live)) = acc.get(&paths.live_instance(INSTANCE)).await else {
        return Vec::new();
    };
    let Some(session) = LiveInstance::from(live.value).session_id() else {
        return Vec::new();
    };
    let Ok(Some(found)) = acc
        .get(&paths.current_state(INSTANCE, session, resource))
        .await
    else {
        return Vec::new();
    };
    let state = CurrentState::from(found.value);
    state
        .partition_states()
        .map(|(p, s)| {
            (
                p.to_owned(),
                s.to_owned(),
                state.info(p).unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

async fn wait_until(what: &str, mut done: impl AsyncFnMut() -> bool) {
    let start = Instant::now();
    while !done().await {
        assert!(start.elapsed() < DEADLINE, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn deployed_plugins_that_print_and_raise_are_logged_and_their_exceptions_reach_info() {
    let log = Captured::default();
    let writer = log.clone();
    tracing::subscriber::set_global_default(
        tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::INFO)
            .finish(),
    )
    .expect("the only subscriber of this test binary");

    let server = LocalZk::start().expect("zookeeper");
    let admin = Admin::connect(&server.connect_string())
        .await
        .expect("admin");
    admin.add_cluster(CLUSTER).await.expect("cluster");
    admin
        .add_instance(CLUSTER, INSTANCE)
        .await
        .expect("instance");
    let host = PluginHost::new(HostConfig {
        cache_dir: Some(compiled_cache_dir()),
        ..HostConfig::default()
    })
    .expect("host");
    let store = PluginStore::new(admin.zk().clone(), CLUSTER)
        .with_inspector(HostInspector::new(host.clone()));
    // (fixture, plugin / model name, resource, what its exception says)
    let cases = [
        (
            names::PY_NOISY,
            "Noisy",
            "py",
            "ValueError: noisy cannot leave ONLINE for py_0",
        ),
        (
            names::JS_NOISY,
            "NoisyJs",
            "js",
            "Error: noisy cannot leave ONLINE for js_0",
        ),
    ];
    for (fixture, model, resource, _) in cases {
        let bytes = std::fs::read(plugin_path(fixture).expect("fixture built")).expect("read");
        store
            .deploy(
                &bytes,
                &DeployOptions {
                    name: Some(model.into()),
                    ..DeployOptions::default()
                },
            )
            .await
            .expect("deploy");
        admin
            .add_resource(CLUSTER, resource, 2, model, RebalanceMode::SemiAuto)
            .await
            .expect("resource");
        admin
            .rebalance(CLUSTER, resource, 1)
            .await
            .expect("rebalance");
    }

    let zk = ZkConfig::new(server.connect_string()).with_session_timeout(Duration::from_secs(4));
    let registry = PluginRegistry::new(host);
    let plugins = ClusterPlugins::start(
        ClusterPluginsConfig {
            zk: zk.clone(),
            cluster: CLUSTER.into(),
            instances: vec![INSTANCE.into()],
        },
        Arc::clone(&registry),
    )
    .await
    .expect("cluster plugins");
    let mut config = ParticipantConfig::new(zk.clone(), CLUSTER, INSTANCE);
    config.plugin_updates = Some(plugins.updates());
    let participant = Participant::start(config, Arc::clone(&registry))
        .await
        .expect("participant");
    let controller = Controller::start(zk, CLUSTER, "ctrl")
        .await
        .expect("controller");

    for (_, _, resource, _) in cases {
        wait_until(&format!("{resource} online"), async || {
            let r = replicas(&admin, resource).await;
            r.len() == 2 && r.iter().all(|(_, s, _)| s == "ONLINE")
        })
        .await;
    }
    let text = log.text();
    for expected in [
        "plugin=\"Noisy@0.1.0+python\"",
        "plugin=\"NoisyJs@0.1.0+js\"",
        "noisy stdout: py/py_0 OFFLINE->ONLINE",
        "noisy stdout: js/js_0 OFFLINE->ONLINE",
        "noisy stderr: py_1 OFFLINE->ONLINE",
    ] {
        assert!(
            text.contains(expected),
            "{expected} not in the log:\n{text}"
        );
    }

    for (_, _, resource, _) in cases {
        admin
            .set_resource_enabled(CLUSTER, resource, false)
            .await
            .expect("disable");
    }
    for (_, _, resource, exception) in cases {
        let partition = format!("{resource}_0");
        wait_until(&format!("{partition} in ERROR"), async || {
            replicas(&admin, resource)
                .await
                .iter()
                .any(|(p, s, _)| *p == partition && s == "ERROR")
        })
        .await;
        let info = replicas(&admin, resource)
            .await
            .into_iter()
            .find(|(p, _, _)| *p == partition)
            .map(|(_, _, info)| info)
            .unwrap_or_default();
        assert!(info.contains(exception), "{partition} INFO: {info}");
        if resource == "py" {
            assert!(info.contains("Traceback"), "{partition} INFO: {info}");
        }
        assert!(
            !info.contains("wasm unreachable instruction executed\n"),
            "{info}"
        );
    }
    participant.shutdown().await;
    plugins.shutdown().await;
    controller.shutdown().await.expect("controller stops");
}
