//! The built-in state models: definitions equal to Helix's built-ins
//! (`helix-core/src/main/java/org/apache/helix/model/{MasterSlave,OnlineOffline,LeaderStandby}SMD.java`)
//! and transitions through the host.

use std::sync::Arc;

use strand_devcluster::plugins::names;
use strand_model::Count;
use strand_plugin_host::{
    CallError, CallOptions, InMemoryCustomizedState, PluginOptions, Rejection, StateModelSpec,
};

use crate::common::{ctx, registry_with};

fn definition(plugin: &str) -> StateModelSpec {
    registry_with("m", plugin, PluginOptions::default())
        .state_model("m")
        .expect("state model")
        .definition()
}

fn counts(d: &StateModelSpec) -> Vec<(String, String)> {
    d.states
        .iter()
        .map(|s| (s.name.clone(), s.count.to_field()))
        .collect()
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

#[test]
fn master_slave_definition_is_helix_builtin() {
    let d = definition(names::MASTER_SLAVE);
    assert_eq!(d.name, "MasterSlave");
    assert_eq!(d.initial_state, "OFFLINE");
    assert_eq!(
        counts(&d),
        pairs(&[
            ("MASTER", "1"),
            ("SLAVE", "R"),
            ("OFFLINE", "-1"),
            ("DROPPED", "-1"),
            ("ERROR", "-1")
        ])
    );
    assert_eq!(
        d.transition_priority_list(),
        [
            "MASTER-SLAVE",
            "SLAVE-MASTER",
            "OFFLINE-SLAVE",
            "SLAVE-OFFLINE",
            "OFFLINE-DROPPED"
        ]
    );
    assert_eq!(d.version, "0.1.0");
}

#[test]
fn online_offline_definition_is_helix_builtin() {
    let d = definition(names::ONLINE_OFFLINE);
    assert_eq!(d.name, "OnlineOffline");
    assert_eq!(d.initial_state, "OFFLINE");
    assert_eq!(
        counts(&d),
        pairs(&[("ONLINE", "R"), ("OFFLINE", "-1"), ("DROPPED", "-1")])
    );
    assert_eq!(
        d.transition_priority_list(),
        ["OFFLINE-ONLINE", "ONLINE-OFFLINE", "OFFLINE-DROPPED"]
    );
}

#[test]
fn leader_standby_definition_is_helix_builtin() {
    let d = definition(names::LEADER_STANDBY);
    assert_eq!(d.name, "LeaderStandby");
    assert_eq!(d.initial_state, "OFFLINE");
    assert_eq!(
        counts(&d),
        pairs(&[
            ("LEADER", "1"),
            ("STANDBY", "R"),
            ("OFFLINE", "-1"),
            ("DROPPED", "-1")
        ])
    );
    assert_eq!(
        d.transition_priority_list(),
        [
            "LEADER-STANDBY",
            "STANDBY-LEADER",
            "OFFLINE-STANDBY",
            "STANDBY-OFFLINE",
            "OFFLINE-DROPPED"
        ]
    );
    assert_eq!(d.states[0].count, Count::Fixed(1));
}

#[test]
fn transition_runs_through_the_host_and_writes_customized_state() {
    let store = Arc::new(InMemoryCustomizedState::new());
    let options = PluginOptions {
        customized_state: Some(store.clone()),
        ..PluginOptions::default()
    };
    let registry = registry_with("ms", names::MASTER_SLAVE, options);
    let model = registry.state_model("ms").expect("state model");

    let mut c = ctx("db_0", "OFFLINE", "SLAVE");
    c.config
        .push(("strand.customized-state-type".into(), "READINESS".into()));
    let out = model
        .transition(&c, &CallOptions::default())
        .expect("transition");
    assert_eq!(out.note, "MasterSlave 0.1.0: OFFLINE->SLAVE");
    assert_eq!(out.version.version, "0.1.0");
    let state = store
        .snapshot("READINESS", "db", "db_0")
        .expect("customized state written");
    assert_eq!(
        state.get("CURRENT_STATE").map(String::as_str),
        Some("SLAVE")
    );
    assert!(
        state
            .get("START_TIME")
            .is_some_and(|t| t.parse::<u64>().is_ok()),
        "host stamps START_TIME"
    );

    // Implicit Helix transitions are allowed, others are refused as illegal.
    assert!(
        model
            .transition(&ctx("db_0", "ERROR", "OFFLINE"), &CallOptions::default())
            .is_ok()
    );
    match model.transition(&ctx("db_0", "OFFLINE", "MASTER"), &CallOptions::default()) {
        Err(CallError::Rejected {
            kind: Rejection::IllegalTransition,
            message,
        }) => {
            assert!(message.contains("OFFLINE->MASTER"), "{message}");
        }
        other => panic!("expected an illegal transition, got {other:?}"),
    }
}

#[test]
fn calls_reuse_instances_and_run_in_parallel() {
    let registry = registry_with("oo", names::ONLINE_OFFLINE, PluginOptions::default());
    let model = registry.state_model("oo").expect("state model");
    std::thread::scope(|s| {
        for t in 0..4 {
            let model = model.clone();
            s.spawn(move || {
                for i in 0..200 {
                    let c = ctx(&format!("db_{t}_{i}"), "OFFLINE", "ONLINE");
                    model
                        .transition(&c, &CallOptions::default())
                        .expect("transition");
                }
            });
        }
    });
    // At most one instance per concurrent caller was created and pooled.
    let idle = model.idle_instances();
    assert!((1..=4).contains(&idle), "idle instances: {idle}");
}
