//! Guest-side helpers for Strand state-model plugins.
//!
//! A state model that follows Helix's usual behaviour needs no code of its
//! own: describe it as a [`ModelSpec`] and export it with
//! [`export_state_model!`]. The generated transition callback
//!
//! 1. rejects pairs the model does not allow (`illegal-transition`), except
//!    the transitions Helix adds implicitly (ERROR → initial state on reset,
//!    ERROR → DROPPED);
//! 2. logs the transition through `strand:host/log`;
//! 3. when the resource's config has [`CUSTOMIZED_STATE_TYPE_KEY`], records
//!    `CURRENT_STATE` = the new state and `PLUGIN_VERSION` in the calling
//!    participant's customized state of that type;
//! 4. returns `"<model> <version>: FROM->TO"` as its note.
//!
//! Plugins with their own logic call `wit_bindgen::generate!` themselves
//! (re-exported here as [`wit_bindgen`]) against `wit/`.

pub use wit_bindgen;

/// The resource-config key naming the customized-state type the built-in
/// models record each replica's state under (absent: they record nothing).
pub const CUSTOMIZED_STATE_TYPE_KEY: &str = "strand.customized-state-type";

/// The state every replica may be sent to from ERROR, and any state to DROPPED.
pub const DROPPED: &str = "DROPPED";
/// The state Helix puts a replica in when a transition fails.
pub const ERROR: &str = "ERROR";

/// A state's count bound (Helix `<STATE>.meta` `count`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    /// A literal bound, e.g. `1` for a single master.
    Number(u32),
    /// `R`: the resource's replica count.
    Replicas,
    /// `N`: the number of live instances.
    LiveInstances,
    /// `-1`: no bound.
    Unbounded,
}

/// A state model described in plain Rust.
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
}

/// Exports a [`ModelSpec`] as a `strand:plugins/state-model` component with
/// the standard behaviour described in the crate docs.
///
/// Call it once, at the root of a `cdylib` crate that lives in `plugins/<name>/`
/// (the WIT is read from `../../wit`).
#[macro_export]
macro_rules! export_state_model {
    ($spec:expr) => {
        mod __strand_bindings {
            $crate::wit_bindgen::generate!({
                path: "../../wit",
                world: "strand:plugins/state-model",
                runtime_path: "::strand_plugin_sdk::wit_bindgen::rt",
                generate_all,
            });
        }

        const __STRAND_SPEC: $crate::ModelSpec = $spec;

        struct __StrandModel;

        impl __strand_bindings::exports::strand::statemodel::model::Guest for __StrandModel {
            fn definition() -> __strand_bindings::strand::statemodel::types::ModelDefinition {
                use __strand_bindings::strand::statemodel::types as t;
                let spec = &__STRAND_SPEC;
                t::ModelDefinition {
                    name: spec.name.into(),
                    version: spec.version.into(),
                    states: spec
                        .states
                        .iter()
                        .map(|(name, count)| t::StateDef {
                            name: (*name).into(),
                            count: match count {
                                $crate::Count::Number(n) => t::CountBound::Number(*n),
                                $crate::Count::Replicas => t::CountBound::Replicas,
                                $crate::Count::LiveInstances => t::CountBound::LiveInstances,
                                $crate::Count::Unbounded => t::CountBound::Unbounded,
                            },
                        })
                        .collect(),
                    transitions: spec
                        .transitions
                        .iter()
                        .map(|(from, to)| t::TransitionDef {
                            from_state: (*from).into(),
                            to_state: (*to).into(),
                        })
                        .collect(),
                    initial_state: spec.initial.into(),
                }
            }

            fn transition(
                ctx: __strand_bindings::strand::statemodel::types::TransitionContext,
            ) -> Result<String, __strand_bindings::strand::statemodel::types::TransitionError> {
                use __strand_bindings::strand::host::log::{Level, log};
                use __strand_bindings::strand::statemodel::customized_state;
                use __strand_bindings::strand::statemodel::types::TransitionError;
                let spec = &__STRAND_SPEC;
                let (from, to) = (&ctx.from_state, &ctx.to_state);
                if !spec.is_legal(from, to) {
                    let msg = format!(
                        "{} does not allow {from}->{to} ({}/{})",
                        spec.name, ctx.resource, ctx.partition
                    );
                    log(Level::Warn, &msg);
                    return Err(TransitionError::IllegalTransition(msg));
                }
                log(
                    Level::Info,
                    &format!("{}/{}: {from}->{to} (message {})", ctx.resource, ctx.partition, ctx.message_id),
                );
                let state_type = ctx
                    .config
                    .iter()
                    .find(|(k, _)| k == $crate::CUSTOMIZED_STATE_TYPE_KEY)
                    .map(|(_, v)| v.clone());
                if let Some(state_type) = state_type {
                    let fields = [
                        ("CURRENT_STATE".to_string(), to.clone()),
                        ("PLUGIN_VERSION".to_string(), spec.version.to_string()),
                    ];
                    customized_state::update(&state_type, &ctx.resource, &ctx.partition, &fields)
                        .map_err(|e| TransitionError::Retryable(format!("customized state: {e:?}")))?;
                }
                Ok(format!("{} {}: {from}->{to}", spec.name, spec.version))
            }
        }

        __strand_bindings::export!(__StrandModel with_types_in __strand_bindings);
    };
}
