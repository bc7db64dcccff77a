//! Aggregator plugins bound to customized-state types by the cluster
//! config (`STRAND_AGGREGATORS`, set with `strand admin set-aggregator`)
//! and deployed to the cluster (`strand-plugin-store`).
//!
//! Every pipeline run asks [`PluginAggregators::resolve`] for the bound
//! types whose plugin is loaded. The first run with a binding starts a
//! [`PluginFollower`] (`strand-plugin-follower`, the one participants use
//! for state models) on the cluster's aggregators: it fetches, verifies,
//! compiles off the async workers (cached on disk by hash) and swaps in each
//! active version, and asks for a new run after every swap. Until a version
//! is loaded the type keeps the version already loaded, or Helix's default
//! view; the pipeline never waits for a compile.
//!
//! # Guarantees
//! * A plugin that cannot be fetched or loaded leaves the type on its
//!   previous aggregator (or the default view); the follower logs the
//!   reason and does not retry until the plugin record changes.
//! * A binding to a missing plugin, or to a state-model plugin, is logged
//!   once and ignored.
//! * No plugin host (no wasmtime engine) is made while nothing is bound;
//!   a follower that cannot connect is retried with backoff.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use strand_model::{ClusterConfig, PropertyPaths};
use strand_plugin_follower::{FollowerConfig, PluginFollower};
use strand_plugin_host::{
    AggregatorHandle, CallError, CallOptions, HostConfig, InstanceState, PartitionStates,
    PluginHost, PluginRegistry,
};
use strand_plugin_store::{PluginKind, PluginRecord, StorePaths};
use strand_zk::{Backoff, TreeCache, Zk, ZkConfig};
use tokio::task::JoinHandle;
use tracing::{Instrument, warn};

use crate::aggregate::{PartitionInput, ViewAggregator};

/// Asks the controller for a pipeline run.
pub(crate) type Wake = Arc<dyn Fn() + Send + Sync>;

/// The cluster's aggregator plugins, loaded once something is bound.
pub(crate) struct PluginAggregators {
    zk: ZkConfig,
    cluster: String,
    store_paths: StorePaths,
    cache_dir: Option<PathBuf>,
    registry: OnceLock<Option<Arc<PluginRegistry>>>,
    follower: OnceLock<JoinHandle<()>>,
    warned: Mutex<HashSet<String>>,
    wake: Wake,
}

impl PluginAggregators {
    pub(crate) fn new(zk: ZkConfig, cluster: &str, cache_dir: Option<PathBuf>, wake: Wake) -> Self {
        Self {
            zk,
            cluster: cluster.to_owned(),
            store_paths: StorePaths::new(cluster),
            cache_dir,
            registry: OnceLock::new(),
            follower: OnceLock::new(),
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
    /// starts the follower that loads them on the first binding.
    pub(crate) fn resolve(
        &self,
        cache: &TreeCache,
        paths: &PropertyPaths,
        _zk: &Zk,
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
        self.follow(&registry);
        let mut bound = Vec::new();
        for (customized_type, plugin) in bindings {
            if !self.is_deployed_aggregator(cache, customized_type, plugin) {
                continue;
            }
            if let Some(handle) = registry.aggregator(plugin) {
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

    /// Starts, once, the task that follows the cluster's aggregators into
    /// `registry` and wakes the pipeline after each swap.
    fn follow(&self, registry: &Arc<PluginRegistry>) {
        self.follower.get_or_init(|| {
            let config = FollowerConfig {
                zk: self.zk.clone(),
                cluster: self.cluster.clone(),
                kind: PluginKind::Aggregator,
                instances: Vec::new(),
            };
            tokio::spawn(
                follow(config, Arc::clone(registry), Arc::clone(&self.wake)).in_current_span(),
            )
        });
    }

    /// Whether `plugin` is deployed as an aggregator with an active
    /// version; logs once why not.
    fn is_deployed_aggregator(
        &self,
        cache: &TreeCache,
        customized_type: &str,
        plugin: &str,
    ) -> bool {
        let problem = match cache.record(&self.store_paths.plugin(plugin)) {
            None => "is not deployed to the cluster".to_owned(),
            Some(record) => match PluginRecord::from_znrecord(&record) {
                Err(why) => format!("has an unreadable record ({why})"),
                Ok(record) if record.kind != PluginKind::Aggregator => {
                    "is a state model, not an aggregator".to_owned()
                }
                Ok(record) => match record.active_entry() {
                    Some(_) => return true,
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
        false
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
}

impl Drop for PluginAggregators {
    /// The follower ends with the controller that started it.
    fn drop(&mut self) {
        if let Some(task) = self.follower.get() {
            task.abort();
        }
    }
}

/// Starts the follower (retrying while ZooKeeper cannot be reached), wakes
/// the pipeline after its first pass and after every swap; runs until
/// aborted, which drops and so stops the follower.
async fn follow(config: FollowerConfig, registry: Arc<PluginRegistry>, wake: Wake) {
    let mut backoff = Backoff::default();
    let follower = loop {
        match PluginFollower::start(config.clone(), Arc::clone(&registry)).await {
            Ok(follower) => break follower,
            Err(err) => {
                warn!(cluster = %config.cluster, error = %err,
                    "aggregator plugin follower could not start; retrying");
                backoff.wait().await;
            }
        }
    };
    let mut updates = follower.updates();
    wake();
    while updates.changed().await.is_ok() {
        wake();
    }
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
