//! Plugins that reach their own application, as the participant's
//! operator grants: a real controller and participants on a private
//! ZooKeeper, the real `http-notify` component deployed to the cluster
//! (`HttpNotify`, MasterSlave that POSTs each transition to `NOTIFY_URL`),
//! and a real HTTP server on a loopback port started by the test. Each
//! instance is named after that server (`127.0.0.1_<port>`), so the grant
//! `http://{host}:{port}` is the instance's own application.
//!
//! * Granted and requested (the HTTP origin and a TCP endpoint): every
//!   transition succeeds, and both saw each one.
//! * Not granted (the deployment requests nothing, so the component, which
//!   imports `wasi:http`, runs with nothing reachable): the partition goes
//!   to ERROR with `HttpRequestDenied` as the reason, nothing reaches the
//!   server.
//! * A new version requesting what the participant does not grant: the
//!   previous version keeps serving, and the instance's plugin status (what
//!   `strand plugin list` prints) says why.

use std::sync::Arc;
use std::time::{Duration, Instant};

use strand_admin::{Admin, RebalanceMode, RecordEdit};
use strand_controller::Controller;
use strand_devcluster::loopback::{Answer, serve};
use strand_devcluster::plugins::{names, plugin_path};
use strand_devcluster::zookeeper::LocalZk;
use strand_model::{CurrentState, LiveInstance, PropertyPaths, ZNRecord};
use strand_participant::{ClusterPlugins, ClusterPluginsConfig, Participant, ParticipantConfig};
use strand_plugin_host::net::GrantTable;
use strand_plugin_host::{HostConfig, HostInspector, PluginHost, PluginRegistry};
use strand_plugin_store::{DeployOptions, PluginStore};
use strand_zk::ZkConfig;

const DEADLINE: Duration = Duration::from_secs(120);
const MODEL: &str = "HttpNotify";

struct Cluster {
    name: String,
    server: Arc<LocalZk>,
    admin: Admin,
    store: PluginStore,
    cache: tempfile::TempDir,
}

impl Cluster {
    /// A cluster with one instance, `127.0.0.1_<port>`.
    async fn new(server: Arc<LocalZk>, name: &str, port: u16) -> Self {
        let admin = Admin::connect(&server.connect_string())
            .await
            .expect("admin");
        admin.add_cluster(name).await.expect("cluster");
        admin
            .add_instance(name, &format!("127.0.0.1:{port}"))
            .await
            .expect("instance");
        let store = PluginStore::new(admin.zk().clone(), name)
            .with_inspector(HostInspector::lazy(HostConfig::default()));
        Self {
            name: name.into(),
            server,
            admin,
            store,
            cache: tempfile::tempdir().expect("cache"),
        }
    }

    fn zk(&self) -> ZkConfig {
        ZkConfig::new(self.server.connect_string()).with_session_timeout(Duration::from_secs(4))
    }

    async fn deploy(&self, plugin: &str, requests: &[&str], force: bool) {
        let bytes = std::fs::read(plugin_path(plugin).expect("plugin built")).expect("read");
        self.store
            .deploy(
                &bytes,
                &DeployOptions {
                    name: Some(MODEL.into()),
                    force,
                    requests: requests.iter().map(|r| (*r).to_owned()).collect(),
                    ..DeployOptions::default()
                },
            )
            .await
            .expect("deploy");
    }

    /// One partition on the one instance, told to POST to its application
    /// (and to write to `tcp`, when given).
    async fn resource(&self, port: u16, tcp: Option<u16>) {
        self.admin
            .add_resource(&self.name, "app", 1, MODEL, RebalanceMode::SemiAuto)
            .await
            .expect("resource");
        let mut config = ZNRecord::new("app");
        config.set_simple("NOTIFY_URL", format!("http://127.0.0.1:{port}/transitions"));
        if let Some(tcp) = tcp {
            config.set_simple("NOTIFY_TCP", format!("127.0.0.1:{tcp}"));
        }
        self.admin
            .edit_resource_config(&self.name, "app", RecordEdit::Update, &config)
            .await
            .expect("resource config");
        self.admin
            .rebalance(&self.name, "app", 1)
            .await
            .expect("rebalance");
    }

    /// A participant following the cluster's plugins with `grants`.
    async fn participant(
        &self,
        instance: &str,
        grants: GrantTable,
    ) -> (Participant, ClusterPlugins, Arc<PluginRegistry>) {
        let host = PluginHost::new(HostConfig {
            cache_dir: Some(self.cache.path().to_owned()),
            ..HostConfig::default()
        })
        .expect("host");
        let registry = PluginRegistry::new(host);
        let plugins = ClusterPlugins::start_with_grants(
            ClusterPluginsConfig {
                zk: self.zk(),
                cluster: self.name.clone(),
                instances: vec![instance.into()],
            },
            Arc::clone(&registry),
            grants,
        )
        .await
        .expect("cluster plugins");
        let mut config = ParticipantConfig::new(self.zk(), &self.name, instance);
        config.plugin_updates = Some(plugins.updates());
        let participant = Participant::start(config, Arc::clone(&registry))
            .await
            .expect("participant");
        (participant, plugins, registry)
    }

