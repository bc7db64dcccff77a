//! The Rust SDK for Strand plugins: WebAssembly components built for
//! `wasm32-wasip2` that Strand hosts run as Helix state models or
//! customized-view aggregators.
//!
//! The crate carries its own copy of Strand's WIT (`wit/`), so a plugin crate
//! anywhere can depend on it by path or git; `docs/writing-plugins.md` in the
//! repository starts one from an empty directory.
//!
//! * A state model like Helix's built-ins needs no code: describe it as a
//!   [`ModelSpec`] and export it with [`export_state_model!`].
//! * A state model with logic of its own implements [`StateModel`]: each
//!   [`Transition`] gives the replica's resource, partition and states, the
//!   resource's [`config`](Transition::config), the participant's
//!   [`customized_state`](Transition::customized_state), the host's log and
//!   clock; it fails with a typed [`TransitionError`] (fatal, retryable,
//!   illegal transition, as the WIT has them).
//! * A state model of a replicated system implements
//!   [`ReplicatedStateModel`] too: [`routing::replicas`] finds where the
//!   other replicas of a partition are (a SLAVE its MASTER), and
//!   [`routing_changed`](ReplicatedStateModel::routing_changed) hears when
//!   that changes without a transition of its own; export it with
//!   [`export_replicated_state_model!`].
//! * An aggregator implements [`Aggregator`]: a [`Partition`] gives every
//!   instance's [`InstanceState`] (with [`field`](InstanceState::field)
//!   lookups) and it returns the partition's [`View`], or an
//!   [`AggregateError`]; export it with [`export_aggregator!`].
//!
//! ```rust
//! use strand_plugin_sdk::{Count, ModelSpec, StateModel, Transition, TransitionError};
//!
//! /// Helix's OnlineOffline, refusing to go ONLINE while the resource is frozen.
//! struct Guarded;
//!
//! const SPEC: ModelSpec = ModelSpec {
//!     name: "GuardedOnlineOffline",
//!     version: "0.1.0",
//!     states: &[("ONLINE", Count::Replicas), ("OFFLINE", Count::Unbounded), ("DROPPED", Count::Unbounded)],
//!     transitions: &[("OFFLINE", "ONLINE"), ("ONLINE", "OFFLINE"), ("OFFLINE", "DROPPED")],
//!     initial: "OFFLINE",
//! };
//!
//! impl StateModel for Guarded {
//!     fn definition(&self) -> strand_plugin_sdk::ModelDefinition {
//!         SPEC.definition()
//!     }
//!
//!     fn transition(&self, t: &Transition) -> Result<String, TransitionError> {
//!         if t.to_state() == "ONLINE" && t.config("frozen") == Some("true") {
//!             return Err(TransitionError::retryable("resource is frozen"));
//!         }
//!         SPEC.transition(t)
//!     }
//! }
//!
//! strand_plugin_sdk::export_state_model!(Guarded);
//! # fn main() {}
//! ```
//!
//! * With the cargo feature `http`, [`http`](mod@http) sends requests to
//!   the plugin's application over `wasi:http` (`http::post_json(url,
//!   body)`), reaching only what the participant grants.
//!
//! [`bindings`] holds the generated bindings of both worlds, and
//! [`wit_bindgen`] is re-exported for plugins of other worlds.

#![warn(missing_docs)]

extern crate self as strand_plugin_sdk;

mod aggregator;
pub mod bindings;
mod export;
mod fields;
pub mod host;
#[cfg(feature = "http")]
pub mod http;
mod model;
pub mod routing;
mod spec;

pub use wit_bindgen;

pub use aggregator::{AggregateError, Aggregator, AggregatorInfo, InstanceState, Partition, View};
pub use fields::Fields;
pub use host::Level;
pub use model::{
    Count, CustomizedState, ModelDefinition, StateDef, StateError, StateModel, Transition,
    TransitionDef, TransitionError,
};
pub use routing::{Replica, ReplicatedStateModel, RoutingChange};
pub use spec::{
    CUSTOMIZED_STATE_TYPE_KEY, DROPPED, ERROR, MASTER_SLAVE_STATES, MASTER_SLAVE_TRANSITIONS,
    ModelSpec,
};

/// What the export macros expand to; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use crate::export::{ExportedAggregator, ExportedReplicatedStateModel, ExportedStateModel};
}
