//! [`ClusterConfig`] — `/<C>/CONFIGS/CLUSTER/<C>`, the cluster-wide settings.

use indexmap::IndexMap;

use super::{json_string_map, typed_record};
use crate::znrecord::ZNRecord;

/// Simple-field and list/map-field keys of a ClusterConfig (Helix spellings).
pub mod keys {
    /// Lets unknown participants register themselves (`"true"`).
    pub const ALLOW_PARTICIPANT_AUTO_JOIN: &str = "allowParticipantAutoJoin";
    /// Persist the best-possible assignment into IdealStates.
    pub const PERSIST_BEST_POSSIBLE_ASSIGNMENT: &str = "PERSIST_BEST_POSSIBLE_ASSIGNMENT";
    /// Persist the intermediate assignment.
    pub const PERSIST_INTERMEDIATE_ASSIGNMENT: &str = "PERSIST_INTERMEDIATE_ASSIGNMENT";
    /// Topology path, e.g. `/zone/rack/host/instance`.
    pub const TOPOLOGY: &str = "TOPOLOGY";
    /// Fault-zone level of the topology.
    pub const FAULT_ZONE_TYPE: &str = "FAULT_ZONE_TYPE";
    /// Topology-aware placement on/off.
    pub const TOPOLOGY_AWARE_ENABLED: &str = "TOPOLOGY_AWARE_ENABLED";
    /// Delayed rebalance on/off.
    pub const DELAY_REBALANCE_ENABLED: &str = "DELAY_REBALANCE_ENABLED";
    /// Delayed rebalance window, ms.
    pub const DELAY_REBALANCE_TIME: &str = "DELAY_REBALANCE_TIME";
    /// Send cancellation messages for obsolete transitions.
    pub const STATE_TRANSITION_CANCELLATION_ENABLED: &str = "STATE_TRANSITION_CANCELLATION_ENABLED";
    /// Top-state-missing threshold, ms.
    pub const MISS_TOP_STATE_DURATION_THRESHOLD: &str = "MISS_TOP_STATE_DURATION_THRESHOLD";
    /// Periodic rebalance period, ms.
    pub const REBALANCE_TIMER_PERIOD: &str = "REBALANCE_TIMER_PERIOD";
    /// Max concurrent task-framework tasks per instance.
    pub const MAX_CONCURRENT_TASK_PER_INSTANCE: &str = "MAX_CONCURRENT_TASK_PER_INSTANCE";
    /// Max partitions per instance.
    pub const MAX_PARTITIONS_PER_INSTANCE: &str = "MAX_PARTITIONS_PER_INSTANCE";
    /// SF task thread pool size participants announce unless their own
    /// config sets one.
    pub const GLOBAL_TARGET_TASK_THREAD_POOL_SIZE: &str = "GLOBAL_TARGET_TASK_THREAD_POOL_SIZE";
    /// Offline/disabled instances allowed before auto-maintenance.
    pub const MAX_OFFLINE_INSTANCES_ALLOWED: &str = "MAX_OFFLINE_INSTANCES_ALLOWED";
    /// Offline count below which maintenance is exited automatically.
    pub const NUM_OFFLINE_INSTANCES_FOR_AUTO_EXIT: &str = "NUM_OFFLINE_INSTANCES_FOR_AUTO_EXIT";
    /// Maintain `TARGETEXTERNALVIEW`.
    pub const TARGET_EXTERNALVIEW_ENABLED: &str = "TARGET_EXTERNALVIEW_ENABLED";
    /// Batch-message mode for every resource (OR-ed with the IdealState's).
    pub const BATCH_MESSAGE_MODE: &str = "BATCH_MESSAGE_MODE";
    /// Disable pipeline triggers.
    pub const HELIX_DISABLE_PIPELINE_TRIGGERS: &str = "HELIX_DISABLE_PIPELINE_TRIGGERS";
    /// Timeout before a dead participant is deregistered, ms.
    pub const PARTICIPANT_DEREGISTRATION_TIMEOUT: &str = "PARTICIPANT_DEREGISTRATION_TIMEOUT";
    /// LF: state-transition throttle configs, each a JSON object string.
    pub const STATE_TRANSITION_THROTTLE_CONFIGS: &str = "STATE_TRANSITION_THROTTLE_CONFIGS";
    /// MF: state-transition timeouts keyed `FROM.TO` (with `*` wildcards), ms.
    pub const TIMEOUT: &str = "TIMEOUT";
    /// MF (Strand's own; Helix ignores it): customized-state type → name of
    /// the aggregator plugin that computes its customized view.
    pub const STRAND_AGGREGATORS: &str = "STRAND_AGGREGATORS";
}

