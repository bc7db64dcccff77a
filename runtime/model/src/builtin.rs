//! Helix's built-in state model definitions, producing exactly the records
//! `ClusterSetup.addCluster` writes to `/<C>/STATEMODELDEFS/<id>` in Helix 2.0.1
//! (same JSON, same key order, same bytes).

use crate::java;
use crate::records::state_model::{add_default_transitions, keys};
use crate::records::state_model_builder::shortest_paths;
use crate::records::{Count, StateModelDefinition, StateModelDefinitionBuilder};
use crate::znrecord::ZNRecord;

/// Id of the MasterSlave model.
pub const MASTER_SLAVE: &str = "MasterSlave";
/// Id of the LeaderStandby model.
pub const LEADER_STANDBY: &str = "LeaderStandby";
/// Id of the OnlineOffline model.
pub const ONLINE_OFFLINE: &str = "OnlineOffline";
/// Id of the OnlineOfflineWithBootstrap model.
pub const ONLINE_OFFLINE_WITH_BOOTSTRAP: &str = "OnlineOfflineWithBootstrap";
/// Id of the StorageSchemata model.
pub const STORAGE_SCHEMATA: &str = "STORAGE_DEFAULT_SM_SCHEMATA";
/// Id of the ScheduledTask model.
pub const SCHEDULER_TASK_QUEUE: &str = "SchedulerTaskQueue";
/// Id of the task framework's model.
pub const TASK: &str = "Task";

/// Every built-in definition, in the order of Helix's `BuiltInStateModelDefinitions`.
pub fn all() -> Vec<StateModelDefinition> {
    vec![
        master_slave(),
        leader_standby(),
        storage_schemata(),
        online_offline(),
        online_offline_with_bootstrap(),
        scheduler_task_queue(),
        task(),
    ]
}

/// The built-in definition with this id, if any.
pub fn by_name(name: &str) -> Option<StateModelDefinition> {
    all().into_iter().find(|d| d.id() == name)
}

/// MasterSlave: MASTER (1), SLAVE (R), OFFLINE, DROPPED, ERROR.
pub fn master_slave() -> StateModelDefinition {
    explicit(
        MASTER_SLAVE,
        "OFFLINE",
        &[
            ("MASTER", "1"),
            ("SLAVE", "R"),
            ("OFFLINE", "-1"),
            ("DROPPED", "-1"),
            ("ERROR", "-1"),
        ],
        &[
            (
                "MASTER",
                &[
                    ("SLAVE", "SLAVE"),
                    ("OFFLINE", "SLAVE"),
                    ("DROPPED", "SLAVE"),
                ],
            ),
            (
                "SLAVE",
                &[
                    ("MASTER", "MASTER"),
                    ("OFFLINE", "OFFLINE"),
                    ("DROPPED", "OFFLINE"),
                ],
            ),
            (
                "OFFLINE",
                &[
                    ("SLAVE", "SLAVE"),
                    ("MASTER", "SLAVE"),
                    ("DROPPED", "DROPPED"),
                ],
            ),
            ("ERROR", &[("OFFLINE", "OFFLINE")]),
        ],
        &[
            "MASTER-SLAVE",
            "SLAVE-MASTER",
            "OFFLINE-SLAVE",
            "SLAVE-OFFLINE",
            "OFFLINE-DROPPED",
        ],
    )
}

/// LeaderStandby: LEADER (1), STANDBY (R), OFFLINE, DROPPED.
pub fn leader_standby() -> StateModelDefinition {
    explicit(
        LEADER_STANDBY,
        "OFFLINE",
        &[
            ("LEADER", "1"),
            ("STANDBY", "R"),
            ("OFFLINE", "-1"),
            ("DROPPED", "-1"),
        ],
        &[
            (
                "LEADER",
                &[
                    ("STANDBY", "STANDBY"),
                    ("OFFLINE", "STANDBY"),
                    ("DROPPED", "STANDBY"),
                ],
            ),
            (
                "STANDBY",
                &[
                    ("LEADER", "LEADER"),
                    ("OFFLINE", "OFFLINE"),
                    ("DROPPED", "OFFLINE"),
                ],
            ),
            (
                "OFFLINE",
                &[
                    ("STANDBY", "STANDBY"),
                    ("LEADER", "STANDBY"),
                    ("DROPPED", "DROPPED"),
                ],
            ),
        ],
        &[
            "LEADER-STANDBY",
            "STANDBY-LEADER",
            "OFFLINE-STANDBY",
            "STANDBY-OFFLINE",
            "OFFLINE-DROPPED",
        ],
    )
}

/// OnlineOffline: ONLINE (R), OFFLINE, DROPPED.
pub fn online_offline() -> StateModelDefinition {
    explicit(
        ONLINE_OFFLINE,
        "OFFLINE",
        &[("ONLINE", "R"), ("OFFLINE", "-1"), ("DROPPED", "-1")],
        &[
            ("ONLINE", &[("OFFLINE", "OFFLINE"), ("DROPPED", "OFFLINE")]),
            ("OFFLINE", &[("ONLINE", "ONLINE"), ("DROPPED", "DROPPED")]),
        ],
        &["OFFLINE-ONLINE", "ONLINE-OFFLINE", "OFFLINE-DROPPED"],
    )
}

