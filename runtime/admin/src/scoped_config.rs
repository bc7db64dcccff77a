//! Helix's scoped configs (`ClusterSetup.setConfig` / `getConfig` /
//! `removeConfig`, `ConfigAccessor`): keys of the ClusterConfig
//! (`CLUSTER`), an InstanceConfig (`PARTICIPANT`), a ResourceConfig
//! (`RESOURCE`) as simple fields, and of one partition (`PARTITION`) as the
//! ResourceConfig's map field of that partition. A scope is written as
//! Helix's command line writes it: the type, then its arguments
//! comma-separated (`PARTITION myCluster,myDB,myDB_0`).

use std::collections::BTreeMap;

use strand_model::{PropertyPaths, ZNRecord};
use strand_zk::Update;

use crate::Admin;
use crate::error::{AdminError, Result};

/// Where scoped config keys live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigScope {
    /// The ClusterConfig.
    Cluster,
    /// An instance's InstanceConfig.
    Participant(String),
    /// A resource's ResourceConfig.
    Resource(String),
    /// One partition: a map field of its resource's ResourceConfig.
    Partition {
        /// The resource.
        resource: String,
        /// The partition.
        partition: String,
    },
}

impl ConfigScope {
    /// Parses Helix's `ConfigScope ConfigScopeArgs` (e.g. `RESOURCE` and
    /// `myCluster,testDB`); returns the cluster and the scope.
    pub fn parse(kind: &str, args: &str) -> Result<(String, Self)> {
        let args: Vec<&str> = args
            .split([',', ' ', '\t'])
            .filter(|a| !a.is_empty())
            .collect();
        let wrong = |expected: &str| {
            AdminError::Invalid(format!(
                "config scope {kind} takes {expected}, got {:?}",
                args.join(",")
            ))
        };
        let scope = match (kind, args.as_slice()) {
            ("CLUSTER", [_]) => Self::Cluster,
            ("PARTICIPANT", [_, instance]) => Self::Participant((*instance).to_owned()),
            ("RESOURCE", [_, resource]) => Self::Resource((*resource).to_owned()),
            ("PARTITION", [_, resource, partition]) => Self::Partition {
                resource: (*resource).to_owned(),
                partition: (*partition).to_owned(),
            },
            ("CLUSTER", _) => return Err(wrong("CLUSTER")),
            ("PARTICIPANT", _) => return Err(wrong("CLUSTER,INSTANCE")),
            ("RESOURCE", _) => return Err(wrong("CLUSTER,RESOURCE")),
            ("PARTITION", _) => return Err(wrong("CLUSTER,RESOURCE,PARTITION")),
            (other, _) => {
                return Err(AdminError::Invalid(format!(
                    "unknown config scope {other:?}: expected CLUSTER, PARTICIPANT, RESOURCE or PARTITION"
                )));
            }
        };
        let cluster = args[0].to_owned();
        crate::names::validate("cluster", &cluster)?;
        match &scope {
            Self::Cluster => {}
            Self::Participant(instance) => crate::names::validate("instance", instance)?,
            Self::Resource(resource) => crate::names::validate("resource", resource)?,
            Self::Partition {
                resource,
                partition,
            } => {
                crate::names::validate("resource", resource)?;
                crate::names::validate("partition", partition)?;
            }
        }
        Ok((cluster, scope))
    }
}

/// Parses Helix's `k1=v1,k2=v2`.
pub fn parse_key_values(text: &str) -> Result<Vec<(String, String)>> {
    let pairs: Vec<(String, String)> = text
        .split(',')
        .filter(|pair| !pair.trim().is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((key, value)) if !key.trim().is_empty() => {
                Ok((key.trim().to_owned(), value.trim().to_owned()))
            }
            _ => Err(AdminError::Invalid(format!(
                "{pair:?} is not key=value (expected k1=v1,k2=v2)"
            ))),
        })
        .collect::<Result<_>>()?;
    if pairs.is_empty() {
        return Err(AdminError::Invalid("no key=value given".into()));
    }
    Ok(pairs)
}

/// Parses Helix's `k1,k2`.
pub fn parse_keys(text: &str) -> Result<Vec<String>> {
    let keys: Vec<String> = text
        .split([',', ' ', '\t'])
        .filter(|k| !k.is_empty())
        .map(str::to_owned)
        .collect();
    if keys.is_empty() {
        return Err(AdminError::Invalid("no key given".into()));
    }
    Ok(keys)
}

