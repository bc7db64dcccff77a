//! [`CustomizedStateProvider`]: a participant's customized states, with
//! the meaning of Helix's `CustomizedStateProvider` — records at
//! `INSTANCES/<instance>/CUSTOMIZEDSTATES/<type>/<resource>`, one map per
//! partition with `CURRENT_STATE` and `START_TIME`.
//!
//! The Rust API and the plugins' `customized-state` import share this one
//! code path ([`CustomizedStateStore`] is implemented on top of it).
//!
//! # Guarantees
//! Concurrent updates of one resource's record are batched into one
//! compare-and-set write ([`GroupCommit`]), so updates of many partitions
//! at once all land, from this process and from others.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use strand_model::{CustomizedState, FieldMap, PropertyPaths, ZNRecord};
use strand_plugin_host::{CustomizedStateStore, StateStoreError};
use strand_zk::{Accessor, Edit, GroupCommit, ZkError};
use tokio::runtime::Handle;

use strand_model::time::now_ms;

/// The partition field holding the customized state.
const CURRENT_STATE: &str = "CURRENT_STATE";
/// The partition field Helix stamps on every update.
const START_TIME: &str = "START_TIME";

/// One participant's customized states.
#[derive(Debug, Clone)]
pub struct CustomizedStateProvider {
    accessor: Accessor,
    commits: GroupCommit,
    paths: PropertyPaths,
    instance: String,
    runtime: Handle,
    known_types: Arc<Mutex<HashSet<String>>>,
}

impl CustomizedStateProvider {
    /// The provider of `instance` in `cluster`. Must be created inside a
    /// tokio runtime (plugin calls use it to reach ZooKeeper).
    pub fn new(accessor: Accessor, cluster: &str, instance: &str) -> Self {
        Self {
            commits: GroupCommit::new(accessor.clone()),
            accessor,
            paths: PropertyPaths::new(cluster),
            instance: instance.to_owned(),
            runtime: Handle::current(),
            known_types: Arc::default(),
        }
    }

    /// Sets a partition's `CURRENT_STATE` (and `START_TIME` = now), as
    /// Helix's `updateCustomizedState(type, resource, partition, state)`.
    pub async fn update_state(
        &self,
        state_type: &str,
        resource: &str,
        partition: &str,
        state: &str,
    ) -> Result<(), ZkError> {
        self.update(
            state_type,
            resource,
            partition,
            [(CURRENT_STATE.to_owned(), state.to_owned())],
        )
        .await
    }

    /// Merges fields into a partition's map and sets `START_TIME` = now.
    pub async fn update(
        &self,
        state_type: &str,
        resource: &str,
        partition: &str,
        fields: impl IntoIterator<Item = (String, String)>,
    ) -> Result<(), ZkError> {
        let mut fields: Vec<(String, String)> = fields.into_iter().collect();
        fields.push((START_TIME.to_owned(), now_ms().to_string()));
        self.merge(state_type, resource, partition, fields).await
    }

    async fn merge(
        &self,
        state_type: &str,
        resource: &str,
        partition: &str,
        fields: Vec<(String, String)>,
    ) -> Result<(), ZkError> {
        self.ensure_type(state_type).await?;
        let path = self
            .paths
            .customized_state(&self.instance, state_type, resource);
        let (resource, partition) = (resource.to_owned(), partition.to_owned());
        let edit: Edit = Arc::new(move |record: &mut Option<ZNRecord>| {
            let record =
                record.get_or_insert_with(|| CustomizedState::new(resource.as_str()).into_record());
            let map = record.map_mut(partition.as_str());
            for (key, value) in &fields {
                map.insert(key.clone(), value.clone());
            }
        });
        self.commits.apply(&path, edit).await
    }

    /// Creates `CUSTOMIZEDSTATES/<type>` once.
    async fn ensure_type(&self, state_type: &str) -> Result<(), ZkError> {
        if lock(&self.known_types).contains(state_type) {
            return Ok(());
        }
        self.accessor
            .zk()
            .create_all(&self.paths.customized_states(&self.instance, state_type))
            .await?;
        lock(&self.known_types).insert(state_type.to_owned());
        Ok(())
    }

    /// The whole record of a resource.
    pub async fn get(
        &self,
        state_type: &str,
        resource: &str,
    ) -> Result<Option<CustomizedState>, ZkError> {
        let path = self
            .paths
            .customized_state(&self.instance, state_type, resource);
        Ok(self
            .accessor
            .get(&path)
            .await?
            .map(|v| CustomizedState::from(v.value)))
    }

    /// One partition's map.
    pub async fn get_partition(
        &self,
        state_type: &str,
        resource: &str,
        partition: &str,
    ) -> Result<Option<FieldMap>, ZkError> {
        Ok(self
            .get(state_type, resource)
            .await?
            .and_then(|state| state.record().map(partition).cloned()))
    }

    /// Every partition's map of a resource.
    pub async fn get_partitions(
        &self,
        state_type: &str,
        resource: &str,
    ) -> Result<BTreeMap<String, FieldMap>, ZkError> {
        Ok(self
            .get(state_type, resource)
            .await?
            .map(|state| state.into_record().map_fields.into_iter().collect())
            .unwrap_or_default())
    }

    /// Removes a partition's map; the record goes when its last partition does.
    pub async fn delete_partition(
        &self,
        state_type: &str,
        resource: &str,
        partition: &str,
    ) -> Result<(), ZkError> {
        let path = self
            .paths
            .customized_state(&self.instance, state_type, resource);
        if self.accessor.zk().exists(&path).await?.is_none() {
            return Ok(());
        }
        let partition = partition.to_owned();
        let edit: Edit = Arc::new(move |record: &mut Option<ZNRecord>| {
            if let Some(existing) = record {
                existing.remove_map_field(&partition);
                if existing.map_fields.is_empty() {
                    *record = None;
                }
            }
        });
        self.commits.apply(&path, edit).await
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn store_error(err: ZkError) -> StateStoreError {
    StateStoreError::Unavailable(err.to_string())
}

fn check_names(parts: &[&str]) -> Result<(), StateStoreError> {
    if parts.iter().any(|p| p.is_empty() || p.contains('/')) {
        return Err(StateStoreError::NotPermitted(
            "type, resource and partition must be non-empty and contain no '/'".into(),
        ));
    }
    Ok(())
}

/// The plugins' `customized-state` import. Called on the thread running
/// the plugin (a blocking-pool thread), so it may block on ZooKeeper.
impl CustomizedStateStore for CustomizedStateProvider {
    fn update(
        &self,
        state_type: &str,
        resource: &str,
        partition: &str,
        fields: Vec<(String, String)>,
    ) -> Result<(), StateStoreError> {
        check_names(&[state_type, resource, partition])?;
        self.runtime
            .block_on(self.merge(state_type, resource, partition, fields))
            .map_err(store_error)
    }

    fn get(
        &self,
        state_type: &str,
        resource: &str,
        partition: &str,
    ) -> Result<Option<Vec<(String, String)>>, StateStoreError> {
        check_names(&[state_type, resource, partition])?;
        self.runtime
            .block_on(self.get_partition(state_type, resource, partition))
            .map(|found| found.map(|map| map.into_iter().collect()))
            .map_err(store_error)
    }

    fn delete(
        &self,
        state_type: &str,
        resource: &str,
        partition: &str,
    ) -> Result<(), StateStoreError> {
        check_names(&[state_type, resource, partition])?;
        self.runtime
            .block_on(self.delete_partition(state_type, resource, partition))
            .map_err(store_error)
    }
}