/// StorageSchemata (id `STORAGE_DEFAULT_SM_SCHEMATA`): MASTER (N), OFFLINE, DROPPED, ERROR.
pub fn storage_schemata() -> StateModelDefinition {
    explicit(
        STORAGE_SCHEMATA,
        "OFFLINE",
        &[
            ("MASTER", "N"),
            ("OFFLINE", "-1"),
            ("DROPPED", "-1"),
            ("ERROR", "-1"),
        ],
        &[
            ("MASTER", &[("OFFLINE", "OFFLINE"), ("DROPPED", "OFFLINE")]),
            ("OFFLINE", &[("MASTER", "MASTER"), ("DROPPED", "DROPPED")]),
            ("ERROR", &[("OFFLINE", "OFFLINE")]),
        ],
        &["MASTER-OFFLINE", "OFFLINE-MASTER"],
    )
}

/// OnlineOfflineWithBootstrap: ONLINE (R), BOOTSTRAP, OFFLINE, then DROPPED, ERROR
/// (built with the builder, as Helix does).
pub fn online_offline_with_bootstrap() -> StateModelDefinition {
    StateModelDefinitionBuilder::new(ONLINE_OFFLINE_WITH_BOOTSTRAP)
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
        .build()
}

/// ScheduledTask (id `SchedulerTaskQueue`): COMPLETED (1), OFFLINE, DROPPED.
pub fn scheduler_task_queue() -> StateModelDefinition {
    computed(
        SCHEDULER_TASK_QUEUE,
        "OFFLINE",
        &[("COMPLETED", "1"), ("OFFLINE", "-1"), ("DROPPED", "-1")],
        &["COMPLETED", "DROPPED", "OFFLINE"],
        &["OFFLINE-COMPLETED", "OFFLINE-DROPPED", "COMPLETED-DROPPED"],
    )
}

/// Task (the task framework's model): INIT, RUNNING, STOPPED, COMPLETED, TIMED_OUT,
/// TASK_ERROR, TASK_ABORTED, DROPPED, all unbounded.
pub fn task() -> StateModelDefinition {
    const STATES: [&str; 8] = [
        "INIT",
        "RUNNING",
        "STOPPED",
        "COMPLETED",
        "TIMED_OUT",
        "TASK_ERROR",
        "TASK_ABORTED",
        "DROPPED",
    ];
    let counts: Vec<(&str, &str)> = STATES.iter().map(|s| (*s, "-1")).collect();
    computed(
        TASK,
        "INIT",
        &counts,
        &STATES,
        &[
            "INIT-RUNNING",
            "RUNNING-STOPPED",
            "RUNNING-COMPLETED",
            "RUNNING-TIMED_OUT",
            "RUNNING-TASK_ERROR",
            "RUNNING-TASK_ABORTED",
            "STOPPED-RUNNING",
            "INIT-DROPPED",
            "RUNNING-DROPPED",
            "COMPLETED-DROPPED",
            "STOPPED-DROPPED",
            "TIMED_OUT-DROPPED",
            "TASK_ERROR-DROPPED",
            "TASK_ABORTED-DROPPED",
            "RUNNING-INIT",
            "COMPLETED-INIT",
            "STOPPED-INIT",
            "TIMED_OUT-INIT",
            "TASK_ERROR-INIT",
            "TASK_ABORTED-INIT",
        ],
    )
}

/// A definition whose `.next` tables are written out by hand (Helix's
/// `generateConfigFor*`); each entry list is in Helix's `put` order.
fn explicit(
    name: &str,
    initial: &str,
    counts: &[(&str, &str)],
    next: &[(&str, &[(&str, &str)])],
    transitions: &[&str],
) -> StateModelDefinition {
    let mut record = base(name, initial, counts, transitions);
    for (state, entries) in next {
        record.set_map_field(
            format!("{state}{}", keys::NEXT_SUFFIX),
            java::hashmap_of(entries.iter().copied()),
        );
    }
    add_default_transitions(&mut record);
    StateModelDefinition::from(record)
}

/// A definition whose `.next` tables Helix computes with its transition-table builder
/// over `fw_states` and the transitions in list order.
fn computed(
    name: &str,
    initial: &str,
    counts: &[(&str, &str)],
    fw_states: &[&str],
    transitions: &[&str],
) -> StateModelDefinition {
    let mut record = base(name, initial, counts, transitions);
    let pairs: Vec<(&str, &str)> = transitions
        .iter()
        .filter_map(|t| t.split_once('-'))
        .collect();
    let table = shortest_paths(fw_states, &pairs);
    for (state, _) in counts {
        if let Some(next) = table.get(*state) {
            record.set_map_field(
                format!("{state}{}", keys::NEXT_SUFFIX),
                java::hashmap_of(next.clone()),
            );
        }
    }
    add_default_transitions(&mut record);
    StateModelDefinition::from(record)
}

fn base(name: &str, initial: &str, counts: &[(&str, &str)], transitions: &[&str]) -> ZNRecord {
    let mut record = ZNRecord::new(name);
    record.set_simple(keys::INITIAL_STATE, initial);
    record.set_list(keys::STATE_PRIORITY_LIST, counts.iter().map(|(s, _)| *s));
    for (state, count) in counts {
        record.set_map_field(
            format!("{state}{}", keys::META_SUFFIX),
            java::hashmap_of([(keys::COUNT, *count)]),
        );
    }
    record.set_list(
        keys::STATE_TRANSITION_PRIORITYLIST,
        transitions.iter().copied(),
    );
    record
}
