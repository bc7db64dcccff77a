//! The single place that runs `wasmtime::component::bindgen!`: typed host
//! bindings for the two plugin worlds in `wit/`.
//!
//! The aggregator world reuses the state-model world's `strand:host`
//! bindings, so the host implements logging and the clock once.

// Generated code: the documentation is in the WIT files.
/// Bindings for `strand:plugins/state-model@0.1.0`.
#[allow(missing_docs)]
pub mod state_model {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "strand:plugins/state-model",
    });
}

/// Bindings for `strand:plugins/aggregator@0.1.0`.
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
