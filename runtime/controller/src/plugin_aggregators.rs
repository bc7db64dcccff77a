//! Aggregator plugins bound to customized-state types by the cluster
//! config (`STRAND_AGGREGATORS`, set with `strand admin set-aggregator`)
//! and deployed to the cluster (`strand-plugin-store`).
//!
//! Every pipeline run asks [`PluginAggregators::resolve`] for the bound
//! types whose plugin is loaded. A binding whose plugin's active version
//! is not loaded yet starts a background load (fetch, SHA-256 check,
//! compile — cached on disk by hash — and install) and keeps the version
//! already loaded, or Helix's default view, until it is done; the load
//! then asks for a new run. The pipeline never waits for a compile.
//!
//! # Guarantees
//! * A plugin that cannot be fetched or loaded leaves the type on its
//!   previous aggregator (or the default view); the reason is logged once
//!   per version and the load is not retried until the active version
//!   changes.
//! * A binding to a missing plugin, or to a state-model plugin, is logged
//!   once and ignored.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use strand_model::{ClusterConfig, PropertyPaths};
use strand_plugin_host::{
    AggregatorHandle, CallError, CallOptions, HostConfig, InstanceState, PartitionStates,
    PluginHost, PluginOptions, PluginRegistry, SwapPolicy,
};
use strand_plugin_store::{PluginKind, PluginRecord, PluginStore, StorePaths};
use strand_zk::{TreeCache, Zk};
use tracing::{info, warn};

use crate::aggregate::{PartitionInput, ViewAggregator};

/// Asks the controller for a pipeline run.
pub(crate) type Wake = Arc<dyn Fn() + Send + Sync>;

/// A load in progress or failed, by plugin name.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Load {
    Running { sha256: String },
    Failed { sha256: String },
}

/// The cluster's aggregator plugins, loaded on demand.
pub(crate) struct PluginAggregators {
    cluster: String,
    store_paths: StorePaths,
    cache_dir: Option<PathBuf>,
    registry: OnceLock<Option<Arc<PluginRegistry>>>,
    loads: Arc<Mutex<HashMap<String, Load>>>,
    warned: Mutex<HashSet<String>>,
    wake: Wake,
}

impl PluginAggregators {
    pub(crate) fn new(cluster: &str, cache_dir: Option<PathBuf>, wake: Wake) -> Self {
        Self {
            cluster: cluster.to_owned(),
            store_paths: StorePaths::new(cluster),
            cache_dir,
            registry: OnceLock::new(),
            loads: Arc::default(),
            warned: Mutex::default(),
            wake,
        }
    }

    /// The subtree the controller's cache leaves out: artefact bytes are
    /// fetched when needed, never mirrored.
    pub(crate) fn excluded_subtree(&self) -> String {
        self.store_paths.artefacts()
    }

    /// The bound types whose plugin is loaded, with their aggregators;
    /// starts loads for the versions that are not.
    pub(crate) fn resolve(
        &self,
        cache: &TreeCache,
        paths: &PropertyPaths,
        zk: &Zk,
    ) -> Vec<(String, Arc<dyn ViewAggregator>)> {
        let Some(config) = cache.record(&paths.cluster_config()) else {
            return Vec::new();
        };
        let config = ClusterConfig::from(Arc::clone(&config));
        let bindings = config.strand_aggregators();
        if bindings.is_empty() {
            return Vec::new();
        }
        let Some(registry) = self.registry() else {
            return Vec::new();
        };
        let mut bound = Vec::new();
        for (customized_type, plugin) in bindings {
            let Some(active) = self.active_sha(cache, customized_type, plugin) else {
                continue;
            };
            let loaded = registry.aggregator(plugin);
            let current = loaded
                .as_ref()
                .is_some_and(|h| h.version().digest == active);
            if !current {
                self.start_load(zk, &registry, plugin, &active);
            }
            if let Some(handle) = loaded {
                bound.push((
                    customized_type.to_owned(),
                    Arc::new(PluginAggregator {
                        handle,
                        timed_out: AtomicBool::new(false),
                    }) as Arc<dyn ViewAggregator>,
                ));
            }
        }
        bound
    }

    /// The registry, created on first use.
    fn registry(&self) -> Option<Arc<PluginRegistry>> {
        self.registry
            .get_or_init(|| {
                let host = PluginHost::new(HostConfig {
                    cache_dir: self.cache_dir.clone(),
                    ..HostConfig::default()
                });
                match host {
                    Ok(host) => Some(PluginRegistry::new(host)),
                    Err(err) => {
                        warn!(cluster = %self.cluster, error = %err, "no plugin host: aggregator plugins are not used");
                        None
                    }
                }
            })
            .clone()
    }

