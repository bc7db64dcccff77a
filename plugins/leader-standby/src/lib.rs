//! Helix's built-in `LeaderStandby` state model (`BuiltInStateModelDefinitions`,
//! `helix-core/src/main/java/org/apache/helix/model/LeaderStandbySMD.java`): one LEADER, R STANDBYs, initial state OFFLINE. Unlike
//! MasterSlave, ERROR is not in its state priority list.

use strand_plugin_sdk::{Count, ModelSpec, export_state_model};

export_state_model!(ModelSpec {
    name: "LeaderStandby",
    version: env!("CARGO_PKG_VERSION"),
    states: &[
        ("LEADER", Count::Number(1)),
        ("STANDBY", Count::Replicas),
        ("OFFLINE", Count::Unbounded),
        ("DROPPED", Count::Unbounded),
    ],
    transitions: &[
        ("LEADER", "STANDBY"),
        ("STANDBY", "LEADER"),
        ("OFFLINE", "STANDBY"),
        ("STANDBY", "OFFLINE"),
        ("OFFLINE", "DROPPED"),
    ],
    initial: "OFFLINE",
});
