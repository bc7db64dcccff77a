//! A component built for `strand:statemodel@0.2.0` (see `wit/world.wit`
//! here): the host and `strand plugin check` must refuse it with a clear
//! "incompatible version" reason.

mod bindings {
    strand_plugin_sdk::wit_bindgen::generate!({
        path: "wit",
        world: "wrong",
        runtime_path: "::strand_plugin_sdk::wit_bindgen::rt",
    });
}

struct Wrong;

impl bindings::exports::strand::statemodel::model::Guest for Wrong {
    fn definition() -> String {
        "not a 0.1 definition".into()
    }
}

bindings::export!(Wrong with_types_in bindings);