typed_record! {
    /// ClusterConfig (id = cluster name).
    ClusterConfig
}

impl ClusterConfig {
    /// An empty config for a cluster (what cluster creation writes).
    pub fn new(cluster: impl Into<String>) -> Self {
        ClusterConfig::from(ZNRecord::new(cluster))
    }

    /// `allowParticipantAutoJoin` (default false).
    pub fn allow_participant_auto_join(&self) -> bool {
        self.0
            .simple_bool(keys::ALLOW_PARTICIPANT_AUTO_JOIN)
            .unwrap_or(false)
    }

    /// Set `allowParticipantAutoJoin`.
    pub fn set_allow_participant_auto_join(&mut self, allow: bool) {
        self.record_mut()
            .set_simple(keys::ALLOW_PARTICIPANT_AUTO_JOIN, allow.to_string());
    }

    /// `PERSIST_BEST_POSSIBLE_ASSIGNMENT` (default false).
    pub fn persist_best_possible_assignment(&self) -> bool {
        self.0
            .simple_bool(keys::PERSIST_BEST_POSSIBLE_ASSIGNMENT)
            .unwrap_or(false)
    }

    /// `DELAY_REBALANCE_ENABLED` (default true, as in Helix).
    pub fn delay_rebalance_enabled(&self) -> bool {
        self.0
            .simple_bool(keys::DELAY_REBALANCE_ENABLED)
            .unwrap_or(true)
    }

    /// `DELAY_REBALANCE_TIME` in ms (`None` if unset).
    pub fn delay_rebalance_time(&self) -> Option<i64> {
        self.0.simple_parsed(keys::DELAY_REBALANCE_TIME)
    }

    /// `STATE_TRANSITION_CANCELLATION_ENABLED` (default false).
    pub fn state_transition_cancellation_enabled(&self) -> bool {
        self.0
            .simple_bool(keys::STATE_TRANSITION_CANCELLATION_ENABLED)
            .unwrap_or(false)
    }

    /// Aggregator plugins bound to customized-state types
    /// (`STRAND_AGGREGATORS`): (type, plugin name), sorted by type.
    pub fn strand_aggregators(&self) -> Vec<(&str, &str)> {
        let mut bound: Vec<(&str, &str)> = self
            .0
            .map(keys::STRAND_AGGREGATORS)
            .map(|m| m.iter().map(|(t, p)| (t.as_str(), p.as_str())).collect())
            .unwrap_or_default();
        bound.sort_unstable();
        bound
    }

    /// Binds the aggregator plugin `plugin` to `customized_type`.
    pub fn bind_aggregator(&mut self, customized_type: &str, plugin: &str) {
        self.record_mut()
            .map_mut(keys::STRAND_AGGREGATORS)
            .insert(customized_type.to_owned(), plugin.to_owned());
    }

    /// Unbinds `customized_type`; returns the plugin that was bound.
    pub fn unbind_aggregator(&mut self, customized_type: &str) -> Option<String> {
        let map = self.record_mut().map_mut(keys::STRAND_AGGREGATORS);
        let removed = map.shift_remove(customized_type);
        if map.is_empty() {
            self.record_mut().remove_map_field(keys::STRAND_AGGREGATORS);
        }
        removed
    }

    /// `MAX_OFFLINE_INSTANCES_ALLOWED` (`None` if unset; Helix's default is -1 = off).
    pub fn max_offline_instances_allowed(&self) -> Option<i32> {
        self.0.simple_parsed(keys::MAX_OFFLINE_INSTANCES_ALLOWED)
    }

    /// `MAX_PARTITIONS_PER_INSTANCE` (`None` if unset).
    pub fn max_partitions_per_instance(&self) -> Option<i32> {
        self.0.simple_parsed(keys::MAX_PARTITIONS_PER_INSTANCE)
    }

    /// `GLOBAL_TARGET_TASK_THREAD_POOL_SIZE`; `None` when unset, unreadable
    /// or negative (Helix's "not set").
    pub fn global_target_task_thread_pool_size(&self) -> Option<i32> {
        self.0
            .simple_parsed(keys::GLOBAL_TARGET_TASK_THREAD_POOL_SIZE)
            .filter(|n: &i32| *n >= 0)
    }

