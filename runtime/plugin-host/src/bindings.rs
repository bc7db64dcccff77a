//! The single place that runs `wasmtime::component::bindgen!`: typed host
//! bindings for the two plugin worlds in `wit/`.
//!
//! The aggregator world reuses the state-model world's `strand:host`
//! bindings, so the host implements logging and the clock once; the
//! replicated-state-model world reuses all of the state-model world's
//! imports and adds only its `strand:routing/watch` export.

// Generated code: the documentation is in the WIT files.
/// Bindings for `strand:plugins/state-model@0.2.0`.
#[allow(missing_docs)]
pub mod state_model {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "strand:plugins/state-model",
    });
}

/// Bindings for `strand:plugins/aggregator@0.2.0`.
#[allow(missing_docs)]
pub mod aggregator {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "strand:plugins/aggregator",
        with: {
            "strand:host/log": crate::bindings::state_model::strand::host::log,
            "strand:host/clock": crate::bindings::state_model::strand::host::clock,
        },
    });
}

/// Bindings for `strand:plugins/replicated-state-model@0.2.0`: only its
/// extra export (`strand:routing/watch`) is used, loaded from a state-model
/// instance whose component exports it.
#[allow(missing_docs)]
pub mod replicated {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "strand:plugins/replicated-state-model",
        with: {
            "strand:host/log": crate::bindings::state_model::strand::host::log,
            "strand:host/clock": crate::bindings::state_model::strand::host::clock,
            "strand:statemodel/types": crate::bindings::state_model::strand::statemodel::types,
            "strand:statemodel/customized-state": crate::bindings::state_model::strand::statemodel::customized_state,

            "strand:routing/lookup": crate::bindings::state_model::strand::routing::lookup,
        },
    });
}
