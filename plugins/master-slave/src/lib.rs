//! Helix's built-in `MasterSlave` state model (`BuiltInStateModelDefinitions`,
//! `helix-core/src/main/java/org/apache/helix/model/MasterSlaveSMD.java`): one MASTER, R SLAVEs, initial state OFFLINE.

use strand_plugin_sdk::{Count, ModelSpec, export_state_model};

export_state_model!(ModelSpec {
    name: "MasterSlave",
    version: env!("CARGO_PKG_VERSION"),
    states: &[
        ("MASTER", Count::Number(1)),
        ("SLAVE", Count::Replicas),
        ("OFFLINE", Count::Unbounded),
        ("DROPPED", Count::Unbounded),
        ("ERROR", Count::Unbounded),
    ],
    transitions: &[
        ("MASTER", "SLAVE"),
        ("SLAVE", "MASTER"),
        ("OFFLINE", "SLAVE"),
        ("SLAVE", "OFFLINE"),
        ("OFFLINE", "DROPPED"),
    ],
    initial: "OFFLINE",
});
