//! Strand's record model: the Apache Helix 2.x znode records, with no I/O.
//!
//! Everything a Strand node reads from or writes to ZooKeeper goes through this crate,
//! byte-compatible with Java Helix 2.0.1 so both can share one cluster.
//!
//! * [`znrecord`] — [`ZNRecord`], Helix's generic record: byte-exact JSON (Jackson's
//!   pretty printer), transparent GZIP, size limits, and `update` / `merge` /
//!   `subtract`.
//! * [`records`] — typed wrappers ([`IdealState`], [`CurrentState`], [`Message`], …)
//!   over a `ZNRecord` that keep every field they do not know.
//! * [`builtin`] — Helix's built-in state model definitions, exactly as Helix writes them.
//! * [`plugin`] — what a plugin component says about itself (a state model's
//!   definition, an aggregator's info) as plain values, and the
//!   [`plugin::ComponentInspector`] trait a plugin host implements.
//! * [`paths`] — [`PropertyPaths`]: where each record lives, and the path sets of
//!   cluster and instance creation.
//! * [`session`] — [`SessionId`], written as Helix writes it (lowercase hex).
//! * [`time`] — [`time::now_ms`], time stamps as Helix writes them.
//! * [`error`] — [`ModelError`].
//! * [`java`] — the bits of Java behaviour (hash order, string order) that show up in
//!   Helix's bytes.

pub mod builtin;
pub mod error;
pub mod host;
pub mod java;
pub mod paths;
pub mod plugin;
pub mod records;
pub mod session;
pub mod time;
pub mod znrecord;

pub use error::ModelError;
pub use paths::PropertyPaths;
pub use records::{
    ClusterConfig, ControllerHistory, Count, CurrentState, CustomizedState, CustomizedStateConfig,
    CustomizedView, ExternalView, IdealState, InstanceConfig, InstanceOperation,
    InstanceOperationKind, InstanceOperationSource, LiveInstance, MaintenanceSignal, Message,
    MessageState, MessageType, ParticipantHistory, PauseSignal, RebalanceMode, Replicas,
    StateModelDefinition, StateModelDefinitionBuilder, StateTransitionSpec, TypedRecord,
};
pub use session::SessionId;
pub use znrecord::{
    FieldMap, KeyOrder, MergeOperation, SIZE_LIMIT, WriteOptions, ZNRecord, ZNRecordDelta,
};
