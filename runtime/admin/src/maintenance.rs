//! Maintenance mode and pause: the `CONTROLLER/MAINTENANCE` and
//! `CONTROLLER/PAUSE` signals, written as Helix's
//! `ZKHelixAdmin.manuallyEnableMaintenanceMode` and `enableCluster` write them.
//! (Helix also appends to the controller history's `MAINTENANCE_HISTORY`;
//! Strand does not.)

use strand_model::records::TriggeringEntity;
use strand_model::{MaintenanceSignal, PauseSignal, PropertyPaths};
use strand_zk::Update;

use crate::Admin;
use crate::error::{AdminError, Result};
use strand_model::time::now_ms;

/// Simple fields of the maintenance signal that custom fields may not set.
const RESERVED_MAINTENANCE_FIELDS: [&str; 3] = ["TRIGGERED_BY", "TIMESTAMP", "AUTO_TRIGGER_REASON"];

impl Admin {
    /// Puts the cluster in maintenance mode (the controller stops moving
    /// replicas) with a reason and extra simple fields, or takes it out.
    /// Entering again replaces the signal; leaving when not in maintenance
    /// changes nothing.
    pub async fn set_maintenance(
        &self,
        cluster: &str,
        enabled: bool,
        reason: &str,
        custom_fields: &[(String, String)],
    ) -> Result<()> {
        self.require_cluster(cluster).await?;
        let path = PropertyPaths::new(cluster).maintenance();
        if !enabled {
            self.accessor()
                .update(&path, false, |_| Update::Delete)
                .await?;
            return Ok(());
        }
        if let Some((key, _)) = custom_fields
            .iter()
            .find(|(key, _)| RESERVED_MAINTENANCE_FIELDS.contains(&key.as_str()))
        {
            return Err(AdminError::Invalid(format!(
                "maintenance field {key} is set by Strand and cannot be given"
            )));
        }
        let mut signal = MaintenanceSignal::new(reason, TriggeringEntity::User, now_ms());
        for (key, value) in custom_fields {
            signal.record_mut().set_simple(key.clone(), value.clone());
        }
        self.accessor().put(&path, signal.record()).await?;
        Ok(())
    }

    /// The maintenance signal, if the cluster is in maintenance mode.
    pub async fn maintenance(&self, cluster: &str) -> Result<Option<MaintenanceSignal>> {
        self.require_cluster(cluster).await?;
        Ok(self
            .accessor()
            .get(&PropertyPaths::new(cluster).maintenance())
            .await?
            .map(|v| MaintenanceSignal::from(v.value)))
    }

    /// Pauses the controller's pipeline for the cluster (`enabled` false
    /// writes the PAUSE signal with `reason`) or resumes it.
    pub async fn set_cluster_enabled(
        &self,
        cluster: &str,
        enabled: bool,
        reason: &str,
    ) -> Result<()> {
        self.require_cluster(cluster).await?;
        let path = PropertyPaths::new(cluster).pause();
        if enabled {
            self.accessor()
                .update(&path, false, |_| Update::Delete)
                .await?;
        } else {
            self.accessor()
                .put(&path, PauseSignal::new(reason).record())
                .await?;
        }
        Ok(())
    }

    /// Whether the cluster's controller pipeline is paused.
    pub async fn is_paused(&self, cluster: &str) -> Result<bool> {
        self.require_cluster(cluster).await?;
        Ok(self
            .zk()
            .exists(&PropertyPaths::new(cluster).pause())
            .await?
            .is_some())
    }
}
