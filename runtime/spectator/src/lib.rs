//! The spectator side of Strand: Helix's `RoutingTableProvider`.
//!
//! A [`RoutingTableProvider`] keeps, for one cluster, which live instance
//! serves which partition of which resource in which state — from the
//! external view and from any number of customized views — and answers
//! lookups from memory.
//!
//! * [`source`] — [`ViewSource`]: which view a routing table is built from.
//! * [`table`] — [`RoutingTable`]: one source's index, built once per change,
//!   looked up without allocation.
//! * [`snapshot`] — [`RoutingSnapshot`]: every table plus the live instances
//!   and instance configs they were built against, immutable and consistent.
//! * [`provider`] — [`RoutingTableProvider`]: watches ZooKeeper (no polling),
//!   rebuilds the snapshot on change, publishes it lock-free and tells
//!   listeners.
//!
//! # Guarantees
//! * Lookups never block on updates: readers load the current snapshot
//!   through an atomic pointer.
//! * A snapshot never mixes two states of the cluster: it is built from one
//!   pass over the caches and swapped in whole.
//! * An instance is routed to only while it has an InstanceConfig (as in
//!   Helix) **and** a LiveInstance: a stopped participant leaves every table
//!   as soon as its LiveInstance znode is gone, before the controller has
//!   rewritten the views.

mod error;
pub mod provider;
pub mod snapshot;
pub mod source;
pub mod table;

pub use error::{Result, SpectatorError};
pub use provider::{ProviderConfig, RoutingTableProvider};
pub use snapshot::RoutingSnapshot;
pub use source::ViewSource;
pub use table::RoutingTable;
