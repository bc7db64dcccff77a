//! [`ClusterPlugins`]: state-model plugins deployed to the cluster
//! (`strand plugin deploy`, `strand-plugin-store`), installed into this
//! process's [`PluginRegistry`] and kept at the active version by
//! [`PluginFollower`] (`strand-plugin-follower`, which controllers use for
//! aggregators). See that crate for the guarantees: fetch, SHA-256 check,
//! compile off the async workers, atomic swap, and each served instance's
//! status record saying which version it runs or why the active one did
//! not load. Aggregators are left to controllers.

use std::sync::Arc;

use strand_plugin_follower::{Admission, FollowerConfig, PluginFollower};
use strand_plugin_host::PluginRegistry;
use strand_plugin_host::net::GrantTable;
use strand_plugin_store::PluginKind;
use strand_zk::ZkConfig;
use tokio::sync::watch;

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

/// The deployed state models of a cluster, followed into a registry.
#[derive(Debug)]
pub struct ClusterPlugins(PluginFollower);

impl ClusterPlugins {
    /// Connects, installs the active version of every state-model plugin
    /// deployed to the cluster, and keeps following deployments until
    /// [`ClusterPlugins::shutdown`].
    ///
    /// # Errors
    /// When ZooKeeper cannot be reached. A plugin that fails to load is
    /// not an error.
    pub async fn start(
        config: ClusterPluginsConfig,
        registry: Arc<PluginRegistry>,
    ) -> Result<Self> {
        Self::start_with_grants(config, registry, GrantTable::default()).await
    }

    /// [`ClusterPlugins::start`] with the operator's network grants: a
    /// deployed version is loaded only if `grants` cover every capability
    /// its deployment requests (`{host}` and `{port}` are each instance's,
    /// see [`address_of`](crate::address_of)), and runs with exactly its
    /// requests; otherwise the previous version keeps serving and each
    /// instance's plugin status says why.
    ///
    /// # Errors
    /// As [`ClusterPlugins::start`].
    pub async fn start_with_grants(
        config: ClusterPluginsConfig,
        registry: Arc<PluginRegistry>,
        grants: GrantTable,
    ) -> Result<Self> {
        let admission = Admission {
            grants,
            addresses: config
                .instances
                .iter()
                .map(|i| crate::address_of(i))
                .collect(),
        };
        let config = FollowerConfig {
            zk: config.zk,
            cluster: config.cluster,
            kind: PluginKind::StateModel,
            instances: config.instances,
        };
        Ok(Self(
            PluginFollower::start_admitting(config, registry, admission).await?,
        ))
    }

    /// Bumped after every install or swap: participants watch it to look at
    /// messages that were waiting for a model (see
    /// [`ParticipantConfig::plugin_updates`](crate::ParticipantConfig::plugin_updates)).
    pub fn updates(&self) -> watch::Receiver<u64> {
        self.0.updates()
    }

    /// Stops following (installed plugins stay installed).
    pub async fn shutdown(self) {
        self.0.shutdown().await;
    }
}
