//! What a state-model plugin may ask about the rest of its cluster
//! (`strand:routing`): the [`RoutingLookup`] a participant attaches to its
//! calls (`CallOptions::routing`), and the host side of
//! `strand:routing/lookup`. Without a lookup attached, every answer is
//! empty.

use crate::bindings::state_model::strand::routing::lookup;
use crate::state::HostState;

pub use crate::bindings::state_model::strand::routing::lookup::{Replica, RoutingChange};

/// Answers `strand:routing/lookup` from memory (a participant's routing
/// table). Called on the plugin's thread while the guest waits: it must not
/// block on I/O.
pub trait RoutingLookup: Send + Sync {
    /// The routed replicas of `partition` of `resource` in `state` (any
    /// state when `None`), sorted by instance name.
    fn replicas(&self, resource: &str, partition: &str, state: Option<&str>) -> Vec<Replica>;
}

impl lookup::Host for HostState {
    fn replicas(
        &mut self,
        resource: String,
        partition: String,
        state: Option<String>,
    ) -> Vec<Replica> {
        self.routing.as_ref().map_or_else(Vec::new, |routing| {
            routing.replicas(&resource, &partition, state.as_deref())
        })
    }
}
