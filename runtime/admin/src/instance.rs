//! Instance operations: add (as `ZKHelixAdmin.addInstance`), drop, enable
//! and disable.

use strand_model::{InstanceConfig, ParticipantHistory, PropertyPaths};
use strand_zk::{CreateKind, Update};

use crate::Admin;
use crate::error::{AdminError, Result};
use strand_model::time::now_ms;

impl Admin {
    /// Adds an instance given as `host:port` or `host_port`; its id is
    /// `host_port`. Creates the InstanceConfig and the `INSTANCES/<id>`
    /// subtree atomically. Returns the id.
    pub async fn add_instance(&self, cluster: &str, spec: &str) -> Result<String> {
        let mut config = InstanceConfig::from_host_port(spec)
            .map_err(|e| AdminError::Invalid(format!("invalid instance {spec:?}: {e}")))?;
        // As the Java admin writes it: enabled, with a timestamp.
        config.set_instance_enabled(true, now_ms());
        self.add_instance_config(cluster, &config).await?;
        Ok(config.id().to_owned())
    }

    /// Adds an instance from a prepared InstanceConfig (participants that
    /// auto-join use this).
    pub async fn add_instance_config(&self, cluster: &str, config: &InstanceConfig) -> Result<()> {
        self.require_cluster(cluster).await?;
        let id = config.id();
        crate::cluster::validate_name("instance", id)?;
        let exists = || AdminError::InstanceExists {
            cluster: cluster.to_owned(),
            instance: id.to_owned(),
        };
        if self
            .zk()
            .exists(&PropertyPaths::new(cluster).instance_config(id))
            .await?
            .is_some()
        {
            return Err(exists());
        }
        let paths = PropertyPaths::new(cluster);
        let mut multi = self.zk().multi();
        multi.create(
            paths.instance_config(id),
            config.record().to_bytes()?,
            CreateKind::Persistent,
        );
        for path in paths.instance_creation_paths(id) {
            let data = if path == paths.participant_history(id) {
                ParticipantHistory::new(id).record().to_bytes()?
            } else {
                Vec::new()
            };
            multi.create(path, data, CreateKind::Persistent);
        }
        multi.commit().await.map_err(|err| match err {
            strand_zk::ZkError::Multi { ref source, .. } if source.is_node_exists() => exists(),
            other => other.into(),
        })
    }

    /// Adds an instance from a whole InstanceConfig record whose id must be
    /// `instance` (Helix's REST uses the body's id whatever the path says;
    /// Strand refuses the mismatch).
    pub async fn add_instance_record(
        &self,
        cluster: &str,
        instance: &str,
        record: strand_model::ZNRecord,
    ) -> Result<()> {
        crate::configs::require_id(&record, instance, "instance")?;
        self.add_instance_config(cluster, &InstanceConfig::from(record))
            .await
    }

    /// Removes an instance's config and subtree. Refused while it is live.
    pub async fn drop_instance(&self, cluster: &str, instance: &str) -> Result<()> {
        self.require_instance(cluster, instance).await?;
        if self
            .zk()
            .exists(&PropertyPaths::new(cluster).live_instance(instance))
            .await?
            .is_some()
        {
            return Err(AdminError::Refused(format!(
                "instance {instance} is live in cluster {cluster}; stop it first"
            )));
        }
        self.zk()
            .delete_recursive(&PropertyPaths::new(cluster).instance(instance))
            .await?;
        self.zk()
            .delete_recursive(&PropertyPaths::new(cluster).instance_config(instance))
            .await?;
        Ok(())
    }

    /// Enables or disables an instance the way `ZKHelixAdmin.enableInstance`
    /// does (`HELIX_ENABLED`, `HELIX_ENABLED_TIMESTAMP`, and the reason).
    pub async fn set_instance_enabled(
        &self,
        cluster: &str,
        instance: &str,
        enabled: bool,
        reason: Option<&str>,
    ) -> Result<()> {
        self.require_instance(cluster, instance).await?;
        let now = now_ms();
        self.accessor()
            .update(
                &PropertyPaths::new(cluster).instance_config(instance),
                false,
                |current| {
                    let Some(record) = current else {
                        return Update::Keep;
                    };
                    let mut config = InstanceConfig::from(record);
                    config.set_instance_enabled(enabled, now);
                    if let (false, Some(reason)) = (enabled, reason) {
                        config.set_disabled_reason(reason);
                    }
                    Update::Write(config.into_record())
                },
            )
            .await?;
        Ok(())
    }

    /// Fails unless the instance has a config in the cluster.
    pub(crate) async fn require_instance(&self, cluster: &str, instance: &str) -> Result<()> {
        self.require_cluster(cluster).await?;
        if self
            .zk()
            .exists(&PropertyPaths::new(cluster).instance_config(instance))
            .await?
            .is_none()
        {
            return Err(AdminError::NoSuchInstance {
                cluster: cluster.to_owned(),
                instance: instance.to_owned(),
            });
        }
        Ok(())
    }
}
