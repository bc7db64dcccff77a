//! Instance operations: add (as `ZKHelixAdmin.addInstance`), drop, enable
//! and disable, and instance tags (`addInstanceTag`, `removeInstanceTag`,
//! `getInstancesInClusterWithTag`).

use strand_model::{InstanceConfig, ParticipantHistory, PropertyPaths};
use strand_zk::{CreateKind, Update};

use crate::Admin;
use crate::error::{AdminError, Result};
use strand_model::time::now_ms;

impl Admin {
    /// Adds an instance given as `host:port`, `host_port` or any other
    /// name (`P0`), as Helix's `addInstance` takes it
    /// ([`instance_config_for`]). Creates the InstanceConfig and the
    /// `INSTANCES/<id>` subtree atomically. Returns the id.
    pub async fn add_instance(&self, cluster: &str, spec: &str) -> Result<String> {
        crate::names::validate("instance", spec)?;
        let mut config = instance_config_for(spec);
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
        crate::names::validate("instance", id)?;
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
        self.update_instance_config(cluster, instance, |config| {
            config.set_instance_enabled(enabled, now);
            if let (false, Some(reason)) = (enabled, reason) {
                config.set_disabled_reason(reason);
            }
        })
        .await
    }

    /// Helix's `addInstanceTag`: adds `tag` to the instance's `TAG_LIST`
    /// (once; FULL_AUTO resources with that `INSTANCE_GROUP_TAG` are placed
    /// on tagged instances only).
    pub async fn add_instance_tag(&self, cluster: &str, instance: &str, tag: &str) -> Result<()> {
        validate_tag(tag)?;
        self.require_instance(cluster, instance).await?;
        self.update_instance_config(cluster, instance, |config| config.add_tag(tag))
            .await
    }

    /// Helix's `removeInstanceTag`: removes `tag` from the instance's
    /// `TAG_LIST` (nothing changes when it is not there).
    pub async fn remove_instance_tag(
        &self,
        cluster: &str,
        instance: &str,
        tag: &str,
    ) -> Result<()> {
        validate_tag(tag)?;
        self.require_instance(cluster, instance).await?;
        self.update_instance_config(cluster, instance, |config| config.remove_tag(tag))
            .await
    }

    /// Helix's `getInstancesInClusterWithTag`: the instances whose config
    /// carries `tag`, sorted.
    pub async fn list_instances_with_tag(&self, cluster: &str, tag: &str) -> Result<Vec<String>> {
        validate_tag(tag)?;
        let mut tagged = Vec::new();
        for instance in self.list_instances(cluster).await? {
            let path = PropertyPaths::new(cluster).instance_config(&instance);
            if let Some(found) = self.accessor().get(&path).await?
                && InstanceConfig::from(found.value).contains_tag(tag)
            {
                tagged.push(instance);
            }
        }
        tagged.sort();
        Ok(tagged)
    }

    /// Helix's `enablePartition`: enables or disables partitions of a
    /// resource on one instance (the InstanceConfig's
    /// `HELIX_DISABLED_PARTITION`); the controller takes a disabled
    /// partition's replica there offline.
    pub async fn set_partitions_enabled(
        &self,
        cluster: &str,
        instance: &str,
        resource: &str,
        partitions: &[String],
        enabled: bool,
    ) -> Result<()> {
        crate::names::validate("resource", resource)?;
        if partitions.is_empty() {
            return Err(AdminError::Invalid("name at least one partition".into()));
        }
        for partition in partitions {
            crate::names::validate("partition", partition)?;
        }
        self.require_instance(cluster, instance).await?;
        self.update_instance_config(cluster, instance, |config| {
            for partition in partitions {
                config.set_partition_enabled(resource, partition, enabled);
            }
        })
        .await
    }

    /// Edits an instance's config in place (a versioned read-modify-write;
    /// nothing is written when the config is gone).
    pub(crate) async fn update_instance_config(
        &self,
        cluster: &str,
        instance: &str,
        edit: impl Fn(&mut InstanceConfig),
    ) -> Result<()> {
        self.accessor()
            .update(
                &PropertyPaths::new(cluster).instance_config(instance),
                false,
                |current| {
                    let Some(record) = current else {
                        return Update::Keep;
                    };
                    let mut config = InstanceConfig::from(record);
                    edit(&mut config);
                    Update::Write(config.into_record())
                },
            )
            .await?;
        Ok(())
    }

    /// Fails unless the instance has a config in the cluster.
    pub(crate) async fn require_instance(&self, cluster: &str, instance: &str) -> Result<()> {
        self.require_cluster(cluster).await?;
        crate::names::validate("instance", instance)?;
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

/// Helix's `InstanceConfig.toInstanceConfig`: `host:port` and `host_port`
/// (the port all digits, positive, within Java's `int`) give id
/// `host_port` with `HELIX_HOST` and `HELIX_PORT`; any other name (`P0`,
/// as Helix's customized-view tutorial names its instances) is the id
/// itself, with `HELIX_HOST` set to it and no port.
pub fn instance_config_for(spec: &str) -> InstanceConfig {
    // Helix tries ':' first, then '_', and stops at the first whose
    // pattern `(.*)<delim>(\d+)` matches the whole name.
    let split = [':', '_'].into_iter().find_map(|delim| {
        let at = spec.rfind(delim)?;
        let digits = &spec[at + 1..];
        (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())).then_some(at)
    });
    let host_port = split.and_then(|at| {
        let port = spec[at + 1..].parse::<i32>().ok().filter(|&p| p > 0)?;
        Some((&spec[..at], port))
    });
    match host_port {
        Some((host, port)) => {
            let mut config = InstanceConfig::new(format!("{host}_{port}"));
            config.set_host(host);
            config.set_port(port.to_string());
            config
        }
        None => {
            let mut config = InstanceConfig::new(spec);
            config.set_host(spec);
            config
        }
    }
}

/// A tag must say something: not empty, no surrounding whitespace.
fn validate_tag(tag: &str) -> Result<()> {
    if tag.is_empty() || tag.trim() != tag {
        return Err(AdminError::Invalid(format!(
            "invalid instance tag {tag:?}: a tag must not be empty or start or end with whitespace"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::instance_config_for;

    fn parsed(spec: &str) -> (String, Option<String>, Option<String>) {
        let config = instance_config_for(spec);
        (
            config.id().to_owned(),
            config.host().map(str::to_owned),
            config.port().map(str::to_owned),
        )
    }

    #[test]
    fn names_are_parsed_as_helix_parses_them() {
        let own = |s: &str| Some(s.to_owned());
        assert_eq!(
            parsed("localhost:12913"),
            ("localhost_12913".into(), own("localhost"), own("12913"))
        );
        assert_eq!(
            parsed("localhost_12913"),
            ("localhost_12913".into(), own("localhost"), own("12913"))
        );
        assert_eq!(parsed("P0"), ("P0".into(), own("P0"), None));
        assert_eq!(
            parsed("my_host_1"),
            ("my_host_1".into(), own("my_host"), own("1"))
        );
        // Port 0 and ports beyond Java's int keep the name as it is.
        assert_eq!(parsed("h:0"), ("h:0".into(), own("h:0"), None));
        assert_eq!(
            parsed("h_99999999999"),
            ("h_99999999999".into(), own("h_99999999999"), None)
        );
        // ':' is tried first: "a_1:x" is not host:port, and "_1" then is.
        assert_eq!(parsed("a:x_1"), ("a:x_1".into(), own("a:x"), own("1")));
    }
}
