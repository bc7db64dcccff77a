//! [`ExternalView`] — `/<C>/EXTERNALVIEW/<R>`: where each partition's replicas are and
//! in which state, as the controller last computed from current states.

use super::{bucket_and_batch_accessors, typed_record};
use crate::znrecord::{FieldMap, ZNRecord};

/// Simple-field keys readers use (copied from the IdealState).
pub mod keys {
    pub use crate::records::ideal_state::keys::{
        INSTANCE_GROUP_TAG, MIN_ACTIVE_REPLICAS, REPLICAS, RESOURCE_GROUP_NAME, STATE_MODEL_DEF_REF,
    };
    /// Routing by resource group.
    pub const GROUP_ROUTING_ENABLED: &str = "GROUP_ROUTING_ENABLED";
}

typed_record! {
    /// ExternalView (id = resource). MF `<P>` → `{instance: state}`; SF a copy of
    /// the IdealState's simple fields plus `BUCKET_SIZE`.
    ExternalView
}

bucket_and_batch_accessors!(ExternalView);

impl ExternalView {
    /// An empty view of a resource.
    pub fn new(resource: impl Into<String>) -> Self {
        ExternalView::from(ZNRecord::new(resource))
    }

    /// Partition names (the map-field keys).
    pub fn partitions(&self) -> impl Iterator<Item = &str> {
        self.0.map_fields.keys().map(String::as_str)
    }

    /// `{instance: state}` of a partition.
    pub fn state_map(&self, partition: &str) -> Option<&FieldMap> {
        self.0.map(partition)
    }

    /// Set one replica's state.
    pub fn set_state(&mut self, partition: &str, instance: &str, state: &str) {
        self.record_mut()
            .map_mut(partition)
            .insert(instance.to_string(), state.to_string());
    }

    /// Replace a partition's whole `{instance: state}` map.
    pub fn set_state_map(&mut self, partition: &str, states: FieldMap) {
        self.record_mut().set_map_field(partition, states);
    }

    /// `REPLICAS` as written.
    pub fn replicas(&self) -> Option<&str> {
        self.0.simple(keys::REPLICAS)
    }

    /// `MIN_ACTIVE_REPLICAS`.
    pub fn min_active_replicas(&self) -> Option<i32> {
        self.0.simple_parsed(keys::MIN_ACTIVE_REPLICAS)
    }

    /// `STATE_MODEL_DEF_REF`.
    pub fn state_model_def_ref(&self) -> Option<&str> {
        self.0.simple(keys::STATE_MODEL_DEF_REF)
    }

    /// `INSTANCE_GROUP_TAG`.
    pub fn instance_group_tag(&self) -> Option<&str> {
        self.0.simple(keys::INSTANCE_GROUP_TAG)
    }

    /// `RESOURCE_GROUP_NAME`.
    pub fn resource_group_name(&self) -> Option<&str> {
        self.0.simple(keys::RESOURCE_GROUP_NAME)
    }

    /// `GROUP_ROUTING_ENABLED` (default false).
    pub fn group_routing_enabled(&self) -> bool {
        self.0
            .simple_bool(keys::GROUP_ROUTING_ENABLED)
            .unwrap_or(false)
    }
}
