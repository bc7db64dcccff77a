//! [`PluginFollower`]: one cluster's deployed plugins (`strand plugin
//! deploy`, `strand-plugin-store`) of one kind, kept installed in a
//! [`PluginRegistry`] at their active versions. Participants follow the
//! state models, controllers the aggregators; both through this one
//! implementation and its one failure policy.
//!
//! The follower watches `/<C>/PROPERTYSTORE/STRAND/PLUGINS` with a
//! [`TreeCache`] on a session of its own (no polling). When a plugin's
//! active version differs from what the registry runs, it fetches the
//! artefact, verifies its size and SHA-256, compiles and installs it off the
//! async workers (`spawn_blocking`; the host caches the compiled form on
//! disk by hash), and the registry swaps it in atomically: the next call
//! runs on it, calls in flight finish on the old one. Each served instance's
//! status record (`STATUS/<instance>`) says which version it runs, or why
//! the active version did not load there.
//!
//! # Guarantees
//! * A version that cannot be fetched, is damaged, or fails to load leaves
//!   the running version serving; the failure is logged and recorded in the
//!   status of every served instance, and not retried until the plugin
//!   record changes (or a new session starts).
//! * The first pass completes before [`PluginFollower::start`] returns, so
//!   whoever starts after it finds the plugins installed.
//! * A status write that fails is retried (jittered backoff) until it
//!   lands; a new ZooKeeper session (after expiry) re-reads everything.
//! * [`PluginFollower::updates`] is bumped after every install or swap.
//! * Dropping the follower stops it (installed plugins stay installed).
//! * A version whose deployment requests network capabilities
//!   (`strand plugin deploy --request`) is loaded only where the local
//!   [`Admission`] grants cover them all, and runs with exactly its
//!   requests; elsewhere it is refused with the reason, as above.

mod follow;

use std::sync::Arc;

use strand_plugin_host::PluginRegistry;
use strand_plugin_host::net::{GrantTable, InstanceAddress};
use strand_plugin_store::PluginKind;
use strand_zk::{ZkConfig, ZkError};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::warn;

/// Which plugins to follow, where, and on behalf of which instances.
#[derive(Debug, Clone)]
pub struct FollowerConfig {
    /// How to reach ZooKeeper (the follower opens a session of its own).
    pub zk: ZkConfig,
    /// The cluster.
    pub cluster: String,
    /// The kind followed: state models (participants) or aggregators
    /// (controllers). Plugins of the other kind are left alone.
    pub kind: PluginKind,
    /// The instances served with these plugins, whose status records are
    /// written; none for a controller (its failures are logged).
    pub instances: Vec<String>,
}

/// What deployed plugins may reach from here: the operator's grants and
/// the addresses of the served instances (for `{host}` and `{port}`). A
/// version is loaded only if these grants cover every capability its
/// deployment requests, and then runs with exactly what it requests;
/// without requests it reaches nothing. The default grants nothing.
#[derive(Debug, Clone, Default)]
pub struct Admission {
    /// The operator's network grants, per plugin name.
    pub grants: GrantTable,
    /// The served instances' addresses.
    pub addresses: Vec<InstanceAddress>,
}

/// A running follower (see the crate docs).
pub struct PluginFollower {
    stop: watch::Sender<bool>,
    updates: watch::Receiver<u64>,
    task: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for PluginFollower {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginFollower")
            .field("updates", &*self.updates.borrow())
            .finish_non_exhaustive()
    }
}

impl PluginFollower {
    /// Connects, brings every plugin of `config.kind` deployed to the
    /// cluster to its active version in `registry`, and keeps following
    /// deployments until [`PluginFollower::shutdown`] (or drop).
    ///
    /// # Errors
    /// When ZooKeeper cannot be reached. A plugin that fails to load is
    /// not an error (see the crate docs).
    pub async fn start(
        config: FollowerConfig,
        registry: Arc<PluginRegistry>,
    ) -> Result<Self, ZkError> {
        Self::start_admitting(config, registry, Admission::default()).await
    }

    /// [`PluginFollower::start`], loading versions whose requested network
    /// capabilities `admission` covers (a version it does not cover is
    /// refused like one that fails to load: the running version keeps
    /// serving and every instance's status says why).
    ///
    /// # Errors
    /// As [`PluginFollower::start`].
    pub async fn start_admitting(
        config: FollowerConfig,
        registry: Arc<PluginRegistry>,
        admission: Admission,
    ) -> Result<Self, ZkError> {
        let (updates_tx, updates) = watch::channel(0);
        let (stop, stop_rx) = watch::channel(false);
        let task =
            follow::Follower::start(config, admission, registry, updates_tx, stop_rx).await?;
        Ok(Self {
            stop,
            updates,
            task: Some(task),
        })
    }

    /// Bumped after every install or swap: a participant looks again at
    /// messages that waited for a model, a controller runs its pipeline.
    pub fn updates(&self) -> watch::Receiver<u64> {
        self.updates.clone()
    }

    /// Stops following and waits for the follower to end (installed
    /// plugins stay installed).
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take()
            && let Err(err) = task.await
        {
            warn!(error = %err, "plugin follower ended abnormally");
        }
    }
}

impl Drop for PluginFollower {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}