    /// `(state, INFO)` of `app_0` on `instance`'s live session.
    async fn replica(&self, instance: &str) -> Option<(String, String)> {
        let paths = PropertyPaths::new(&self.name);
        let acc = self.admin.accessor();
        let live = acc.get(&paths.live_instance(instance)).await.ok()??;
        let session = LiveInstance::from(live.value).session_id()?.to_owned();
        let found = acc
            .get(&paths.current_state(instance, session, "app"))
            .await
            .ok()??;
        let state = CurrentState::from(found.value);
        Some((
            state.state("app_0")?.to_owned(),
            state.info("app_0").unwrap_or_default().to_owned(),
        ))
    }

    /// The plugin status of `instance`: (running version, last error).
    async fn status(&self, instance: &str) -> (Option<String>, Option<String>) {
        let list = self.store.list().await.expect("list");
        list.iter()
            .find(|p| p.name == MODEL)
            .and_then(|p| p.instances.iter().find(|s| s.instance == instance))
            .map(|s| (s.status.active_version.clone(), s.status.last_error.clone()))
            .unwrap_or_default()
    }
}

async fn wait_for<T>(what: &str, mut probe: impl AsyncFnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(found) = probe().await {
            return found;
        }
        assert!(start.elapsed() < DEADLINE, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn plugins_reach_only_what_the_participant_grants() {
    let zk = Arc::new(LocalZk::start().expect("zookeeper"));

    // Granted and requested.
    let (port, seen) = serve(Answer::Http);
    let granted = Cluster::new(zk.clone(), "BRIDGE_GRANTED", port).await;
    let instance = format!("127.0.0.1_{port}");
    let (tcp, lines) = serve(Answer::Line);
    let tcp_rule = format!("tcp:127.0.0.1:{tcp}");
    granted
        .deploy(
            names::HTTP_NOTIFY,
            &["http://{host}:{port}", &tcp_rule],
            false,
        )
        .await;
    granted.resource(port, Some(tcp)).await;
    let mut grants = GrantTable::default();
    grants
        .grant_flag(&format!("{MODEL}=http://{{host}}:{{port}}"))
        .expect("grant");
    grants
        .grant_flag(&format!("{MODEL}=tcp:127.0.0.1:{}-{}", tcp, tcp))
        .expect("grant");
    let (participant, plugins, registry) = granted.participant(&instance, grants).await;
    let controller = Controller::start(granted.zk(), &granted.name, "ctrl-granted")
        .await
        .expect("controller");
    let (state, info) = wait_for("app_0 MASTER", async || {
        granted
            .replica(&instance)
            .await
            .filter(|(s, _)| s == "MASTER")
    })
    .await;
    assert!(
        info.contains("POST http://127.0.0.1") && info.contains("tcp 127.0.0.1"),
        "{state}: {info}"
    );
    let expected = [
        r#"{"partition":"app_0","from":"OFFLINE","to":"SLAVE"}"#,
        r#"{"partition":"app_0","from":"SLAVE","to":"MASTER"}"#,
    ];
    for (what, seen) in [("HTTP", &seen), ("TCP", &lines)] {
        let bodies = seen.bodies();
        assert_eq!(bodies, expected, "what the {what} endpoint saw");
    }

    // A new version requesting more than is granted: refused, reported,
    // the running version keeps serving.
    let running = registry
        .state_model(MODEL)
        .map(|h| h.version().digest.clone());
    granted
        .deploy(names::MASTER_SLAVE, &["tcp:{host}:1-1024"], true)
        .await;
    let (version, error) = wait_for("the refusal in the plugin status", async || {
        let status = granted.status(&instance).await;
        status.1.is_some().then_some(status)
    })
    .await;
    let error = error.unwrap_or_default();
    assert!(
        error.contains("requests tcp:{host}:1-1024") && error.contains("does not grant"),
        "{error}"
    );
    assert_eq!(
        version.as_deref(),
        Some("0.1.0"),
        "still reports the running version"
    );
    assert_eq!(
        registry
            .state_model(MODEL)
            .map(|h| h.version().digest.clone()),
        running,
        "the previous version keeps serving"
    );
    participant.shutdown().await;
    plugins.shutdown().await;
    controller.shutdown().await.expect("controller stops");

    // Not granted: the deployment requests nothing.
    let (port, seen) = serve(Answer::Http);
    let denied = Cluster::new(zk.clone(), "BRIDGE_DENIED", port).await;
    let instance = format!("127.0.0.1_{port}");
    denied.deploy(names::HTTP_NOTIFY, &[], false).await;
    let (tcp, lines) = serve(Answer::Line);
    denied.resource(port, Some(tcp)).await;
    let mut grants = GrantTable::default();
    // Granted to the plugin, but not requested: still nothing reachable.
    grants
        .grant_flag(&format!("{MODEL}=http://{{host}}:{{port}}"))
        .expect("grant");
    let (participant, plugins, _registry) = denied.participant(&instance, grants).await;
    let controller = Controller::start(denied.zk(), &denied.name, "ctrl-denied")
        .await
        .expect("controller");
    let (_, info) = wait_for("app_0 ERROR", async || {
        denied
            .replica(&instance)
            .await
            .filter(|(s, _)| s == "ERROR")
    })
    .await;
    assert!(info.contains("HttpRequestDenied"), "{info}");
    assert_eq!(seen.connections(), 0, "nothing reached the application");
    assert_eq!(lines.connections(), 0, "nothing reached the TCP endpoint");
    participant.shutdown().await;
    plugins.shutdown().await;
    controller.shutdown().await.expect("controller stops");
}
