//! The customized-state config: which customized-state types the
//! controller aggregates into customized views.

use strand_model::{CustomizedStateConfig, PropertyPaths};
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
        if customized_type.is_empty() {
            return Err(AdminError::Invalid(
                "the customized-state type is empty".into(),
            ));
        }
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
