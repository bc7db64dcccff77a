//! The host side of `strand:statemodel/customized-state`: the trait a
//! participant implements to give plugins its customized state, and an
//! in-memory implementation for tests.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

/// Why a customized-state operation failed; mapped onto the WIT
/// `state-error` the plugin sees.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateStoreError {
    /// The operation is not allowed (bad names, or not this participant's).
    #[error("not permitted: {0}")]
    NotPermitted(String),
    /// The backing store could not be reached; the plugin may retry.
    #[error("unavailable: {0}")]
    Unavailable(String),
}

/// The calling participant's customized state, with the meaning of Helix's
/// `CustomizedStateProvider`
/// (`helix-core/src/main/java/org/apache/helix/customizedstate/CustomizedStateProvider.java`): records under
/// `INSTANCES/<instance>/CUSTOMIZEDSTATES/<type>/<resource>`, one map per
/// partition.
///
/// An implementation is bound to one participant instance; the host never
/// lets a plugin name another instance.
///
/// # Caveats
/// Methods are called synchronously from inside a plugin call, on the thread
/// running it. The call's deadline does not interrupt a host function, so an
/// implementation must not block for long (buffer writes, or bound them with
/// its own timeout, and return [`StateStoreError::Unavailable`]).
pub trait CustomizedStateStore: Send + Sync + 'static {
    /// Merges `fields` into the partition's map key by key (other keys and
    /// partitions stay). The host has already added `START_TIME`.
    fn update(
        &self,
        state_type: &str,
        resource: &str,
        partition: &str,
        fields: Vec<(String, String)>,
    ) -> Result<(), StateStoreError>;

    /// The partition's map, or `None` if it has none.
    fn get(
        &self,
        state_type: &str,
        resource: &str,
        partition: &str,
    ) -> Result<Option<Vec<(String, String)>>, StateStoreError>;

    /// Removes the partition's map (no-op if absent).
    fn delete(
        &self,
        state_type: &str,
        resource: &str,
        partition: &str,
    ) -> Result<(), StateStoreError>;
}

type Key = (String, String, String);

/// A [`CustomizedStateStore`] in memory. For tests, examples and canary
/// calls only: nothing is persisted or shared with other processes.
#[derive(Debug, Default)]
pub struct InMemoryCustomizedState {
    maps: Mutex<BTreeMap<Key, BTreeMap<String, String>>>,
}

impl InMemoryCustomizedState {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// A copy of the partition's map, sorted by key.
    pub fn snapshot(
        &self,
        state_type: &str,
        resource: &str,
        partition: &str,
    ) -> Option<BTreeMap<String, String>> {
        let maps = self.maps.lock().unwrap_or_else(PoisonError::into_inner);
        maps.get(&key(state_type, resource, partition)).cloned()
    }

    /// How many partition maps the store holds.
    pub fn len(&self) -> usize {
        self.maps
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether the store holds no partition map.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn key(state_type: &str, resource: &str, partition: &str) -> Key {
    (
        state_type.to_owned(),
        resource.to_owned(),
        partition.to_owned(),
    )
}

impl CustomizedStateStore for InMemoryCustomizedState {
    fn update(
        &self,
        state_type: &str,
        resource: &str,
        partition: &str,
        fields: Vec<(String, String)>,
    ) -> Result<(), StateStoreError> {
        let mut maps = self.maps.lock().unwrap_or_else(PoisonError::into_inner);
        maps.entry(key(state_type, resource, partition))
            .or_default()
            .extend(fields);
        Ok(())
    }

    fn get(
        &self,
        state_type: &str,
        resource: &str,
        partition: &str,
    ) -> Result<Option<Vec<(String, String)>>, StateStoreError> {
        Ok(self
            .snapshot(state_type, resource, partition)
            .map(|m| m.into_iter().collect()))
    }

    fn delete(
        &self,
        state_type: &str,
        resource: &str,
        partition: &str,
    ) -> Result<(), StateStoreError> {
        let mut maps = self.maps.lock().unwrap_or_else(PoisonError::into_inner);
        maps.remove(&key(state_type, resource, partition));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn update_merges_key_by_key_and_delete_removes() {
        let store = InMemoryCustomizedState::new();
        let kv = |k: &str, v: &str| (k.to_owned(), v.to_owned());
        store
            .update(
                "T",
                "db",
                "db_0",
                vec![kv("CURRENT_STATE", "A"), kv("X", "1")],
            )
            .ok();
        store
            .update("T", "db", "db_0", vec![kv("CURRENT_STATE", "B")])
            .ok();
        let got = store.snapshot("T", "db", "db_0").unwrap_or_default();
        assert_eq!(got.get("CURRENT_STATE").map(String::as_str), Some("B"));
        assert_eq!(got.get("X").map(String::as_str), Some("1"));
        store.delete("T", "db", "db_0").ok();
        assert!(store.is_empty());
    }
}
