//! A state model whose `definition` traps: `strand plugin check` and the
//! hot-swap registry must refuse it.

use strand_plugin_sdk::{ModelDefinition, StateModel, Transition, TransitionError};

struct FaultyDefinition;

impl StateModel for FaultyDefinition {
    fn definition(&self) -> ModelDefinition {
        panic!("deliberate trap in definition()");
    }

    fn transition(&self, _t: &Transition) -> Result<String, TransitionError> {
        Ok(String::new())
    }
}

strand_plugin_sdk::export_state_model!(FaultyDefinition);
