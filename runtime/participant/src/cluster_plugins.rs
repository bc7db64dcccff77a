//! [`ClusterPlugins`]: state-model plugins deployed to the cluster
//! (`strand plugin deploy`, `strand-plugin-store`), installed into this
//! process's [`PluginRegistry`] and kept at the active version.
//!
//! It watches `/<C>/PROPERTYSTORE/STRAND/PLUGINS` with a [`TreeCache`] (no
//! polling). When a state model's active version differs from what the
//! registry runs, it fetches the artefact, verifies its SHA-256, and
//! installs it (the host compiles it once and caches the compiled form on
//! disk by hash); the registry swaps it in atomically, so the next
//! transition runs on it. Each served instance's status record says which
//! version it runs, or why the active version did not load.
//!
//! # Guarantees
//! * A version that cannot be fetched, is damaged, or fails to load leaves
//!   the running version serving; the failure is recorded in the status of
//!   every served instance and not retried until the plugin record changes.
//! * The first pass completes before [`ClusterPlugins::start`] returns, so
//!   participants started after it find their models installed.
//! * A new ZooKeeper session (after expiry) re-reads everything.
//! * Aggregators are left to controllers.

use std::collections::HashMap;
use std::sync::Arc;

use strand_plugin_host::{PluginOptions, PluginRegistry, SwapPolicy};
use strand_plugin_store::{
    PluginKind, PluginRecord, PluginStore, StorePaths, VersionEntry, status,
};
use strand_zk::{Backoff, CacheEvent, TreeCache, Zk, ZkConfig};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::{debug, info, warn};

use crate::error::Result;

/// Which cluster to follow and on behalf of which instances.
#[derive(Debug, Clone)]
pub struct ClusterPluginsConfig {
    /// How to reach ZooKeeper (a session of its own).
    pub zk: ZkConfig,
    /// The cluster.
    pub cluster: String,
    /// The instances served with these plugins (their status records are
    /// written).
    pub instances: Vec<String>,
}

/// The deployed plugins of a cluster, followed into a registry.
pub struct ClusterPlugins {
    stop: watch::Sender<bool>,
    updates: watch::Receiver<u64>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for ClusterPlugins {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterPlugins")
            .field("updates", &*self.updates.borrow())
            .finish()
    }
}

impl ClusterPlugins {
    /// Connects, installs the active version of every state-model plugin
    /// deployed to the cluster, and keeps following deployments until
    /// [`ClusterPlugins::shutdown`].
    ///
    /// # Errors
    /// When ZooKeeper cannot be reached. A plugin that fails to load is
    /// not an error (see the module docs).
    pub async fn start(
        config: ClusterPluginsConfig,
        registry: Arc<PluginRegistry>,
    ) -> Result<Self> {
        let (updates_tx, updates) = watch::channel(0);
        let mut follower = Follower {
            paths: StorePaths::new(&config.cluster),
            config,
            registry,
            updates: updates_tx,
            seen: HashMap::new(),
        };
        let zk = Zk::connect(follower.config.zk.clone()).await?;
        let cache = TreeCache::start(zk.clone(), &follower.paths.plugins()).await?;
        follower.sync(&zk, &cache).await;
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(follower.run(zk, cache, stop_rx));
        Ok(Self {
            stop,
            updates,
            task,
        })
    }

    /// Bumped after every install or swap: participants watch it to look at
    /// messages that were waiting for a model (see
    /// [`ParticipantConfig::plugin_updates`](crate::ParticipantConfig::plugin_updates)).
    pub fn updates(&self) -> watch::Receiver<u64> {
        self.updates.clone()
    }

    /// Stops following (installed plugins stay installed).
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        if let Err(err) = self.task.await {
            warn!(error = %err, "cluster plugin follower ended abnormally");
        }
    }
}

/// What was last done for a plugin: the SHA-256 installed, or the
/// modification (zxid) of the plugin record whose active version failed.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seen {
    Installed(String),
    Failed(i64),
}

struct Follower {
    config: ClusterPluginsConfig,
    paths: StorePaths,
    registry: Arc<PluginRegistry>,
    updates: watch::Sender<u64>,
    seen: HashMap<String, Seen>,
}

impl Follower {
    async fn run(mut self, mut zk: Zk, mut cache: TreeCache, mut stop: watch::Receiver<bool>) {
        loop {
            let mut generation = cache.generation();
            let mut events = cache.subscribe();
            let session_ended = loop {
                tokio::select! {
                    _ = stop.changed() => return,
                    changed = generation.changed() => {
                        if changed.is_err() { break true; }
                    }
                    event = events.recv() => {
                        if matches!(event, Ok(CacheEvent::SessionEnded)) { break true; }
                        continue;
                    }
                }
                self.sync(&zk, &cache).await;
            };
            if session_ended {
                warn!(cluster = %self.config.cluster, "plugin follower lost its session; reconnecting");
                (zk, cache) = match self.reconnect(&mut stop).await {
                    Some(fresh) => fresh,
                    None => return,
                };
                self.seen.retain(|_, s| matches!(s, Seen::Installed(_)));
                self.sync(&zk, &cache).await;
            }
        }
    }

