//! Which aggregator plugin computes the customized view of which
//! customized-state type: Strand's `STRAND_AGGREGATORS` map in the cluster
//! config, read by the controller. Deploying the plugin itself is
//! `strand-plugin-store`'s job; this module only binds names.

use strand_model::{ClusterConfig, PropertyPaths};
use strand_zk::Update;

use crate::Admin;
use crate::error::{AdminError, Result};

impl Admin {
    /// Binds the aggregator plugin `plugin` to `customized_type` (replacing
    /// any earlier binding of the type). The plugin should be deployed to
    /// the cluster; until it is, the controller keeps the default view.
    pub async fn bind_aggregator(
        &self,
        cluster: &str,
        customized_type: &str,
        plugin: &str,
    ) -> Result<()> {
        self.require_cluster(cluster).await?;
        crate::names::validate("customized-state type", customized_type)?;
        crate::names::validate("plugin", plugin)?;
        self.accessor()
            .update(
                &PropertyPaths::new(cluster).cluster_config(),
                true,
                |current| {
                    let mut config = current
                        .map(ClusterConfig::from)
                        .unwrap_or_else(|| ClusterConfig::new(cluster));
                    if config
                        .strand_aggregators()
                        .contains(&(customized_type, plugin))
                    {
                        return Update::Keep;
                    }
                    config.bind_aggregator(customized_type, plugin);
                    Update::Write(config.into_record())
                },
            )
            .await?;
        Ok(())
    }

    /// Removes the binding of `customized_type`; returns the plugin that
    /// was bound. The type's view goes back to Helix's default.
    pub async fn unbind_aggregator(&self, cluster: &str, customized_type: &str) -> Result<String> {
        self.require_cluster(cluster).await?;
        let mut removed = None;
        self.accessor()
            .update(
                &PropertyPaths::new(cluster).cluster_config(),
                false,
                |current| {
                    let Some(record) = current else {
                        return Update::Keep;
                    };
                    let mut config = ClusterConfig::from(record);
                    removed = config.unbind_aggregator(customized_type);
                    if removed.is_none() {
                        return Update::Keep;
                    }
                    Update::Write(config.into_record())
                },
            )
            .await?;
        removed.ok_or_else(|| {
            AdminError::Invalid(format!(
                "no aggregator is bound to customized-state type {customized_type} in cluster {cluster}"
            ))
        })
    }

    /// The bindings: (customized-state type, plugin name), sorted by type.
    pub async fn aggregator_bindings(&self, cluster: &str) -> Result<Vec<(String, String)>> {
        self.require_cluster(cluster).await?;
        Ok(self
            .accessor()
            .get(&PropertyPaths::new(cluster).cluster_config())
            .await?
            .map(|v| {
                ClusterConfig::from(v.value)
                    .strand_aggregators()
                    .into_iter()
                    .map(|(t, p)| (t.to_owned(), p.to_owned()))
                    .collect()
            })
            .unwrap_or_default())
    }
}
