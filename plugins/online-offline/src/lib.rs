//! Helix's built-in `OnlineOffline` state model (`BuiltInStateModelDefinitions`,
//! `helix-core/src/main/java/org/apache/helix/model/OnlineOfflineSMD.java`): R replicas ONLINE, initial state OFFLINE.

use strand_plugin_sdk::{Count, ModelSpec, export_state_model};

export_state_model!(ModelSpec {
    name: "OnlineOffline",
    version: env!("CARGO_PKG_VERSION"),
    states: &[
        ("ONLINE", Count::Replicas),
        ("OFFLINE", Count::Unbounded),
        ("DROPPED", Count::Unbounded),
    ],
    transitions: &[
        ("OFFLINE", "ONLINE"),
        ("ONLINE", "OFFLINE"),
        ("OFFLINE", "DROPPED")
    ],
    initial: "OFFLINE",
});
