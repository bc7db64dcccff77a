//! Per-instance status records, `STATUS/<instance>`: which version of each
//! plugin an instance runs, and why the active version did not load there
//! if it did not. Participants write them; `strand plugin list` reads them.

use serde::Serialize;
use strand_model::{FieldMap, ZNRecord};
use strand_zk::{Accessor, Update, Zk};

use crate::error::StoreError;
use crate::layout::StorePaths;
use strand_model::time::now_ms;

mod keys {
    pub const ACTIVE_VERSION: &str = "ACTIVE_VERSION";
    pub const ACTIVE_SHA256: &str = "ACTIVE_SHA256";
    pub const UPDATED_AT: &str = "UPDATED_AT";
    pub const LAST_ERROR: &str = "LAST_ERROR";
    pub const ERROR_VERSION: &str = "ERROR_VERSION";
    pub const ERROR_SHA256: &str = "ERROR_SHA256";
    pub const ERROR_AT: &str = "ERROR_AT";
}

/// One plugin on one instance.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PluginStatus {
    /// The version the instance runs, if any.
    pub active_version: Option<String>,
    /// Its SHA-256.
    pub active_sha256: Option<String>,
    /// When this status was written (ms since the epoch).
    pub updated_at_ms: i64,
    /// Why the cluster's active version did not load, while it does not.
    pub last_error: Option<String>,
    /// The version that failed.
    pub error_version: Option<String>,
    /// Its SHA-256.
    pub error_sha256: Option<String>,
}

/// One instance's view of one plugin, as `list` returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InstanceStatus {
    /// The instance.
    pub instance: String,
    /// Its status.
    #[serde(flatten)]
    pub status: PluginStatus,
}

impl PluginStatus {
    fn to_map(&self) -> FieldMap {
        let mut m = FieldMap::new();
        let mut put = |k: &str, v: &Option<String>| {
            if let Some(v) = v {
                m.insert(k.to_owned(), v.clone());
            }
        };
        put(keys::ACTIVE_VERSION, &self.active_version);
        put(keys::ACTIVE_SHA256, &self.active_sha256);
        put(keys::LAST_ERROR, &self.last_error);
        put(keys::ERROR_VERSION, &self.error_version);
        put(keys::ERROR_SHA256, &self.error_sha256);
        m.insert(keys::UPDATED_AT.into(), self.updated_at_ms.to_string());
        if self.last_error.is_some() {
            m.insert(keys::ERROR_AT.into(), self.updated_at_ms.to_string());
        }
        m
    }

    fn from_map(m: &FieldMap) -> Self {
        let get = |k: &str| m.get(k).cloned();
        Self {
            active_version: get(keys::ACTIVE_VERSION),
            active_sha256: get(keys::ACTIVE_SHA256),
            updated_at_ms: m
                .get(keys::UPDATED_AT)
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
            last_error: get(keys::LAST_ERROR),
            error_version: get(keys::ERROR_VERSION),
            error_sha256: get(keys::ERROR_SHA256),
        }
    }
}

/// Every plugin's status on `instance`, by plugin name.
pub fn parse(record: &ZNRecord) -> Vec<(String, PluginStatus)> {
    record
        .map_fields
        .iter()
        .map(|(name, m)| (name.clone(), PluginStatus::from_map(m)))
        .collect()
}

/// Records that `instance` now runs `version` (`sha256`) of `plugin`,
/// clearing any error.
///
/// # Errors
/// [`StoreError::Zk`].
pub async fn record_active(
    zk: &Zk,
    paths: &StorePaths,
    instance: &str,
    plugin: &str,
    version: &str,
    sha256: &str,
) -> Result<(), StoreError> {
    let status = PluginStatus {
        active_version: Some(version.to_owned()),
        active_sha256: Some(sha256.to_owned()),
        updated_at_ms: now_ms(),
        ..PluginStatus::default()
    };
    write(zk, paths, instance, plugin, move |_| status.clone()).await
}

/// Records that `version` (`sha256`) of `plugin` failed to load on
/// `instance`, keeping what it runs.
///
/// # Errors
/// [`StoreError::Zk`].
pub async fn record_error(
    zk: &Zk,
    paths: &StorePaths,
    instance: &str,
    plugin: &str,
    version: &str,
    sha256: &str,
    error: &str,
) -> Result<(), StoreError> {
    write(zk, paths, instance, plugin, |old| PluginStatus {
        active_version: old.as_ref().and_then(|o| o.active_version.clone()),
        active_sha256: old.as_ref().and_then(|o| o.active_sha256.clone()),
        updated_at_ms: now_ms(),
        last_error: Some(error.to_owned()),
        error_version: Some(version.to_owned()),
        error_sha256: Some(sha256.to_owned()),
    })
    .await
}

/// Drops `plugin` from `instance`'s status (it no longer runs it).
///
/// # Errors
/// [`StoreError::Zk`].
pub async fn forget(
    zk: &Zk,
    paths: &StorePaths,
    instance: &str,
    plugin: &str,
) -> Result<(), StoreError> {
    Accessor::new(zk.clone())
        .update(&paths.status(instance), false, |record| match record {
            Some(mut r) if r.map(plugin).is_some() => {
                r.remove_map_field(plugin);
                Update::Write(r)
            }
            _ => Update::Keep,
        })
        .await?;
    Ok(())
}

async fn write(
    zk: &Zk,
    paths: &StorePaths,
    instance: &str,
    plugin: &str,
    make: impl Fn(Option<PluginStatus>) -> PluginStatus,
) -> Result<(), StoreError> {
    zk.create_all(&paths.statuses()).await?;
    Accessor::new(zk.clone())
        .update(&paths.status(instance), true, |record| {
            let mut r = record.unwrap_or_else(|| ZNRecord::new(instance));
            let old = r.map(plugin).map(PluginStatus::from_map);
            r.set_map_field(plugin, make(old).to_map());
            Update::Write(r)
        })
        .await?;
    Ok(())
}
