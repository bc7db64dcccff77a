//! A state model whose `definition` traps: `strand plugin check` and the
//! hot-swap registry must refuse it.

mod bindings {
    strand_plugin_sdk::wit_bindgen::generate!({
        path: "../../wit",
        world: "strand:plugins/state-model",
        runtime_path: "::strand_plugin_sdk::wit_bindgen::rt",
                generate_all,
    });
}

use bindings::exports::strand::statemodel::model::Guest;
use bindings::strand::statemodel::types::{ModelDefinition, TransitionContext, TransitionError};

struct FaultyDefinition;

impl Guest for FaultyDefinition {
    fn definition() -> ModelDefinition {
        panic!("deliberate trap in definition()");
    }

    fn transition(_ctx: TransitionContext) -> Result<String, TransitionError> {
        Ok(String::new())
    }
}

bindings::export!(FaultyDefinition with_types_in bindings);
