//! [`CurrentState`] — `/<C>/INSTANCES/<I>/CURRENTSTATES/<S>/<R>`: a participant's
//! per-partition states for one resource in one session.

use super::{bucket_and_batch_accessors, typed_record};
use crate::session::SessionId;
use crate::znrecord::{FieldMap, ZNRecord, insert_keeping_order};

/// Keys of a CurrentState (Helix spellings).
pub mod keys {
    /// SF session the states belong to (hex).
    pub const SESSION_ID: &str = "SESSION_ID";
    /// SF state model definition name.
    pub const STATE_MODEL_DEF: &str = "STATE_MODEL_DEF";
    /// SF state model factory name.
    pub const STATE_MODEL_FACTORY_NAME: &str = "STATE_MODEL_FACTORY_NAME";
    /// Per-partition: the current state.
    pub const CURRENT_STATE: &str = "CURRENT_STATE";
    /// Per-partition: the state before the last transition.
    pub const PREVIOUS_STATE: &str = "PREVIOUS_STATE";
    /// Per-partition: transition start, ms.
    pub const START_TIME: &str = "START_TIME";
    /// Per-partition: transition end, ms.
    pub const END_TIME: &str = "END_TIME";
    /// Per-partition: the transition method's return value (usually empty).
    pub const INFO: &str = "INFO";
    /// Per-partition: who triggered the transition (message `SRC_NAME`).
    pub const TRIGGERED_BY: &str = "TRIGGERED_BY";
    /// Per-partition: requested state (task framework).
    pub const REQUESTED_STATE: &str = "REQUESTED_STATE";
}

/// One partition's entry in a current state. `None` fields are absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartitionCurrentState {
    /// `CURRENT_STATE`.
    pub current_state: Option<String>,
    /// `PREVIOUS_STATE`.
    pub previous_state: Option<String>,
    /// `START_TIME` (ms).
    pub start_time: Option<i64>,
    /// `END_TIME` (ms).
    pub end_time: Option<i64>,
    /// `INFO`.
    pub info: Option<String>,
    /// `TRIGGERED_BY`.
    pub triggered_by: Option<String>,
    /// `REQUESTED_STATE`.
    pub requested_state: Option<String>,
}

impl PartitionCurrentState {
    fn from_map(map: &FieldMap) -> Self {
        let text = |k: &str| map.get(k).cloned();
        let number = |k: &str| map.get(k).and_then(|v| v.trim().parse().ok());
        PartitionCurrentState {
            current_state: text(keys::CURRENT_STATE),
            previous_state: text(keys::PREVIOUS_STATE),
            start_time: number(keys::START_TIME),
            end_time: number(keys::END_TIME),
            info: text(keys::INFO),
            triggered_by: text(keys::TRIGGERED_BY),
            requested_state: text(keys::REQUESTED_STATE),
        }
    }

    fn entries(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        let mut put = |k, v: Option<String>| {
            if let Some(v) = v {
                out.push((k, v));
            }
        };
        put(keys::CURRENT_STATE, self.current_state.clone());
        put(keys::END_TIME, self.end_time.map(|t| t.to_string()));
        put(keys::INFO, self.info.clone());
        put(keys::PREVIOUS_STATE, self.previous_state.clone());
        put(keys::REQUESTED_STATE, self.requested_state.clone());
        put(keys::START_TIME, self.start_time.map(|t| t.to_string()));
        put(keys::TRIGGERED_BY, self.triggered_by.clone());
        out
    }
}

typed_record! {
    /// CurrentState (id = resource name). MF `<P>` holds the partition's state.
    CurrentState
}

bucket_and_batch_accessors!(CurrentState);

impl CurrentState {
    /// A current state as the Java participant creates it for a resource:
    /// `SESSION_ID`, `STATE_MODEL_DEF`, `STATE_MODEL_FACTORY_NAME`, `BUCKET_SIZE`=`0`,
    /// `BATCH_MESSAGE_MODE`=`false`, no partitions.
    pub fn new(
        resource: impl Into<String>,
        session: SessionId,
        state_model_def: &str,
        factory_name: &str,
    ) -> Self {
        let mut cs = CurrentState::from(ZNRecord::new(resource));
        cs.set_session_id(session);
        cs.record_mut()
            .set_simple(keys::STATE_MODEL_DEF, state_model_def);
        cs.record_mut()
            .set_simple(keys::STATE_MODEL_FACTORY_NAME, factory_name);
        cs.set_bucket_size(0);
        cs.set_batch_message_mode(false);
        cs
    }

    /// `SESSION_ID` as written.
    pub fn session_id_str(&self) -> Option<&str> {
        self.0.simple(keys::SESSION_ID)
    }

    /// `SESSION_ID` parsed.
    pub fn session_id(&self) -> Option<SessionId> {
        self.session_id_str().and_then(|s| SessionId::parse(s).ok())
    }

    /// Set `SESSION_ID`.
    pub fn set_session_id(&mut self, session: SessionId) {
        self.record_mut()
            .set_simple(keys::SESSION_ID, session.to_string());
    }

    /// `STATE_MODEL_DEF`.
    pub fn state_model_def(&self) -> Option<&str> {
        self.0.simple(keys::STATE_MODEL_DEF)
    }

    /// `STATE_MODEL_FACTORY_NAME`.
    pub fn state_model_factory_name(&self) -> Option<&str> {
        self.0.simple(keys::STATE_MODEL_FACTORY_NAME)
    }

    /// Partition names, in record order.
    pub fn partitions(&self) -> impl Iterator<Item = &str> {
        self.0.map_fields.keys().map(String::as_str)
    }

