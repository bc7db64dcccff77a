//! The guest bindings of both plugin worlds, generated once here from the
//! SDK's own copy of the WIT (`wit/` in this crate, kept equal to the
//! repository's `wit/` by a test), so a plugin crate anywhere can use them.
//!
//! Each world's `export!` macro is public (`pub_export_macro`): this crate
//! only carries the worlds' *imports*, which `wit-component` drops when a
//! plugin does not use them; a world's exports enter a component only when
//! [`export_state_model!`](crate::export_state_model) or
//! [`export_aggregator!`](crate::export_aggregator) expands in the plugin
//! crate. A state model therefore never has to export an aggregator's
//! functions, nor the other way round.
//!
//! The types are re-exported at the crate root; reach into these modules only
//! for what the SDK does not wrap.

/// Bindings for `strand:plugins/state-model@0.1.0`.
#[allow(missing_docs)]
pub mod state_model {
    wit_bindgen::generate!({
        path: "wit",
        world: "strand:plugins/state-model",
        runtime_path: "::strand_plugin_sdk::wit_bindgen::rt",
        pub_export_macro: true,
        export_macro_name: "__export_state_model_world",
        additional_derives: [PartialEq, Eq],
        generate_all,
    });
}

/// Bindings for `strand:plugins/aggregator@0.1.0`; `strand:host` is shared
/// with [`state_model`], so both worlds log and read the clock through the
/// same functions.
#[allow(missing_docs)]
pub mod aggregator {
    wit_bindgen::generate!({
        path: "wit",
        world: "strand:plugins/aggregator",
        runtime_path: "::strand_plugin_sdk::wit_bindgen::rt",
        pub_export_macro: true,
        export_macro_name: "__export_aggregator_world",
        additional_derives: [PartialEq, Eq],
        with: {
            "strand:host/log@0.1.0": ::strand_plugin_sdk::bindings::state_model::strand::host::log,
            "strand:host/clock@0.1.0": ::strand_plugin_sdk::bindings::state_model::strand::host::clock,
        },
        generate_all,
    });
}