    /// The SHA-256 of the plugin's active version, if it is a deployed
    /// aggregator.
    fn active_sha(&self, cache: &TreeCache, customized_type: &str, plugin: &str) -> Option<String> {
        let problem = match cache.record(&self.store_paths.plugin(plugin)) {
            None => "is not deployed to the cluster".to_owned(),
            Some(record) => match PluginRecord::from_znrecord(&record) {
                Err(why) => format!("has an unreadable record ({why})"),
                Ok(record) if record.kind != PluginKind::Aggregator => {
                    "is a state model, not an aggregator".to_owned()
                }
                Ok(record) => match record.active_entry() {
                    Some(entry) => return Some(entry.sha256.clone()),
                    None => "has no active version".to_owned(),
                },
            },
        };
        self.warn_once(
            format!("{customized_type}/{plugin}/{problem}"),
            customized_type,
            plugin,
            &problem,
        );
        None
    }

    fn warn_once(&self, key: String, customized_type: &str, plugin: &str, problem: &str) {
        let mut warned = self.warned.lock().unwrap_or_else(PoisonError::into_inner);
        if warned.insert(key) {
            warn!(
                cluster = %self.cluster, customized_type, plugin, problem,
                "aggregator binding not usable; the type keeps its current view"
            );
        }
    }

    fn start_load(&self, zk: &Zk, registry: &Arc<PluginRegistry>, plugin: &str, sha256: &str) {
        {
            let mut loads = self.loads.lock().unwrap_or_else(PoisonError::into_inner);
            match loads.get(plugin) {
                Some(Load::Running { sha256: s } | Load::Failed { sha256: s }) if s == sha256 => {
                    return;
                }
                _ => {}
            }
            loads.insert(
                plugin.to_owned(),
                Load::Running {
                    sha256: sha256.to_owned(),
                },
            );
        }
        let store = PluginStore::new(zk.clone(), &self.cluster);
        let registry = Arc::clone(registry);
        let loads = Arc::clone(&self.loads);
        let wake = Arc::clone(&self.wake);
        let plugin = plugin.to_owned();
        let sha256 = sha256.to_owned();
        let cluster = self.cluster.clone();
        tokio::spawn(async move {
            let outcome = load(&store, &registry, &plugin, &sha256).await;
            let mut loads = loads.lock().unwrap_or_else(PoisonError::into_inner);
            match outcome {
                Ok(version) => {
                    info!(%cluster, %plugin, %version, "aggregator plugin loaded");
                    loads.remove(&plugin);
                }
                Err(reason) => {
                    warn!(
                        %cluster, %plugin, %sha256, %reason,
                        "aggregator plugin not loaded; the type keeps its current view"
                    );
                    loads.insert(plugin, Load::Failed { sha256 });
                }
            }
            drop(loads);
            wake();
        });
    }
}

/// Fetches, verifies and installs one artefact; its version, or why not.
async fn load(
    store: &PluginStore,
    registry: &Arc<PluginRegistry>,
    plugin: &str,
    sha256: &str,
) -> Result<String, String> {
    let bytes = store
        .fetch_artefact(sha256)
        .await
        .map_err(|e| e.to_string())?;
    let registry = Arc::clone(registry);
    let name = plugin.to_owned();
    let options = PluginOptions {
        swap_policy: SwapPolicy::AnyChange,
        ..PluginOptions::default()
    };
    let report =
        tokio::task::spawn_blocking(move || registry.install_bytes(&name, &bytes, options))
            .await
            .map_err(|e| format!("install task failed: {e}"))?
            .map_err(|e| e.error.one_line())?;
    Ok(report.current.version.clone())
}

/// How long one partition's aggregation may run. The pipeline waits for
/// it, so it is short: aggregation is a small pure function.
pub(crate) const AGGREGATE_DEADLINE: Duration = Duration::from_millis(200);

/// A loaded aggregator plugin as a [`ViewAggregator`], for one pipeline
/// run: after a call times out, the plugin is skipped (default view) for
/// the rest of the run, so a hanging plugin costs one deadline per run.
struct PluginAggregator {
    handle: AggregatorHandle,
    timed_out: AtomicBool,
}

impl ViewAggregator for PluginAggregator {
    fn aggregate(&self, input: &PartitionInput<'_>) -> Result<Vec<(String, String)>, String> {
        let states = PartitionStates {
            cluster: input.cluster.to_owned(),
            state_type: input.customized_type.to_owned(),
            resource: input.resource.to_owned(),
            partition: input.partition.to_owned(),
            states: input
                .states
                .iter()
                .map(|s| InstanceState {
                    instance: s.instance.to_owned(),
                    fields: s
                        .fields
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                })
                .collect(),
        };
        if self.timed_out.load(Ordering::Relaxed) {
            return Err("skipped: the plugin timed out earlier in this run".into());
        }
        self.handle
            .aggregate(&states, &CallOptions::with_deadline(AGGREGATE_DEADLINE))
            .map(|outcome| outcome.view)
            .map_err(|e| {
                if matches!(e, CallError::Timeout { .. }) {
                    self.timed_out.store(true, Ordering::Relaxed);
                }
                e.to_string()
            })
    }
}
