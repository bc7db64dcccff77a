//! The guest bindings of the plugin worlds, generated once here from the
//! SDK's own copy of the WIT (`wit/` in this crate, kept equal to the
//! repository's `wit/` by a test), so a plugin crate anywhere can use them.
//!
//! Each world's `export!` macro is public (`pub_export_macro`): this crate
//! only carries the worlds' *imports*, which `wit-component` drops when a
//! plugin does not use them; a world's exports enter a component only when
//! [`export_state_model!`](crate::export_state_model) or
//! [`export_aggregator!`](crate::export_aggregator) (or
//! [`export_replicated_state_model!`](crate::export_replicated_state_model))
//! expands in the plugin crate. A state model therefore never has to export
//! an aggregator's functions, nor the other way round.
//!
//! The types are re-exported at the crate root; reach into these modules only
//! for what the SDK does not wrap.

/// Bindings for `strand:plugins/state-model@0.2.0`.
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

/// Bindings for `strand:plugins/aggregator@0.2.0`; `strand:host` is shared
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

/// The one export that world `strand:plugins/replicated-state-model@0.2.0`
/// adds to [`state_model`]: `strand:routing/watch`. A world of its own
/// (in this crate only) because generating the whole replicated world here
/// would define `strand:statemodel/model`'s export macro twice;
/// [`export_replicated_state_model!`](crate::export_replicated_state_model)
/// expands both worlds' export macros, and `wit-component` merges their
/// descriptions into the replicated world's.
#[allow(missing_docs)]
pub mod routing_watch {
    wit_bindgen::generate!({
        path: "wit",
        inline: "
            package strand:sdk;

            world routing-watch {
                export strand:routing/watch@0.1.0;
            }
        ",
        world: "strand:sdk/routing-watch",
        runtime_path: "::strand_plugin_sdk::wit_bindgen::rt",
        pub_export_macro: true,
        export_macro_name: "__export_routing_watch_world",
        additional_derives: [PartialEq, Eq],
        with: {
            "strand:routing/lookup@0.1.0": ::strand_plugin_sdk::bindings::state_model::strand::routing::lookup,
        },
    });
}
