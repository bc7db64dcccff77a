//! The built-in state model definitions equal the ones Helix 2.0.1 wrote to the dump,
//! byte for byte, and the builder reproduces Helix's builder output.

mod common;

use strand_model::builtin;
use strand_model::records::Count;
use strand_model::{StateModelDefinition, StateModelDefinitionBuilder};

fn fixture(id: &str) -> String {
    format!("B__STATEMODELDEFS__{id}.json")
}

#[test]
fn every_builtin_matches_helix_bytes() {
    let defs = builtin::all();
    assert_eq!(defs.len(), 7);
    for def in defs {
        let expected = common::bytes(&fixture(def.id()));
        let written = def.record().to_bytes().expect("fits");
        assert_eq!(
            String::from_utf8_lossy(&written),
            String::from_utf8_lossy(&expected),
            "{} differs from Helix",
            def.id()
        );
        // Same JSON after parsing, too (order-insensitive equality).
        assert_eq!(def.record(), &common::record(&fixture(def.id())));
    }
}

#[test]
fn required_builtins_are_present_by_name() {
    for name in ["MasterSlave", "OnlineOffline", "LeaderStandby"] {
        let def = builtin::by_name(name).expect("built in");
        assert!(def.validate().is_ok(), "{name}");
    }
    assert!(builtin::by_name("Nope").is_none());
}

#[test]
fn builder_reproduces_helix_builder_output() {
    // OnlineOfflineWithBootstrap is what Helix builds with its Builder.
    let built = StateModelDefinitionBuilder::new("OnlineOfflineWithBootstrap")
        .initial_state("OFFLINE")
        .state("ONLINE", 0)
        .state("BOOTSTRAP", 1)
        .state("OFFLINE", 2)
        .state_lowest("ERROR")
        .state_lowest("DROPPED")
        .transition("ONLINE", "OFFLINE", 0)
        .transition("OFFLINE", "BOOTSTRAP", 1)
        .transition("BOOTSTRAP", "ONLINE", 2)
        .transition_lowest("OFFLINE", "DROPPED")
        .bound("ONLINE", Count::Replicas)
        .build();
    assert_eq!(
        built.record().to_bytes().expect("fits"),
        common::bytes(&fixture("OnlineOfflineWithBootstrap"))
    );
    // Shortest paths: OFFLINE reaches ONLINE through BOOTSTRAP.
    assert_eq!(built.next_state("OFFLINE", "ONLINE"), Some("BOOTSTRAP"));
    assert_eq!(built.next_state("ONLINE", "BOOTSTRAP"), Some("OFFLINE"));
}

#[test]
fn builder_computes_master_slave_paths() {
    let built = StateModelDefinitionBuilder::new("MS")
        .initial_state("OFFLINE")
        .state("MASTER", 0)
        .state("SLAVE", 1)
        .state("OFFLINE", 2)
        .state_lowest("DROPPED")
        .transition("MASTER", "SLAVE", 0)
        .transition("SLAVE", "MASTER", 1)
        .transition("OFFLINE", "SLAVE", 2)
        .transition("SLAVE", "OFFLINE", 3)
        .transition_lowest("OFFLINE", "DROPPED")
        .bound("MASTER", Count::Fixed(1))
        .bound("SLAVE", Count::Replicas)
        .build();
    let ms = builtin::master_slave();
    for from in ["MASTER", "SLAVE", "OFFLINE"] {
        for to in ["MASTER", "SLAVE", "OFFLINE", "DROPPED"] {
            if from != to {
                assert_eq!(
                    built.next_state(from, to),
                    ms.next_state(from, to),
                    "{from}->{to}"
                );
            }
        }
    }
    assert_eq!(built.states(), ["MASTER", "SLAVE", "OFFLINE", "DROPPED"]);
    assert_eq!(
        built.transitions()[..2],
        [("MASTER", "SLAVE"), ("SLAVE", "MASTER")]
    );
    assert_eq!(built.count("MASTER"), Some(Count::Fixed(1)));
    assert_eq!(built.count("OFFLINE"), Some(Count::Unbounded));
}

#[test]
fn dump_definitions_read_back_as_typed() {
    let ls = StateModelDefinition::from(common::record(&fixture("LeaderStandby")));
    assert_eq!(ls.initial_state(), Some("OFFLINE"));
    assert_eq!(ls.top_state(), Some("LEADER"));
    assert_eq!(ls.count("STANDBY"), Some(Count::Replicas));
    assert_eq!(ls.next_state("OFFLINE", "LEADER"), Some("STANDBY"));
    let storage =
        StateModelDefinition::from(common::record(&fixture("STORAGE_DEFAULT_SM_SCHEMATA")));
    assert_eq!(storage.count("MASTER"), Some(Count::Nodes));
    assert_eq!(storage.state_count_map(4, 3).get("MASTER"), Some(&4));
    let task = StateModelDefinition::from(common::record(&fixture("Task")));
    assert_eq!(task.next_state("INIT", "COMPLETED"), Some("RUNNING"));
}
