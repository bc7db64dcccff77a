//! The plugins' definitions against strand-model's Helix built-ins (the
//! records `ClusterSetup.addCluster` writes, byte-exact): the plugin world
//! must be able to reproduce them exactly.

use strand_devcluster::plugins::names;
use strand_model::builtin;
use strand_plugin_host::PluginOptions;

use crate::common::registry_with;

fn assert_same(plugin: &str, helix: &strand_model::records::StateModelDefinition) {
    let registry = registry_with("m", plugin, PluginOptions::default());
    let ours = registry.state_model("m").expect("state model").definition();
    assert_eq!(ours.name, helix.id(), "{plugin}: name");
    assert_eq!(
        Some(ours.initial_state.as_str()),
        helix.initial_state(),
        "{plugin}: initial state"
    );
    assert_eq!(
        ours.state_priority_list(),
        helix.states(),
        "{plugin}: state priority list"
    );
    for s in &ours.states {
        assert_eq!(
            Some(s.count.to_field()),
            helix.count(&s.name).map(|c| c.to_field()),
            "{plugin}: count of {}",
            s.name
        );
    }
    let transitions: Vec<(&str, &str)> = ours
        .transitions
        .iter()
        .map(|t| (t.from.as_str(), t.to.as_str()))
        .collect();
    assert_eq!(
        transitions,
        helix.transitions(),
        "{plugin}: transition priority list"
    );
}

#[test]
fn plugins_reproduce_helix_builtin_definitions() {
    assert_same(names::MASTER_SLAVE, &builtin::master_slave());
    assert_same(names::ONLINE_OFFLINE, &builtin::online_offline());
    assert_same(names::LEADER_STANDBY, &builtin::leader_standby());
}