    /// `(partition, CURRENT_STATE)` for every partition that has one.
    pub fn partition_states(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0
            .map_fields
            .iter()
            .filter_map(|(p, m)| m.get(keys::CURRENT_STATE).map(|s| (p.as_str(), s.as_str())))
    }

    /// A partition's `CURRENT_STATE`.
    pub fn state(&self, partition: &str) -> Option<&str> {
        self.field(partition, keys::CURRENT_STATE)
    }

    /// A partition's `PREVIOUS_STATE`.
    pub fn previous_state(&self, partition: &str) -> Option<&str> {
        self.field(partition, keys::PREVIOUS_STATE)
    }

    /// A partition's `INFO`.
    pub fn info(&self, partition: &str) -> Option<&str> {
        self.field(partition, keys::INFO)
    }

    /// A partition's `TRIGGERED_BY`.
    pub fn triggered_by(&self, partition: &str) -> Option<&str> {
        self.field(partition, keys::TRIGGERED_BY)
    }

    /// A partition's `REQUESTED_STATE`.
    pub fn requested_state(&self, partition: &str) -> Option<&str> {
        self.field(partition, keys::REQUESTED_STATE)
    }

    /// A partition's `START_TIME` (ms).
    pub fn start_time(&self, partition: &str) -> Option<i64> {
        self.field(partition, keys::START_TIME)
            .and_then(|v| v.trim().parse().ok())
    }

    /// A partition's `END_TIME` (ms).
    pub fn end_time(&self, partition: &str) -> Option<i64> {
        self.field(partition, keys::END_TIME)
            .and_then(|v| v.trim().parse().ok())
    }

    /// Everything recorded for one partition.
    pub fn partition(&self, partition: &str) -> Option<PartitionCurrentState> {
        self.0.map(partition).map(PartitionCurrentState::from_map)
    }

    /// Write the present fields of `entry` into a partition (absent ones untouched),
    /// keeping the inner map sorted as Helix's `TreeMap` does.
    pub fn set_partition(&mut self, partition: &str, entry: &PartitionCurrentState) {
        for (k, v) in entry.entries() {
            self.put(partition, k, v);
        }
    }

    /// Set a partition's `CURRENT_STATE`.
    pub fn set_state(&mut self, partition: &str, state: &str) {
        self.put(partition, keys::CURRENT_STATE, state.to_string());
    }

    /// Set a partition's `PREVIOUS_STATE`.
    pub fn set_previous_state(&mut self, partition: &str, state: &str) {
        self.put(partition, keys::PREVIOUS_STATE, state.to_string());
    }

    /// Set a partition's `START_TIME`.
    pub fn set_start_time(&mut self, partition: &str, ms: i64) {
        self.put(partition, keys::START_TIME, ms.to_string());
    }

    /// Set a partition's `END_TIME`.
    pub fn set_end_time(&mut self, partition: &str, ms: i64) {
        self.put(partition, keys::END_TIME, ms.to_string());
    }

    /// Set a partition's `INFO`.
    pub fn set_info(&mut self, partition: &str, info: &str) {
        self.put(partition, keys::INFO, info.to_string());
    }

    /// Set a partition's `TRIGGERED_BY`.
    pub fn set_triggered_by(&mut self, partition: &str, source: &str) {
        self.put(partition, keys::TRIGGERED_BY, source.to_string());
    }

    /// Set a partition's `REQUESTED_STATE`.
    pub fn set_requested_state(&mut self, partition: &str, state: &str) {
        self.put(partition, keys::REQUESTED_STATE, state.to_string());
    }

    /// Remove a partition (what a successful transition to DROPPED does).
    pub fn remove_partition(&mut self, partition: &str) -> Option<PartitionCurrentState> {
        self.record_mut()
            .remove_map_field(partition)
            .map(|m| PartitionCurrentState::from_map(&m))
    }

    fn field(&self, partition: &str, key: &str) -> Option<&str> {
        self.0
            .map(partition)
            .and_then(|m| m.get(key))
            .map(String::as_str)
    }

    fn put(&mut self, partition: &str, key: &str, value: String) {
        insert_keeping_order(self.record_mut().map_mut(partition), key.to_string(), value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_fields_are_written_sorted_like_helix() {
        let mut cs = CurrentState::new(
            "TestDB",
            SessionId(0x1000021f98d000a),
            "MasterSlave",
            "DEFAULT",
        );
        cs.set_state("TestDB_0", "SLAVE");
        cs.set_triggered_by("TestDB_0", "controller0");
        cs.set_start_time("TestDB_0", 1);
        cs.set_partition(
            "TestDB_0",
            &PartitionCurrentState {
                previous_state: Some("OFFLINE".into()),
                end_time: Some(2),
                info: Some(String::new()),
                ..PartitionCurrentState::default()
            },
        );
        let keys: Vec<&str> = cs
            .record()
            .map("TestDB_0")
            .map(|m| m.keys().map(String::as_str).collect())
            .unwrap_or_default();
        assert_eq!(
            keys,
            [
                "CURRENT_STATE",
                "END_TIME",
                "INFO",
                "PREVIOUS_STATE",
                "START_TIME",
                "TRIGGERED_BY"
            ]
        );
        assert_eq!(cs.session_id(), Some(SessionId(0x1000021f98d000a)));
        assert_eq!(
            cs.partition_states().collect::<Vec<_>>(),
            [("TestDB_0", "SLAVE")]
        );
        assert_eq!(cs.bucket_size(), 0);
        assert!(!cs.batch_message_mode());
        let removed = cs.remove_partition("TestDB_0").expect("present");
        assert_eq!(removed.end_time, Some(2));
        assert_eq!(cs.state("TestDB_0"), None);
    }
}