    /// `TOPOLOGY`.
    pub fn topology(&self) -> Option<&str> {
        self.0.simple(keys::TOPOLOGY)
    }

    /// `FAULT_ZONE_TYPE`.
    pub fn fault_zone_type(&self) -> Option<&str> {
        self.0.simple(keys::FAULT_ZONE_TYPE)
    }

    /// `TOPOLOGY_AWARE_ENABLED` (default false).
    pub fn topology_aware_enabled(&self) -> bool {
        self.0
            .simple_bool(keys::TOPOLOGY_AWARE_ENABLED)
            .unwrap_or(false)
    }

    /// `TARGET_EXTERNALVIEW_ENABLED` (default false).
    pub fn target_external_view_enabled(&self) -> bool {
        self.0
            .simple_bool(keys::TARGET_EXTERNALVIEW_ENABLED)
            .unwrap_or(false)
    }

    /// `BATCH_MESSAGE_MODE` (default false).
    pub fn batch_message_mode(&self) -> bool {
        self.0
            .simple_bool(keys::BATCH_MESSAGE_MODE)
            .unwrap_or(false)
    }

    /// `REBALANCE_TIMER_PERIOD` in ms (`None` if unset).
    pub fn rebalance_timer_period(&self) -> Option<i64> {
        self.0.simple_parsed(keys::REBALANCE_TIMER_PERIOD)
    }

    /// The state-transition timeout in ms for `from → to` from MF `TIMEOUT`, trying
    /// `FROM.TO`, `*.TO`, `FROM.*`, `*.*` in that order.
    pub fn state_transition_timeout(&self, from: &str, to: &str) -> Option<i64> {
        let map = self.0.map(keys::TIMEOUT)?;
        [
            format!("{from}.{to}"),
            format!("*.{to}"),
            format!("{from}.*"),
            "*.*".to_string(),
        ]
        .iter()
        .find_map(|k| map.get(k).and_then(|v| v.trim().parse().ok()))
    }

    /// LF `STATE_TRANSITION_THROTTLE_CONFIGS`, each entry decoded from its JSON text
    /// (entries that are not JSON objects of strings are skipped).
    pub fn state_transition_throttle_configs(&self) -> Vec<IndexMap<String, String>> {
        self.0
            .list(keys::STATE_TRANSITION_THROTTLE_CONFIGS)
            .unwrap_or_default()
            .iter()
            .filter_map(|entry| json_string_map(entry).ok())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aggregator_bindings_round_trip_and_vanish_when_empty() {
        let mut c = ClusterConfig::new("DEMO_");
        assert!(c.strand_aggregators().is_empty());
        c.bind_aggregator("T2", "summary");
        c.bind_aggregator("T1", "default-view");
        assert_eq!(
            c.strand_aggregators(),
            vec![("T1", "default-view"), ("T2", "summary")]
        );
        assert_eq!(c.unbind_aggregator("T1").as_deref(), Some("default-view"));
        assert_eq!(c.unbind_aggregator("T1"), None);
        assert_eq!(c.unbind_aggregator("T2").as_deref(), Some("summary"));
        assert!(c.record().map(keys::STRAND_AGGREGATORS).is_none());
    }

    #[test]
    fn getters_and_defaults() {
        let mut c = ClusterConfig::new("DEMO_");
        assert!(!c.allow_participant_auto_join());
        assert!(c.delay_rebalance_enabled());
        c.set_allow_participant_auto_join(true);
        assert_eq!(
            c.record().simple(keys::ALLOW_PARTICIPANT_AUTO_JOIN),
            Some("true")
        );
        let t = c.record_mut().map_mut(keys::TIMEOUT);
        t.insert("*.ONLINE".into(), "500".into());
        t.insert("*.*".into(), "900".into());
        assert_eq!(c.state_transition_timeout("OFFLINE", "ONLINE"), Some(500));
        assert_eq!(c.state_transition_timeout("ONLINE", "OFFLINE"), Some(900));
        c.record_mut().set_list(
            keys::STATE_TRANSITION_THROTTLE_CONFIGS,
            [
                r#"{"CONFIG_TYPE":"constraint","MAX_PARTITION_IN_TRANSITION":"5"}"#,
                "junk",
            ],
        );
        let configs = c.state_transition_throttle_configs();
        assert_eq!(configs.len(), 1);
        assert_eq!(
            configs[0]
                .get("MAX_PARTITION_IN_TRANSITION")
                .map(String::as_str),
            Some("5")
        );
    }
}
