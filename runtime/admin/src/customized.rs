//! The customized-state config: which customized-state types the
//! controller aggregates into customized views.

use strand_model::records::customized::keys::AGGREGATION_ENABLED_TYPES;
use strand_model::{CustomizedStateConfig, PropertyPaths, ZNRecord};
use strand_zk::Update;

use crate::Admin;
use crate::error::{AdminError, Result};

impl Admin {
    /// Adds a type to `AGGREGATION_ENABLED_TYPES` (no duplicates, unlike
    /// Helix's list-append merge).
    pub async fn add_customized_state_type(
        &self,
        cluster: &str,
        customized_type: &str,
    ) -> Result<()> {
        self.require_cluster(cluster).await?;
        crate::names::validate("customized-state type", customized_type)?;
        self.accessor()
            .update(
                &PropertyPaths::new(cluster).customized_state_config(),
                true,
                |current| {
                    let mut config = current
                        .map(CustomizedStateConfig::from)
                        .unwrap_or_else(|| CustomizedStateConfig::new(Vec::<String>::new()));
                    if config.is_enabled(customized_type) {
                        return Update::Keep;
                    }
                    config.add_type(customized_type);
                    Update::Write(config.into_record())
                },
            )
            .await?;
        Ok(())
    }

    /// Removes a type from `AGGREGATION_ENABLED_TYPES`.
    pub async fn remove_customized_state_type(
        &self,
        cluster: &str,
        customized_type: &str,
    ) -> Result<()> {
        self.require_cluster(cluster).await?;
        crate::names::validate("customized-state type", customized_type)?;
        let mut found = false;
        self.accessor()
            .update(
                &PropertyPaths::new(cluster).customized_state_config(),
                false,
                |current| {
                    let Some(record) = current else {
                        return Update::Keep;
                    };
                    let mut config = CustomizedStateConfig::from(record);
                    found = config.is_enabled(customized_type);
                    if !found {
                        return Update::Keep;
                    }
                    config.remove_type(customized_type);
                    Update::Write(config.into_record())
                },
            )
            .await?;
        if !found {
            return Err(AdminError::Invalid(format!(
                "customized-state type {customized_type} is not aggregated in cluster {cluster}"
            )));
        }
        Ok(())
    }

    /// The aggregated types.
    pub async fn customized_state_types(&self, cluster: &str) -> Result<Vec<String>> {
        self.require_cluster(cluster).await?;
        Ok(self
            .accessor()
            .get(&PropertyPaths::new(cluster).customized_state_config())
            .await?
            .map(|v| {
                CustomizedStateConfig::from(v.value)
                    .aggregation_enabled_types()
                    .to_vec()
            })
            .unwrap_or_default())
    }
}

impl Admin {
    /// The whole CustomizedStateConfig record, if the cluster has one.
    pub async fn customized_state_config(&self, cluster: &str) -> Result<Option<ZNRecord>> {
        self.require_cluster(cluster).await?;
        Ok(self
            .accessor()
            .get(&PropertyPaths::new(cluster).customized_state_config())
            .await?
            .map(|v| v.value))
    }

    /// Replaces the CustomizedStateConfig with the types listed in
    /// `record`'s `AGGREGATION_ENABLED_TYPES` (duplicates dropped), as
    /// Helix's `addCustomizedStateConfig` rebuilds it; the record's other
    /// fields are not kept. Returns the types written.
    pub async fn set_customized_state_config(
        &self,
        cluster: &str,
        record: &ZNRecord,
    ) -> Result<Vec<String>> {
        self.require_cluster(cluster).await?;
        let Some(listed) = record.list(AGGREGATION_ENABLED_TYPES) else {
            return Err(AdminError::Invalid(format!(
                "the record has no list field {AGGREGATION_ENABLED_TYPES}"
            )));
        };
        let mut config = CustomizedStateConfig::new(Vec::<String>::new());
        for customized_type in listed {
            crate::names::validate("customized-state type", customized_type)?;
            config.add_type(customized_type);
        }
        let types = config.aggregation_enabled_types().to_vec();
        self.accessor()
            .put(
                &PropertyPaths::new(cluster).customized_state_config(),
                config.record(),
            )
            .await?;
        Ok(types)
    }

    /// Removes the CustomizedStateConfig (no type is aggregated after).
    /// Returns whether there was one.
    pub async fn remove_customized_state_config(&self, cluster: &str) -> Result<bool> {
        self.require_cluster(cluster).await?;
        let path = PropertyPaths::new(cluster).customized_state_config();
        let existed = self.zk().exists(&path).await?.is_some();
        self.accessor()
            .update(&path, false, |_| Update::Delete)
            .await?;
        Ok(existed)
    }
}