impl Admin {
    /// Helix's `setConfig`: sets keys in the scope (a ResourceConfig is
    /// created when missing; the resource must exist).
    pub async fn set_config(
        &self,
        cluster: &str,
        scope: &ConfigScope,
        pairs: &[(String, String)],
    ) -> Result<()> {
        let (path, partition) = self.scope_path(cluster, scope).await?;
        let create = matches!(
            scope,
            ConfigScope::Resource(_) | ConfigScope::Partition { .. }
        );
        let id = record_id(cluster, scope);
        self.accessor()
            .update(&path, create, |current| {
                let mut record = current.unwrap_or_else(|| ZNRecord::new(id.clone()));
                for (key, value) in pairs {
                    match &partition {
                        Some(partition) => {
                            record
                                .map_mut(partition.clone())
                                .insert(key.clone(), value.clone());
                        }
                        None => record.set_simple(key.clone(), value.clone()),
                    }
                }
                Update::Write(record)
            })
            .await?;
        Ok(())
    }

    /// Helix's `getConfig`: the keys of the scope that are set.
    pub async fn get_config(
        &self,
        cluster: &str,
        scope: &ConfigScope,
        keys: &[String],
    ) -> Result<BTreeMap<String, String>> {
        let (path, partition) = self.scope_path(cluster, scope).await?;
        let Some(found) = self.accessor().get(&path).await? else {
            return Ok(BTreeMap::new());
        };
        let record = found.value;
        let fields = match &partition {
            Some(partition) => record.map(partition).cloned().unwrap_or_default(),
            None => record.simple_fields.clone(),
        };
        Ok(keys
            .iter()
            .filter_map(|key| Some((key.clone(), fields.get(key)?.clone())))
            .collect())
    }

    /// Helix's `removeConfig`: removes keys from the scope (keys that are
    /// not set are no error).
    pub async fn remove_config(
        &self,
        cluster: &str,
        scope: &ConfigScope,
        keys: &[String],
    ) -> Result<()> {
        let (path, partition) = self.scope_path(cluster, scope).await?;
        self.accessor()
            .update(&path, false, |current| {
                let Some(mut record) = current else {
                    return Update::Keep;
                };
                for key in keys {
                    match &partition {
                        Some(partition) => {
                            if let Some(map) = record.map_fields.get_mut(partition) {
                                map.shift_remove(key);
                            }
                        }
                        None => {
                            record.remove_simple(key);
                        }
                    }
                }
                Update::Write(record)
            })
            .await?;
        Ok(())
    }

    /// The config znode of a scope (checked to exist where it must), and
    /// the map field of a partition scope.
    async fn scope_path(
        &self,
        cluster: &str,
        scope: &ConfigScope,
    ) -> Result<(String, Option<String>)> {
        let paths = PropertyPaths::new(cluster);
        Ok(match scope {
            ConfigScope::Cluster => {
                self.require_cluster(cluster).await?;
                (paths.cluster_config(), None)
            }
            ConfigScope::Participant(instance) => {
                self.require_instance(cluster, instance).await?;
                (paths.instance_config(instance), None)
            }
            ConfigScope::Resource(resource) => {
                self.ideal_state(cluster, resource).await?;
                (paths.resource_config(resource), None)
            }
            ConfigScope::Partition {
                resource,
                partition,
            } => {
                self.ideal_state(cluster, resource).await?;
                (paths.resource_config(resource), Some(partition.clone()))
            }
        })
    }
}

/// The id a config record of the scope has (Helix's).
fn record_id(cluster: &str, scope: &ConfigScope) -> String {
    match scope {
        ConfigScope::Cluster => cluster.to_owned(),
        ConfigScope::Participant(instance) => instance.clone(),
        ConfigScope::Resource(resource) | ConfigScope::Partition { resource, .. } => {
            resource.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_and_pairs_parse_as_helix_writes_them() {
        assert_eq!(
            ConfigScope::parse("CLUSTER", "C").ok(),
            Some(("C".to_owned(), ConfigScope::Cluster))
        );
        assert_eq!(
            ConfigScope::parse("PARTITION", "C,db,db_0").ok(),
            Some((
                "C".to_owned(),
                ConfigScope::Partition {
                    resource: "db".into(),
                    partition: "db_0".into()
                }
            ))
        );
        assert!(ConfigScope::parse("RESOURCE", "C").is_err());
        assert!(ConfigScope::parse("CLOUD", "C").is_err());
        assert!(ConfigScope::parse("PARTICIPANT", "C,a/b").is_err());
        assert_eq!(
            parse_key_values("k1=v1,k2=").ok(),
            Some(vec![
                ("k1".to_owned(), "v1".to_owned()),
                ("k2".to_owned(), String::new())
            ])
        );
        assert!(parse_key_values("k1").is_err());
        assert!(parse_key_values("").is_err());
        assert_eq!(
            parse_keys("k1,k2").ok(),
            Some(vec!["k1".to_owned(), "k2".to_owned()])
        );
    }
}
