//! Where the other replicas of a partition are (`strand:routing`): lookups
//! in the participant's routing table, and the callback of a
//! [`ReplicatedStateModel`] when that routing changes.
//!
//! The table is the external view of each resource, restricted to live
//! instances with an InstanceConfig, as Helix's `RoutingTableProvider` has
//! it: a replica that just changed state shows there once the controller
//! has written the view, and an instance that stopped leaves it at once.

use crate::bindings::state_model::strand::routing::lookup;
use crate::model::StateModel;

pub use crate::bindings::state_model::strand::routing::lookup::{Replica, RoutingChange};

/// The replicas of `partition` of `resource` in `state` (any state when
/// `None`), sorted by instance name.
pub fn replicas(resource: &str, partition: &str, state: Option<&str>) -> Vec<Replica> {
    lookup::replicas(resource, partition, state)
}

impl Replica {
    /// The instance's port as a number (`None` when its InstanceConfig's
    /// `HELIX_PORT` is not one).
    pub fn port_number(&self) -> Option<u16> {
        self.port.parse().ok()
    }
}

impl RoutingChange {
    /// The replicas in `state`.
    pub fn in_state<'a>(&'a self, state: &'a str) -> impl Iterator<Item = &'a Replica> + 'a {
        self.replicas.iter().filter(move |r| r.state == state)
    }

    /// The replicas in `state` other than the calling instance's own.
    pub fn others_in_state<'a>(&'a self, state: &'a str) -> impl Iterator<Item = &'a Replica> + 'a {
        self.in_state(state).filter(|r| r.instance != self.instance)
    }
}

/// A state model that also follows the routing of the partitions it holds
/// (world `strand:plugins/replicated-state-model`): a SLAVE pointing its
/// replication at a MASTER that moved without a transition of its own.
/// Export it with
/// [`export_replicated_state_model!`](crate::export_replicated_state_model).
pub trait ReplicatedStateModel: StateModel {
    /// The routing of `change.partition` changed. The host calls it at most
    /// once at a time per partition, never while a transition of that
    /// partition runs here, and not for replicas in ERROR, OFFLINE or
    /// DROPPED.
    ///
    /// # Errors
    /// A message the host logs; the replica's state does not change.
    fn routing_changed(&self, change: &RoutingChange) -> Result<(), String>;
}
