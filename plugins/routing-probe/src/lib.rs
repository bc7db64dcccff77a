//! A test MasterSlave (named `MasterSlave`, version `…+routing-probe`) for the
//! tests of `strand:routing`. It changes nothing outside the host; it
//! reports what the routing interfaces tell it:
//!
//! * every transition's note lists the other replicas of its partition as
//!   the lookup answers (`peers: INSTANCE=STATE,…`, sorted by instance);
//! * every routing change it is told of (world
//!   `strand:plugins/replicated-state-model`) is written as the partition's
//!   customized state of type `ROUTING`: `OWN_STATE`, `MASTER` (the other
//!   instance in MASTER, or empty) and `REPLICAS` (`INSTANCE=STATE@HOST:PORT`,
//!   comma-separated), plus a `CHANGES` counter.

use strand_plugin_sdk::bindings::state_model::strand::statemodel::customized_state;
use strand_plugin_sdk::{
    MASTER_SLAVE_STATES, MASTER_SLAVE_TRANSITIONS, ModelDefinition, ModelSpec,
    ReplicatedStateModel, RoutingChange, StateModel, Transition, TransitionError,
    export_replicated_state_model,
};

const SPEC: ModelSpec = ModelSpec {
    name: "MasterSlave",
    version: concat!(env!("CARGO_PKG_VERSION"), "+routing-probe"),
    states: MASTER_SLAVE_STATES,
    transitions: MASTER_SLAVE_TRANSITIONS,
    initial: "OFFLINE",
};

/// The customized-state type the callbacks write.
pub const STATE_TYPE: &str = "ROUTING";

struct RoutingProbe;

impl StateModel for RoutingProbe {
    fn definition(&self) -> ModelDefinition {
        SPEC.definition()
    }

    fn transition(&self, t: &Transition) -> Result<String, TransitionError> {
        SPEC.transition(t)?;
        let peers: Vec<String> = t
            .peers(None)
            .iter()
            .map(|r| format!("{}={}", r.instance, r.state))
            .collect();
        Ok(format!("peers: {}", peers.join(",")))
    }
}

impl ReplicatedStateModel for RoutingProbe {
    fn routing_changed(&self, change: &RoutingChange) -> Result<(), String> {
        let master = change
            .others_in_state("MASTER")
            .next()
            .map(|r| r.instance.clone())
            .unwrap_or_default();
        let replicas: Vec<String> = change
            .replicas
            .iter()
            .map(|r| format!("{}={}@{}:{}", r.instance, r.state, r.host, r.port))
            .collect();
        let previous = customized_state::get(STATE_TYPE, &change.resource, &change.partition)
            .map_err(|e| format!("{e:?}"))?;
        let changes = previous
            .and_then(|fields| {
                fields
                    .into_iter()
                    .find(|(k, _)| k == "CHANGES")
                    .and_then(|(_, v)| v.parse::<u64>().ok())
            })
            .unwrap_or(0)
            + 1;
        customized_state::update(
            STATE_TYPE,
            &change.resource,
            &change.partition,
            &[
                ("OWN_STATE".into(), change.own_state.clone()),
                ("MASTER".into(), master),
                ("REPLICAS".into(), replicas.join(",")),
                ("CHANGES".into(), changes.to_string()),
            ],
        )
        .map_err(|e| format!("{e:?}"))
    }
}

export_replicated_state_model!(RoutingProbe);
