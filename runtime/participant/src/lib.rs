//! The Strand participant: "Helix outside the JVM". A participant joins a
//! cluster the way Helix's Java participant does, receives state
//! transition messages from any Helix-compatible controller (Strand's or
//! Apache Helix's), and runs each transition in a state-model plugin
//! (a WebAssembly component served by `strand-plugin-host`).
//!
//! Start one with [`Participant::start`]; several can run in one process,
//! each with its own ZooKeeper session, sharing one plugin registry.
//!
//! * `join` — the join protocol of a new session.
//! * `engine` — the message loop: what is known of MESSAGES, and what to
//!   do with each message; `transition` — running one (mark read →
//!   plugin → current state + delete); `scheduler` — the slot rule that
//!   keeps hung calls from starving other resources.
//! * `current_state` — this session's current states, in memory with
//!   their versions, written in batches.
//! * `lookups` — the state model definitions and resource configs the
//!   messages need, watched lazily, last good copy kept.
//! * `errors` — failed transitions recorded under `ERRORS`, as Helix does.
//! * `drain` — a stopping participant's own drain (`EVACUATE`) first.
//! * `routing` — the routing table plugins look up (`strand:routing`),
//!   started on first use, and the callbacks when it changes.
//! * `relay` — relay (peer-to-peer) messages attached to a transition,
//!   forwarded once it is recorded, as Helix's participant does.
//! * [`customized`] — Helix's `CustomizedStateProvider`, shared with plugins.
//! * [`cluster_plugins`] — state-model plugins deployed to the cluster
//!   (`strand plugin deploy`), fetched, verified and hot-swapped in.

mod classify;
pub mod cluster_plugins;
mod config;
mod current_state;
pub mod customized;
mod drain;
mod engine;
mod error;
mod errors;
mod inbox;
mod join;
mod lookups;
mod participant;
mod relay;
mod routing;
mod scheduler;
mod transition;

pub use cluster_plugins::{ClusterPlugins, ClusterPluginsConfig};
pub use config::{
    DEFAULT_MAX_PARALLEL_TRANSITIONS, HELIX_VERSION, ParticipantConfig, StepFn, StepHook,
    TransitionStep, address_of,
};
pub use customized::{CustomizedStateProvider, DeadlineBound};
pub use drain::{DrainOutcome, SHUTDOWN_DRAIN_REASON};
pub use error::{ParticipantError, Result};
pub use errors::MAX_ERRORS_PER_PARTITION;
pub use participant::Participant;
