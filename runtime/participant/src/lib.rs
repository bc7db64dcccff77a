//! The Strand participant: "Helix outside the JVM". A participant joins a
//! cluster the way Helix's Java participant does, receives state
//! transition messages from any Helix-compatible controller (Strand's or
//! Apache Helix's), and runs each transition in a state-model plugin
//! (a WebAssembly component served by `strand-plugin-host`).
//!
//! Start one with [`Participant::start`]; several can run in one process,
//! each with its own ZooKeeper session, sharing one plugin registry.
//!
//! * [`join`](crate::join) — the join protocol of a new session.
//! * [`engine`](crate::engine) — the message loop and transition execution.
//! * [`current_state`] — how finished transitions are recorded.
//! * [`customized`] — Helix's `CustomizedStateProvider`, shared with plugins.
//! * [`cluster_plugins`] — state-model plugins deployed to the cluster
//!   (`strand plugin deploy`), fetched, verified and hot-swapped in.

pub mod cluster_plugins;
mod config;
pub mod current_state;
pub mod customized;
mod engine;
mod error;
mod join;
mod participant;

pub use cluster_plugins::{ClusterPlugins, ClusterPluginsConfig};
pub use config::{HELIX_VERSION, ParticipantConfig};
pub use customized::CustomizedStateProvider;
pub use error::{ParticipantError, Result};
pub use participant::Participant;
