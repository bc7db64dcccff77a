//! [`CustomizedStateProvider`]: a participant's customized states, with
//! the meaning of Helix's `CustomizedStateProvider` — records at
//! `INSTANCES/<instance>/CUSTOMIZEDSTATES/<type>/<resource>`, one map per
//! partition with `CURRENT_STATE` and `START_TIME`.
//!
//! The Rust API and the plugins' `customized-state` import share this one
//! code path ([`CustomizedStateStore`] is implemented on top of it).
//!
//! # Guarantees
//! * A plugin's import waits for ZooKeeper at most until the call's
//!   deadline ([`DeadlineBound`]), on the plugin's own thread, never on an
//!   async worker.
//! * Concurrent updates of one resource's record are batched into one
//!   compare-and-set write ([`GroupCommit`]), so updates of many
//!   partitions at once all land, from this process and from others.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use strand_model::{CustomizedState, FieldMap, PropertyPaths, ZNRecord};
use strand_plugin_host::{CustomizedStateStore, DEFAULT_DEADLINE, StateStoreError};
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

/// Runs `work` on the provider's runtime and waits for it on this thread
/// (a plugin's blocking-pool thread) at most until `deadline`: the wait
/// never enters the runtime, so it cannot stall an async worker, and a
/// ZooKeeper that does not answer costs the call its deadline, not more.
fn bounded<T, F>(runtime: &Handle, deadline: Instant, work: F) -> Result<T, StateStoreError>
where
    T: Send + 'static,
    F: std::future::Future<Output = Result<T, ZkError>> + Send + 'static,
{
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    runtime.spawn(async move {
        let _ = tx.send(work.await);
    });
    let left = deadline.saturating_duration_since(Instant::now());
    match rx.recv_timeout(left) {
        Ok(result) => result.map_err(store_error),
        Err(_) => Err(StateStoreError::Unavailable(
            "ZooKeeper did not answer within the call's deadline".into(),
        )),
    }
}

/// The provider as one plugin call sees it: every import is bounded by
/// the call's deadline.
#[derive(Debug, Clone)]
pub struct DeadlineBound {
    provider: Arc<CustomizedStateProvider>,
    deadline: Instant,
}

impl DeadlineBound {
    /// `provider`, for a call that must end by `deadline`.
    pub fn new(provider: Arc<CustomizedStateProvider>, deadline: Instant) -> Self {
        Self { provider, deadline }
    }
}

impl CustomizedStateStore for DeadlineBound {
    fn update(
        &self,
        state_type: &str,
        resource: &str,
        partition: &str,
        fields: Vec<(String, String)>,
    ) -> Result<(), StateStoreError> {
        check_names(&[state_type, resource, partition])?;
        let p = Arc::clone(&self.provider);
        let (t, r, part) = owned(state_type, resource, partition);
        bounded(&self.provider.runtime, self.deadline, async move {
            p.merge(&t, &r, &part, fields).await
        })
    }

    fn get(
        &self,
        state_type: &str,
        resource: &str,
        partition: &str,
    ) -> Result<Option<Vec<(String, String)>>, StateStoreError> {
        check_names(&[state_type, resource, partition])?;
        let p = Arc::clone(&self.provider);
        let (t, r, part) = owned(state_type, resource, partition);
        bounded(&self.provider.runtime, self.deadline, async move {
            p.get_partition(&t, &r, &part)
                .await
                .map(|found| found.map(|map| map.into_iter().collect()))
        })
    }

    fn delete(
        &self,
        state_type: &str,
        resource: &str,
        partition: &str,
    ) -> Result<(), StateStoreError> {
        check_names(&[state_type, resource, partition])?;
        let p = Arc::clone(&self.provider);
        let (t, r, part) = owned(state_type, resource, partition);
        bounded(&self.provider.runtime, self.deadline, async move {
            p.delete_partition(&t, &r, &part).await
        })
    }
}

fn owned(a: &str, b: &str, c: &str) -> (String, String, String) {
    (a.to_owned(), b.to_owned(), c.to_owned())
}

/// The provider used directly as a plugin's store (outside a participant's
/// transition): bounded by the plugin host's default deadline.
impl CustomizedStateStore for CustomizedStateProvider {
    fn update(
        &self,
        state_type: &str,
        resource: &str,
        partition: &str,
        fields: Vec<(String, String)>,
    ) -> Result<(), StateStoreError> {
        DeadlineBound::new(Arc::new(self.clone()), Instant::now() + DEFAULT_DEADLINE)
            .update(state_type, resource, partition, fields)
    }

    fn get(
        &self,
        state_type: &str,
        resource: &str,
        partition: &str,
    ) -> Result<Option<Vec<(String, String)>>, StateStoreError> {
        DeadlineBound::new(Arc::new(self.clone()), Instant::now() + DEFAULT_DEADLINE)
            .get(state_type, resource, partition)
    }

    fn delete(
        &self,
        state_type: &str,
        resource: &str,
        partition: &str,
    ) -> Result<(), StateStoreError> {
        DeadlineBound::new(Arc::new(self.clone()), Instant::now() + DEFAULT_DEADLINE)
            .delete(state_type, resource, partition)
    }
}
