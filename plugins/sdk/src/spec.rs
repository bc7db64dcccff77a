//! Declarative state models: a [`ModelSpec`] is a [`StateModel`] with
//! Helix's usual behaviour, so a model like Helix's built-ins needs no code.

use crate::host::Level;
use crate::model::{Count, ModelDefinition, StateDef, StateModel, Transition, TransitionDef};
use crate::model::{StateError, TransitionError};

/// The resource-config key naming the customized-state type a [`ModelSpec`]
/// records each replica's state under (absent: it records nothing).
pub const CUSTOMIZED_STATE_TYPE_KEY: &str = "strand.customized-state-type";

/// The state every replica may be sent to from ERROR, and any state to DROPPED.
pub const DROPPED: &str = "DROPPED";
/// The state Helix puts a replica in when a transition fails.
pub const ERROR: &str = "ERROR";

/// Helix's MasterSlave states (`MasterSlaveSMD`): one MASTER, R SLAVEs,
/// for models that keep its states and transitions and add behaviour.
pub const MASTER_SLAVE_STATES: &[(&str, Count)] = &[
    ("MASTER", Count::Number(1)),
    ("SLAVE", Count::Replicas),
    ("OFFLINE", Count::Unbounded),
    ("DROPPED", Count::Unbounded),
    ("ERROR", Count::Unbounded),
];

/// Helix's MasterSlave transitions, in priority order.
pub const MASTER_SLAVE_TRANSITIONS: &[(&str, &str)] = &[
    ("MASTER", "SLAVE"),
    ("SLAVE", "MASTER"),
    ("OFFLINE", "SLAVE"),
    ("SLAVE", "OFFLINE"),
    ("OFFLINE", "DROPPED"),
];

/// A state model described in plain Rust, usable in `const` context.
///
/// As a [`StateModel`], its transition
///
/// 1. rejects pairs the model does not allow (`illegal-transition`), except
///    the transitions Helix adds implicitly (ERROR → initial state on reset,
///    ERROR → DROPPED);
/// 2. logs the transition through `strand:host/log`;
/// 3. when the resource's config has [`CUSTOMIZED_STATE_TYPE_KEY`], records
///    `CURRENT_STATE` = the new state and `PLUGIN_VERSION` in the calling
///    participant's customized state of that type (a failed write is
///    retryable: the write is idempotent);
/// 4. returns `"<model> <version>: FROM->TO"` as its note.
#[derive(Debug, Clone, Copy)]
pub struct ModelSpec {
    /// The StateModelDefinition id, e.g. `MasterSlave`.
    pub name: &'static str,
    /// The plugin version reported in the definition.
    pub version: &'static str,
    /// States, highest priority first, with their count bounds.
    pub states: &'static [(&'static str, Count)],
    /// Transitions `(from, to)`, most important first.
    pub transitions: &'static [(&'static str, &'static str)],
    /// The initial state.
    pub initial: &'static str,
}

impl ModelSpec {
    /// Whether the model performs `from -> to`: a listed transition, or one
    /// Helix adds implicitly (ERROR → initial, ERROR → DROPPED).
    pub fn is_legal(&self, from: &str, to: &str) -> bool {
        self.transitions.iter().any(|(f, t)| *f == from && *t == to)
            || (from == ERROR && (to == self.initial || to == DROPPED))
    }

    /// Step 1 of the standard transition: `Err(illegal-transition)` (and a
    /// warning in the log) unless [`is_legal`](Self::is_legal).
    ///
    /// # Errors
    /// [`TransitionError::IllegalTransition`] naming the pair.
    pub fn check_legal(&self, t: &Transition) -> Result<(), TransitionError> {
        let (from, to) = (t.from_state(), t.to_state());
        if self.is_legal(from, to) {
            return Ok(());
        }
        let msg = format!(
            "{} does not allow {from}->{to} ({}/{})",
            self.name,
            t.resource(),
            t.partition()
        );
        t.log(Level::Warn, &msg);
        Err(TransitionError::IllegalTransition(msg))
    }

    /// Step 3 of the standard transition: records `CURRENT_STATE` and
    /// `PLUGIN_VERSION` when the resource asks for it.
    ///
    /// # Errors
    /// [`TransitionError::Retryable`] when the write fails.
    pub fn record_state(&self, t: &Transition) -> Result<(), TransitionError> {
        let Some(state_type) = t.config(CUSTOMIZED_STATE_TYPE_KEY) else {
            return Ok(());
        };
        t.customized_state(state_type)
            .update([
                ("CURRENT_STATE", t.to_state()),
                ("PLUGIN_VERSION", self.version),
            ])
            .map_err(|e: StateError| TransitionError::Retryable(format!("customized state: {e:?}")))
    }
}

impl StateModel for ModelSpec {
    fn definition(&self) -> ModelDefinition {
        ModelDefinition {
            name: self.name.into(),
            version: self.version.into(),
            states: self
                .states
                .iter()
                .map(|&(name, count)| StateDef {
                    name: name.into(),
                    count,
                })
                .collect(),
            transitions: self
                .transitions
                .iter()
                .map(|&(from, to)| TransitionDef {
                    from_state: from.into(),
                    to_state: to.into(),
                })
                .collect(),
            initial_state: self.initial.into(),
        }
    }

    fn transition(&self, t: &Transition) -> Result<String, TransitionError> {
        self.check_legal(t)?;
        let (from, to) = (t.from_state(), t.to_state());
        t.log(
            Level::Info,
            &format!(
                "{}/{}: {from}->{to} (message {})",
                t.resource(),
                t.partition(),
                t.message_id()
            ),
        );
        self.record_state(t)?;
        Ok(format!("{} {}: {from}->{to}", self.name, self.version))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MASTER_SLAVE: ModelSpec = ModelSpec {
        name: "MasterSlave",
        version: "0.1.0",
        states: &[
            ("MASTER", Count::Number(1)),
            ("SLAVE", Count::Replicas),
            ("OFFLINE", Count::Unbounded),
        ],
        transitions: &[("OFFLINE", "SLAVE"), ("SLAVE", "MASTER")],
        initial: "OFFLINE",
    };

    #[test]
    fn listed_and_implicit_transitions_are_legal() {
        assert!(MASTER_SLAVE.is_legal("OFFLINE", "SLAVE"));
        assert!(MASTER_SLAVE.is_legal("ERROR", "OFFLINE"), "reset");
        assert!(MASTER_SLAVE.is_legal("ERROR", "DROPPED"));
        assert!(!MASTER_SLAVE.is_legal("SLAVE", "OFFLINE"), "not listed");
        assert!(!MASTER_SLAVE.is_legal("OFFLINE", "MASTER"));
        assert!(!MASTER_SLAVE.is_legal("ERROR", "SLAVE"));
    }

    #[test]
    fn the_definition_keeps_every_order() {
        let d = MASTER_SLAVE.definition();
        assert_eq!(d.name, "MasterSlave");
        assert_eq!(d.initial_state, "OFFLINE");
        let states: Vec<_> = d
            .states
            .iter()
            .map(|s| (s.name.as_str(), s.count))
            .collect();
        assert_eq!(
            states,
            [
                ("MASTER", Count::Number(1)),
                ("SLAVE", Count::Replicas),
                ("OFFLINE", Count::Unbounded)
            ]
        );
        assert_eq!(
            d.transitions,
            [
                TransitionDef {
                    from_state: "OFFLINE".into(),
                    to_state: "SLAVE".into()
                },
                TransitionDef {
                    from_state: "SLAVE".into(),
                    to_state: "MASTER".into()
                }
            ]
        );
    }
}