    async fn reconnect(&self, stop: &mut watch::Receiver<bool>) -> Option<(Zk, TreeCache)> {
        let mut backoff = Backoff::default();
        loop {
            if *stop.borrow() {
                return None;
            }
            let attempt = async {
                let zk = Zk::connect(self.config.zk.clone()).await?;
                let cache = TreeCache::start(zk.clone(), &self.paths.plugins()).await?;
                Ok::<_, strand_zk::ZkError>((zk, cache))
            };
            match attempt.await {
                Ok(fresh) => return Some(fresh),
                Err(err) => {
                    warn!(error = %err, "plugin follower: reconnect failed; retrying");
                    tokio::select! {
                        _ = stop.changed() => return None,
                        () = backoff.wait() => {}
                    }
                }
            }
        }
    }

    /// Brings every state-model plugin to its active version.
    async fn sync(&mut self, zk: &Zk, cache: &TreeCache) {
        let root = self.paths.plugins();
        for name in cache.children(&root) {
            let Some(node) = cache.get(&strand_zk::join(&root, &name)) else {
                continue;
            };
            let Some(record) = node.record() else {
                continue;
            };
            let record = match PluginRecord::from_znrecord(&record) {
                Ok(r) => r,
                Err(why) => {
                    warn!(plugin = %name, %why, "unreadable plugin record; ignored");
                    continue;
                }
            };
            if record.kind != PluginKind::StateModel {
                continue;
            }
            let Some(active) = record.active_entry().cloned() else {
                continue;
            };
            self.bring_to(zk, &name, &active, node.stat().mzxid).await;
        }
    }

    async fn bring_to(&mut self, zk: &Zk, name: &str, active: &VersionEntry, record_zxid: i64) {
        let running = self
            .registry
            .state_model(name)
            .map(|h| h.version().digest.clone());
        if running.as_deref() == Some(active.sha256.as_str()) {
            if self.seen.get(name) != Some(&Seen::Installed(active.sha256.clone())) {
                // Installed some other way (a local file with the same bytes).
                self.report_active(zk, name, active).await;
                self.seen
                    .insert(name.to_owned(), Seen::Installed(active.sha256.clone()));
            }
            return;
        }
        if self.seen.get(name) == Some(&Seen::Failed(record_zxid)) {
            return;
        }
        match self.install(zk, name, active).await {
            Ok(()) => {
                self.report_active(zk, name, active).await;
                self.seen
                    .insert(name.to_owned(), Seen::Installed(active.sha256.clone()));
                self.updates.send_modify(|n| *n += 1);
            }
            Err(why) => {
                warn!(
                    cluster = %self.config.cluster, plugin = %name, version = %active.version,
                    reason = %why, "deployed plugin not loaded; the running version keeps serving"
                );
                for instance in &self.config.instances {
                    if let Err(err) = status::record_error(
                        zk,
                        &self.paths,
                        instance,
                        name,
                        &active.version,
                        &active.sha256,
                        &why,
                    )
                    .await
                    {
                        warn!(%instance, error = %err, "could not record the plugin error");
                    }
                }
                self.seen.insert(name.to_owned(), Seen::Failed(record_zxid));
            }
        }
    }

    /// Fetches, verifies and installs; the reason on failure.
    async fn install(&self, zk: &Zk, name: &str, active: &VersionEntry) -> Result<(), String> {
        let store = PluginStore::new(zk.clone(), &self.config.cluster);
        let bytes = store
            .fetch_artefact(&active.sha256)
            .await
            .map_err(|e| e.to_string())?;
        debug!(plugin = %name, version = %active.version, bytes = bytes.len(), "artefact fetched");
        let registry = Arc::clone(&self.registry);
        let label = name.to_owned();
        // The store already refused definition changes that resources in
        // use would not survive (unless forced): take what it accepted.
        let options = PluginOptions {
            swap_policy: SwapPolicy::AnyChange,
            ..PluginOptions::default()
        };
        let report =
            tokio::task::spawn_blocking(move || registry.install_bytes(&label, &bytes, options))
                .await
                .map_err(|e| format!("install task failed: {e}"))?
                .map_err(|e| e.error.one_line())?;
        if report.current.version != active.version {
            warn!(
                plugin = %name, reported = %report.current.version, deployed = %active.version,
                "the component reports another version than its deployment"
            );
        }
        info!(
            cluster = %self.config.cluster, plugin = %name, version = %active.version,
            outcome = ?report.outcome, prepare_ms = report.prepare_time.as_secs_f64() * 1e3,
            "deployed plugin active"
        );
        Ok(())
    }

    async fn report_active(&self, zk: &Zk, name: &str, active: &VersionEntry) {
        for instance in &self.config.instances {
            if let Err(err) = status::record_active(
                zk,
                &self.paths,
                instance,
                name,
                &active.version,
                &active.sha256,
            )
            .await
            {
                warn!(%instance, error = %err, "could not record the plugin status");
            }
        }
    }
}
