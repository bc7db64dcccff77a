//! Customized state (per-instance, per-type application states), the controller's
//! aggregated customized view, and the cluster's customized-state config.

use super::typed_record;
use crate::java;
use crate::znrecord::{FieldMap, ZNRecord, insert_keeping_order};

/// Keys of customized records (Helix spellings).
pub mod keys {
    /// Per-partition: the customized state.
    pub const CURRENT_STATE: &str = "CURRENT_STATE";
    /// Per-partition: previous customized state (never set by Helix itself).
    pub const PREVIOUS_STATE: &str = "PREVIOUS_STATE";
    /// Per-partition: when the state was set, ms.
    pub const START_TIME: &str = "START_TIME";
    /// Per-partition: end time (never set by Helix itself).
    pub const END_TIME: &str = "END_TIME";
    /// LF of [`super::CustomizedStateConfig`]: the types the controller aggregates.
    pub const AGGREGATION_ENABLED_TYPES: &str = "AGGREGATION_ENABLED_TYPES";
}

typed_record! {
    /// CustomizedState — `/<C>/INSTANCES/<I>/CUSTOMIZEDSTATES/<T>/<R>` (id = resource;
    /// not session scoped). MF `<P>` → `CURRENT_STATE`, `START_TIME`, ….
    CustomizedState
}

impl CustomizedState {
    /// An empty customized state of a resource.
    pub fn new(resource: impl Into<String>) -> Self {
        CustomizedState::from(ZNRecord::new(resource))
    }

    /// The update `CustomizedStateProvider.updateCustomizedState` merges into the
    /// znode: one partition with `CURRENT_STATE` and `START_TIME`=`now_ms`, laid out in
    /// the order Helix writes them (`START_TIME` first).
    pub fn update_for(resource: &str, partition: &str, state: &str, now_ms: i64) -> Self {
        let mut cs = CustomizedState::new(resource);
        cs.record_mut().set_map_field(
            partition,
            java::hashmap_of([
                (keys::CURRENT_STATE, state.to_string()),
                (keys::START_TIME, now_ms.to_string()),
            ]),
        );
        cs
    }

    /// Partition names.
    pub fn partitions(&self) -> impl Iterator<Item = &str> {
        self.0.map_fields.keys().map(String::as_str)
    }

    /// A partition's `CURRENT_STATE`.
    pub fn state(&self, partition: &str) -> Option<&str> {
        self.field(partition, keys::CURRENT_STATE)
    }

    /// A partition's `START_TIME` (ms).
    pub fn start_time(&self, partition: &str) -> Option<i64> {
        self.field(partition, keys::START_TIME)
            .and_then(|v| v.trim().parse().ok())
    }

    /// `(partition, CURRENT_STATE)` for every partition that has one.
    pub fn partition_states(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0
            .map_fields
            .iter()
            .filter_map(|(p, m)| m.get(keys::CURRENT_STATE).map(|s| (p.as_str(), s.as_str())))
    }

    /// Set a partition's `CURRENT_STATE` (and optionally `START_TIME`).
    pub fn set_state(&mut self, partition: &str, state: &str, start_time: Option<i64>) {
        let map = self.record_mut().map_mut(partition);
        if let Some(t) = start_time {
            insert_keeping_order(map, keys::START_TIME.into(), t.to_string());
        }
        insert_keeping_order(map, keys::CURRENT_STATE.into(), state.to_string());
    }

    fn field(&self, partition: &str, key: &str) -> Option<&str> {
        self.0
            .map(partition)
            .and_then(|m| m.get(key))
            .map(String::as_str)
    }
}

typed_record! {
    /// CustomizedView — `/<C>/CUSTOMIZEDVIEW/<T>/<R>` (id = resource). MF `<P>` →
    /// `{instance: customized state}`; no simple fields, no timestamp.
    CustomizedView
}

impl CustomizedView {
    /// An empty view of a resource.
    pub fn new(resource: impl Into<String>) -> Self {
        CustomizedView::from(ZNRecord::new(resource))
    }

    /// Partition names.
    pub fn partitions(&self) -> impl Iterator<Item = &str> {
        self.0.map_fields.keys().map(String::as_str)
    }

    /// `{instance: state}` of a partition.
    pub fn state_map(&self, partition: &str) -> Option<&FieldMap> {
        self.0.map(partition)
    }

    /// Set one instance's state for a partition.
    pub fn set_state(&mut self, partition: &str, instance: &str, state: &str) {
        insert_keeping_order(
            self.record_mut().map_mut(partition),
            instance.to_string(),
            state.to_string(),
        );
    }
}

/// The fixed ZNRecord id of every CustomizedStateConfig.
pub const CUSTOMIZED_STATE_CONFIG_ID: &str = "CustomizedStateConfig";

typed_record! {
    /// CustomizedStateConfig — `/<C>/CONFIGS/CUSTOMIZED_STATE/<C>` (id is always
    /// `CustomizedStateConfig`). LF `AGGREGATION_ENABLED_TYPES`.
    CustomizedStateConfig
}

impl Default for CustomizedStateConfig {
    fn default() -> Self {
        CustomizedStateConfig::from(ZNRecord::new(CUSTOMIZED_STATE_CONFIG_ID))
    }
}

impl CustomizedStateConfig {
    /// A config enabling aggregation of these types.
    pub fn new<I, S>(types: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut config = CustomizedStateConfig::default();
        config
            .record_mut()
            .set_list(keys::AGGREGATION_ENABLED_TYPES, types);
        config
    }

    /// `AGGREGATION_ENABLED_TYPES` (as written; Helix's add may leave duplicates).
    pub fn aggregation_enabled_types(&self) -> &[String] {
        self.0
            .list(keys::AGGREGATION_ENABLED_TYPES)
            .unwrap_or_default()
    }

    /// Whether a type is aggregated.
    pub fn is_enabled(&self, customized_type: &str) -> bool {
        self.aggregation_enabled_types()
            .iter()
            .any(|t| t == customized_type)
    }

    /// Add a type (no duplicate is added here, unlike Helix's list-append merge).
    pub fn add_type(&mut self, customized_type: &str) {
        let list = self.record_mut().list_mut(keys::AGGREGATION_ENABLED_TYPES);
        if !list.iter().any(|t| t == customized_type) {
            list.push(customized_type.to_string());
        }
    }

    /// Remove every occurrence of a type.
    pub fn remove_type(&mut self, customized_type: &str) {
        self.record_mut()
            .list_mut(keys::AGGREGATION_ENABLED_TYPES)
            .retain(|t| t != customized_type);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customized_state_update_layout() {
        let cs = CustomizedState::update_for("OODB", "OODB_0", "ONLINE_SERVING", 7);
        let keys: Vec<&String> = cs
            .record()
            .map("OODB_0")
            .map(|m| m.keys().collect())
            .unwrap_or_default();
        assert_eq!(keys, ["START_TIME", "CURRENT_STATE"]);
        assert_eq!(cs.state("OODB_0"), Some("ONLINE_SERVING"));
        assert_eq!(cs.start_time("OODB_0"), Some(7));
    }

    #[test]
    fn config_types() {
        let mut c = CustomizedStateConfig::new(["A"]);
        assert_eq!(c.id(), CUSTOMIZED_STATE_CONFIG_ID);
        c.add_type("B");
        c.add_type("A");
        assert_eq!(c.aggregation_enabled_types(), ["A", "B"]);
        c.remove_type("A");
        assert!(!c.is_enabled("A") && c.is_enabled("B"));
    }
}
