//! The controller's decisions as pure functions over a [`Snapshot`] of the
//! cluster — no I/O, so every rule is unit-tested without ZooKeeper and a
//! pipeline run over 10,000 partitions is a plain computation.
//!
//! * [`best_possible`]: where every replica should be and in which state
//!   (SEMI_AUTO, FULL_AUTO via [`placement`], CUSTOMIZED).
//! * [`messages`]: the next transitions to send, respecting pending
//!   messages and state count bounds.
//! * [`rebalance_type`]: `ST_REBALANCE_TYPE` of FULL_AUTO messages
//!   (recovery or load rebalance).
//! * [`views`]: external views and default customized views.
//! * [`delay`]: delayed rebalance (offline instances kept placed).
//! * [`relay`]: relay (P2P) messages: when they are sent, what they carry.
//! * [`handoffs`]: how many partitions a run may leave without their top
//!   state at once (planned handoffs).

pub mod best_possible;
pub mod delay;
pub mod handoffs;
pub mod messages;
pub mod pending;
pub mod placement;
pub mod rebalance_type;
pub mod relay;
pub mod snapshot;
#[cfg(test)]
mod test_support;
pub mod views;

pub use best_possible::{BestPossible, PartitionMap, PreferenceLists, ResourceAssignment};
pub use messages::{MessagePlan, Sender};
pub use pending::{PendingMessages, PendingTransition};
pub use snapshot::{LiveParticipant, Snapshot};
