//! Customized-view aggregators: the [`Aggregator`] trait, the [`Partition`]
//! context an aggregation gets, and field lookups on each instance's state.

use crate::bindings::aggregator::strand::aggregator::types::PartitionStates;
use crate::fields;
use crate::host::{self, Level};

pub use crate::bindings::aggregator::strand::aggregator::types::{
    AggregateError, AggregatorInfo, InstanceState,
};

/// A partition's customized view: key/value pairs, written by the
/// controller as `mapFields[partition]` of `CUSTOMIZEDVIEW/<type>/<resource>`.
pub type View = Vec<(String, String)>;

/// A customized-view aggregator: turns the per-instance customized states of
/// one partition into that partition's view. Export it with
/// [`export_aggregator!`](crate::export_aggregator).
pub trait Aggregator {
    /// Who the aggregator is. Must be pure.
    fn info(&self) -> AggregatorInfo;

    /// The view of one partition. Helix's own behaviour is the map
    /// instance → `CURRENT_STATE`.
    ///
    /// # Errors
    /// [`AggregateError::InvalidInput`] or [`AggregateError::Failed`]: the
    /// controller falls back to Helix's default view for that partition.
    fn aggregate(&self, partition: &Partition) -> Result<View, AggregateError>;
}

impl AggregatorInfo {
    /// An aggregator's self-description.
    pub fn new(
        name: impl Into<String>,
        version: impl Into<String>,
        description: impl Into<String>,
    ) -> Self {
        Self {
            name: name.into(),
            version: version.into(),
            description: description.into(),
        }
    }
}

impl AggregateError {
    /// The input did not make sense to the aggregator.
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::InvalidInput(message.into())
    }

    /// Any other failure.
    pub fn failed(message: impl Into<String>) -> Self {
        Self::Failed(message.into())
    }
}

impl InstanceState {
    /// The value of `key` in this instance's map, if present.
    pub fn field(&self, key: &str) -> Option<&str> {
        fields::lookup(&self.fields, key)
    }

    /// The state the instance reports (`CURRENT_STATE`).
    pub fn current_state(&self) -> Option<&str> {
        self.field("CURRENT_STATE")
    }

    /// When the instance last wrote its state (`START_TIME`, milliseconds
    /// since the Unix epoch), if that is a number.
    pub fn start_time_ms(&self) -> Option<u64> {
        self.field("START_TIME").and_then(|t| t.parse().ok())
    }
}

/// One aggregation's input: every live instance's customized state of one
/// partition, for one customized-state type, with the host's services at hand.
#[derive(Debug, Clone)]
pub struct Partition {
    input: PartitionStates,
}

impl Partition {
    pub(crate) fn new(input: PartitionStates) -> Self {
        Self { input }
    }

    /// The cluster's name.
    pub fn cluster(&self) -> &str {
        &self.input.cluster
    }

    /// The customized-state type (e.g. `READINESS`).
    pub fn state_type(&self) -> &str {
        &self.input.state_type
    }

    /// The resource.
    pub fn resource(&self) -> &str {
        &self.input.resource
    }

    /// The partition.
    pub fn partition(&self) -> &str {
        &self.input.partition
    }

    /// One entry per live instance with a state for the partition, sorted by
    /// instance name.
    pub fn states(&self) -> &[InstanceState] {
        &self.input.states
    }

    /// Writes one record to the host's log (see [`host::log`]).
    pub fn log(&self, level: Level, message: &str) {
        host::log(level, message);
    }

    /// Wall-clock milliseconds since the Unix epoch (see [`host::now_ms`]).
    pub fn now_ms(&self) -> u64 {
        host::now_ms()
    }

    /// Monotonic nanoseconds (see [`host::monotonic_ns`]).
    pub fn monotonic_ns(&self) -> u64 {
        host::monotonic_ns()
    }

    /// The record the host sent.
    pub fn raw(&self) -> &PartitionStates {
        &self.input
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_fields_are_looked_up_by_key() {
        let s = InstanceState {
            instance: "host_1".into(),
            fields: vec![
                ("CURRENT_STATE".into(), "ONLINE".into()),
                ("START_TIME".into(), "1700000000000".into()),
            ],
        };
        assert_eq!(s.current_state(), Some("ONLINE"));
        assert_eq!(s.start_time_ms(), Some(1_700_000_000_000));
        assert_eq!(s.field("MISSING"), None);
        let garbled = InstanceState {
            instance: "host_2".into(),
            fields: vec![("START_TIME".into(), "yesterday".into())],
        };
        assert_eq!(garbled.start_time_ms(), None);
        assert_eq!(garbled.current_state(), None);
    }
}
