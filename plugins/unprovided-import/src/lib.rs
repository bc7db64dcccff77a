//! A well-formed OnlineOffline state model that also imports
//! `acme:inventory/stock@0.1.0` (see `wit/stock.wit` here), an interface no
//! Strand host provides: the host, `strand plugin inspect`/`check` and
//! `strand plugin deploy` must refuse it with the import named
//! (`LoadError::UnprovidedImport`), and a running version must keep
//! serving.

use strand_plugin_sdk::{
    Count, ModelDefinition, ModelSpec, StateModel, Transition, TransitionError, export_state_model,
};

mod bindings {
    strand_plugin_sdk::wit_bindgen::generate!({
        path: "wit",
        world: "acme:inventory/uses-stock",
        runtime_path: "::strand_plugin_sdk::wit_bindgen::rt",
    });
}

const SPEC: ModelSpec = ModelSpec {
    name: "StockedOnlineOffline",
    version: env!("CARGO_PKG_VERSION"),
    states: &[
        ("ONLINE", Count::Replicas),
        ("OFFLINE", Count::Unbounded),
        ("DROPPED", Count::Unbounded),
    ],
    transitions: &[
        ("OFFLINE", "ONLINE"),
        ("ONLINE", "OFFLINE"),
        ("OFFLINE", "DROPPED"),
    ],
    initial: "OFFLINE",
};

struct Stocked;

impl StateModel for Stocked {
    fn definition(&self) -> ModelDefinition {
        SPEC.definition()
    }

    fn transition(&self, t: &Transition) -> Result<String, TransitionError> {
        // The call keeps the import in the component (wit-component drops
        // imports nothing calls).
        let units = bindings::acme::inventory::stock::level(t.partition());
        let note = SPEC.transition(t)?;
        Ok(format!("{note} ({units} in stock)"))
    }
}

export_state_model!(Stocked);
