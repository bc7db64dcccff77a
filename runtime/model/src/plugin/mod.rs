//! Plugins as plain values, with no engine: what a state-model or aggregator
//! component says about itself ([`definition`]), and [`ComponentInspector`],
//! the one thing that needs an engine — turning a component's bytes into
//! that description — as a trait a plugin host implements ([`InspectError`]
//! when it cannot).
//!
//! The plugin host (`strand-plugin-host`, wasmtime) produces these values;
//! the plugin store (`strand-plugin-store`) records them and builds Helix's
//! `StateModelDefinition` record from them; crates that do not run plugins
//! (the REST server, admin tools) use them without linking an engine.

pub mod definition;

pub use definition::{AggregatorInfo, Changes, StateDef, StateModelSpec, Transition};

/// What a component is, from its own description: a state model with its
/// definition, or an aggregator with its info.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PluginDescription {
    /// A state model (`strand:plugins/state-model`).
    StateModel(StateModelSpec),
    /// A customized-view aggregator (`strand:plugins/aggregator`).
    Aggregator(AggregatorInfo),
}

impl PluginDescription {
    /// The name the component reports.
    pub fn name(&self) -> &str {
        match self {
            Self::StateModel(d) => &d.name,
            Self::Aggregator(a) => &a.name,
        }
    }

    /// The version the component reports.
    pub fn version(&self) -> &str {
        match self {
            Self::StateModel(d) => &d.version,
            Self::Aggregator(a) => &a.version,
        }
    }
}

/// Validates a component as a deployment requires: compiles it, checks its
/// world and interface versions, reads its self-description, checks that
/// and runs the canary call a hot swap would run. Implemented by the plugin
/// host; whoever deploys (the `strand` command, the REST server it starts,
/// tests) hands one to the plugin store.
pub trait ComponentInspector: Send + Sync + std::fmt::Debug {
    /// The description of the component `bytes` (`label` names it in log
    /// lines), or why it cannot be deployed, in one line. Blocking: call it
    /// off the async workers.
    ///
    /// # Errors
    /// [`InspectError::Invalid`]: why the component does not load or fails
    /// its checks; [`InspectError::Host`]: no engine to check it with.
    fn inspect_component(
        &self,
        label: &str,
        bytes: &[u8],
    ) -> Result<PluginDescription, InspectError>;
}

/// A shared inspector (one plugin host validating for several stores).
impl ComponentInspector for std::sync::Arc<dyn ComponentInspector> {
    fn inspect_component(
        &self,
        label: &str,
        bytes: &[u8],
    ) -> Result<PluginDescription, InspectError> {
        (**self).inspect_component(label, bytes)
    }
}

/// Why [`ComponentInspector::inspect_component`] gave no description.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InspectError {
    /// The component does not fit: not a component, another world or
    /// interface version, a bad definition, a failed canary (one line).
    #[error("{0}")]
    Invalid(String),
    /// The inspector itself cannot work (no plugin host could be created).
    #[error("{0}")]
    Host(String),
}
