//! The best possible state of every replica of a resource — Helix's
//! `BestPossibleStateCalcStage` with its SEMI_AUTO, FULL_AUTO and
//! CUSTOMIZED rebalancers and the shared per-partition algorithm
//! (`AbstractRebalancer.computeBestPossibleStateForPartition`).

use std::collections::{BTreeMap, BTreeSet};

use strand_model::records::{DROPPED, ERROR};
use strand_model::{IdealState, RebalanceMode, StateModelDefinition};
use tracing::warn;

use crate::delay;
use crate::placement::{self, PlacementInput};
use crate::snapshot::Snapshot;

/// Instance → state for one partition.
pub type PartitionMap = BTreeMap<String, String>;
/// Partition → [`PartitionMap`] for one resource.
pub type ResourceAssignment = BTreeMap<String, PartitionMap>;
/// Partition → preference list.
pub type PreferenceLists = BTreeMap<String, Vec<String>>;

/// The outcome for one resource.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BestPossible {
    /// Desired state per replica.
    pub assignment: ResourceAssignment,
    /// The preference lists used (FULL_AUTO: computed; SEMI_AUTO: given).
    pub preference_lists: PreferenceLists,
}

/// Computes the best possible states of every partition of `resource`.
/// `previous` holds the FULL_AUTO preference lists of the last run (empty
/// on a fresh controller: the current holders are used instead). Returns
/// `None` for resources Strand does not rebalance (USER_DEFINED, TASK) or
/// whose state model is unknown.
pub fn compute(
    snapshot: &Snapshot,
    resource: &str,
    previous: &PreferenceLists,
) -> Option<BestPossible> {
    let preference_lists = preference_lists(snapshot, resource, previous)?;
    let partitions = snapshot.partitions(resource);
    let assignment = compute_partitions(
        snapshot,
        resource,
        &preference_lists,
        partitions.iter().map(String::as_str),
    )?;
    Some(BestPossible {
        assignment,
        preference_lists,
    })
}

/// The preference lists of `resource`: SEMI_AUTO's as written (with
/// `ANY_LIVEINSTANCE` expanded), FULL_AUTO's from a placement that moves
/// as little as possible from `previous`, none for CUSTOMIZED resources
/// and resources whose ideal state is gone. `None` when the resource is
/// not rebalanced (see [`compute`]).
///
/// This is the only part of a resource's decisions that looks at every
/// partition at once; [`compute_partitions`] is per partition.
pub fn preference_lists(
    snapshot: &Snapshot,
    resource: &str,
    previous: &PreferenceLists,
) -> Option<PreferenceLists> {
    let model_name = snapshot.model_name(resource)?;
    let Some(model) = snapshot.models.get(model_name) else {
        warn!(
            resource,
            model = model_name,
            "state model definition missing; resource skipped"
        );
        return None;
    };
    let Some(ideal) = snapshot.ideal_states.get(resource) else {
        return Some(PreferenceLists::new());
    };
    match ideal.rebalance_mode() {
        RebalanceMode::Customized => Some(PreferenceLists::new()),
        RebalanceMode::SemiAuto => Some(semi_auto_lists(snapshot, ideal)),
        RebalanceMode::FullAuto => {
            Some(full_auto_lists(snapshot, resource, ideal, model, previous))
        }
        other => {
            warn!(
                resource,
                mode = other.as_str(),
                "rebalance mode not supported; resource skipped"
            );
            None
        }
    }
}

/// The best possible states of the given partitions of `resource`, from
/// its preference lists (see [`preference_lists`]). Partitions the
/// resource no longer has get every replica dropped. `None` when the
/// resource is not rebalanced.
pub fn compute_partitions<'p>(
    snapshot: &Snapshot,
    resource: &str,
    lists: &PreferenceLists,
    partitions: impl IntoIterator<Item = &'p str>,
) -> Option<ResourceAssignment> {
    let model_name = snapshot.model_name(resource)?;
    let model = snapshot.models.get(model_name)?;
    let Some(ideal) = snapshot.ideal_states.get(resource) else {
        // The resource is gone: drop every replica.
        return Some(
            partitions
                .into_iter()
                .map(|p| (p.to_owned(), drop_every_replica(snapshot, resource, p)))
                .collect(),
        );
    };
    let assignment = match ideal.rebalance_mode() {
        RebalanceMode::Customized => partitions
            .into_iter()
            .map(|p| {
                (
                    p.to_owned(),
                    customized(snapshot, resource, ideal, model, p),
                )
            })
            .collect(),
        RebalanceMode::SemiAuto | RebalanceMode::FullAuto => partitions
            .into_iter()
            .map(|p| {
                let map = match lists.get(p) {
                    Some(list) => {
                        partition_states(snapshot, resource, p, ideal.enabled(), model, list)
                    }
                    None => drop_every_replica(snapshot, resource, p),
                };
                (p.to_owned(), map)
            })
            .collect(),
        _ => return None,
    };
    Some(assignment)
}

/// Every live holder of the partition → DROPPED (the partition or its
/// resource is gone).
fn drop_every_replica(snapshot: &Snapshot, resource: &str, partition: &str) -> PartitionMap {
    snapshot
        .holders(resource, partition)
        .into_keys()
        .map(|instance| (instance.to_owned(), DROPPED.to_owned()))
        .collect()
}

/// Live, enabled instances that carry the resource's instance group tag
/// (if it has one).
fn candidates(snapshot: &Snapshot, ideal: &IdealState) -> BTreeSet<String> {
    let tag = ideal.instance_group_tag();
    snapshot
        .assignable()
        .into_iter()
        .filter(|i| match tag {
            Some(tag) => snapshot.configs.get(i).is_some_and(|c| c.contains_tag(tag)),
            None => true,
        })
        .collect()
}

fn semi_auto_lists(snapshot: &Snapshot, ideal: &IdealState) -> PreferenceLists {
    let all: Vec<String> = candidates(snapshot, ideal).into_iter().collect();
    ideal
        .partitions()
        .into_iter()
        .map(|p| {
            let list = ideal.preference_list(p).unwrap_or_default();
            let list = if IdealState::is_any_live_instance(list) {
                all.clone()
            } else {
                list.to_vec()
            };
            (p.to_owned(), list)
        })
        .collect()
}

fn full_auto_lists(
    snapshot: &Snapshot,
    resource: &str,
    ideal: &IdealState,
    model: &StateModelDefinition,
    previous: &PreferenceLists,
) -> PreferenceLists {
    let partitions: Vec<String> = ideal.partitions().into_iter().map(str::to_owned).collect();
    let instances = candidates(snapshot, ideal);
    // Without a previous result, start from who holds what now, the
    // highest-priority state first.
    let from_holders;
    let previous = if previous.is_empty() {
        from_holders = partitions
            .iter()
            .map(|p| (p.clone(), holders_by_priority(snapshot, resource, p, model)))
            .collect::<PreferenceLists>();
        &from_holders
    } else {
        previous
    };
    if snapshot.maintenance {
        // Maintenance mode (Helix's `MaintenanceRebalancer`): nothing new is
        // placed and no replica moves; each partition's list is who holds
        // it now, on instances that can still serve — a returning
        // instance's replica, carried over into its new session as
        // OFFLINE, included, so it is recovered.
        return partitions
            .iter()
            .map(|p| {
                let list = maintenance_list(snapshot, resource, p, model, previous.get(p))
                    .into_iter()
                    .filter(|i| instances.contains(i))
                    .collect();
                (p.clone(), list)
            })
            .collect();
    }
    let max_per_instance = ideal
        .max_partitions_per_instance()
        .and_then(|m| usize::try_from(m).ok())
        .filter(|&m| m > 0);
    // Delayed rebalance: offline or disabled instances within the delay
    // stay placed.
    let tag = ideal.instance_group_tag();
    let kept = delay::delay_ms(snapshot, ideal)
        .map(|delay| {
            delay::kept_inactive(snapshot, delay, |instance| match tag {
                Some(tag) => snapshot
                    .configs
                    .get(instance)
                    .is_some_and(|c| c.contains_tag(tag)),
                None => true,
            })
        })
        .unwrap_or_default();
    let mut active = instances.clone();
    active.extend(kept.keys().cloned());
    let replicas = ideal
        .replicas()
        .map(|r| r.resolve(active.len()))
        .unwrap_or(0);
    let ideal_lists = placement::place(&PlacementInput {
        partitions: &partitions,
        instances: &instances,
        replicas,
        previous,
        max_per_instance,
    });
    if kept.is_empty() {
        return ideal_lists;
    }
    let delayed_lists = placement::place(&PlacementInput {
        partitions: &partitions,
        instances: &active,
        replicas,
        previous,
        max_per_instance,
    });
    let min_active = delay::min_active_replicas(snapshot, resource, ideal, replicas);
    if min_active >= replicas {
        return ideal_lists;
    }
    delay::final_lists(&ideal_lists, &delayed_lists, &instances, min_active)
}

/// Live holders of a partition, highest-priority state first, initial
/// state holders excluded (they hold nothing worth keeping).
fn holders_by_priority(
    snapshot: &Snapshot,
    resource: &str,
    partition: &str,
    model: &StateModelDefinition,
) -> Vec<String> {
    let initial = model.initial_state().unwrap_or_default();
    let mut holders: Vec<(u32, String)> = snapshot
        .holders(resource, partition)
        .into_iter()
        .filter(|(_, state)| *state != initial && *state != ERROR && *state != DROPPED)
        .map(|(instance, state)| {
            (
                model.priority(state).unwrap_or(u32::MAX),
                instance.to_owned(),
            )
        })
        .collect();
    holders.sort();
    holders.into_iter().map(|(_, i)| i).collect()
}

/// A partition's list in maintenance mode: the instances holding it (any
/// state), by state priority, ties in the previous list's order, then by
/// name (Helix's two sorts in `MaintenanceRebalancer`).
fn maintenance_list(
    snapshot: &Snapshot,
    resource: &str,
    partition: &str,
    model: &StateModelDefinition,
    previous: Option<&Vec<String>>,
) -> Vec<String> {
    let rank = |instance: &str| {
        previous
            .and_then(|list| list.iter().position(|i| i == instance))
            .unwrap_or(usize::MAX)
    };
    let mut holders: Vec<(u32, usize, String)> = snapshot
        .holders(resource, partition)
        .into_iter()
        .filter(|(_, state)| *state != DROPPED)
        .map(|(instance, state)| {
            (
                model.priority(state).unwrap_or(u32::MAX),
                rank(instance),
                instance.to_owned(),
            )
        })
        .collect();
    holders.sort();
    holders.into_iter().map(|(_, _, i)| i).collect()
}

/// `computeBestPossibleStateForPartition`.
fn partition_states(
    snapshot: &Snapshot,
    resource: &str,
    partition: &str,
    resource_enabled: bool,
    model: &StateModelDefinition,
    list: &[String],
) -> PartitionMap {
    let initial = model.initial_state().unwrap_or_default().to_owned();
    let holders = snapshot.holders(resource, partition);
    let mut map = PartitionMap::new();

    if !resource_enabled {
        for (instance, state) in holders {
            let target = if state == ERROR {
                ERROR.to_owned()
            } else {
                initial.clone()
            };
            map.insert(instance.to_owned(), target);
        }
        return map;
    }

    // Replicas on instances that are no longer listed are dropped — those
    // on an evacuating instance only once the listed replicas are ready
    // (below), so a drain never leaves a partition short of replicas.
    let mut evacuated: Vec<(&str, &str)> = Vec::new();
    for (instance, state) in &holders {
        if !list.iter().any(|listed| listed == instance) {
            if snapshot.is_evacuating(instance) && snapshot.is_live(instance) && *state != ERROR {
                evacuated.push((instance, state));
            } else {
                map.insert((*instance).to_owned(), DROPPED.to_owned());
            }
        }
    }

    // Listed but unusable: ERROR stays, others go to the initial state.
    let usable = |instance: &String| {
        snapshot.is_live(instance)
            && snapshot.is_enabled(instance)
            && !snapshot.is_partition_disabled(instance, resource, partition)
    };
    for instance in list.iter().filter(|i| !usable(i)) {
        if let Some(state) = holders.get(instance.as_str()) {
            let target = if *state == ERROR { ERROR } else { &initial };
            map.insert(instance.clone(), target.to_owned());
        }
    }

    // ERROR replicas keep ERROR and take no slot. Evacuating instances
    // come last, so every state — the top state first — goes to another
    // replica when there is one.
    let mut candidates: Vec<&String> = Vec::new();
    for instance in list.iter().filter(|i| usable(i)) {
        if holders.get(instance.as_str()).is_some_and(|s| *s == ERROR) {
            map.insert(instance.clone(), ERROR.to_owned());
        } else if !candidates.contains(&instance) {
            candidates.push(instance);
        }
    }
    candidates.sort_by_key(|i| snapshot.is_evacuating(i));

    let counts = model.state_count_map(candidates.len(), list.len());
    let top = model.top_state().unwrap_or_default().to_owned();
    let second_tops: Vec<&str> = model.second_top_states();
    let mut assigned: BTreeSet<&String> = BTreeSet::new();
    for state in model.states() {
        let Some(&count) = counts.get(state) else {
            continue;
        };
        for _ in 0..count {
            let Some(mut chosen) = candidates.iter().copied().find(|i| !assigned.contains(*i))
            else {
                break;
            };
            // Top-state stickiness: while the preferred instance is not
            // top or one hop away, an unassigned instance that holds the
            // top state now keeps it, so the handoff happens once, when
            // the preferred instance is ready. (Only a current top-state
            // holder counts: moving the top state to whichever replica
            // became second-top first would hand it over twice — once
            // there, once back — on every cold start.)
            if *state == top {
                let ready = |i: &String| {
                    holders
                        .get(i.as_str())
                        .is_some_and(|s| *s == top || second_tops.contains(s))
                };
                if !ready(chosen)
                    && let Some(holder) = candidates.iter().copied().find(|i| {
                        !assigned.contains(*i) && holders.get(i.as_str()).is_some_and(|s| *s == top)
                    })
                {
                    chosen = holder;
                }
            }
            assigned.insert(chosen);
            map.insert(chosen.clone(), state.clone());
        }
    }
    // Listed, usable, but beyond every state's count: initial state.
    for instance in candidates {
        if !assigned.contains(instance) && holders.contains_key(instance.as_str()) {
            map.insert(instance.clone(), initial.clone());
        }
    }
    keep_evacuated(&mut map, &holders, &evacuated, model, &initial);
    map
}

/// What unlisted replicas on evacuating instances become (Helix's
/// `DelayedAutoRebalancer` keeps current holders "to avoid zero replica
/// during movement"): dropped once every listed replica is in its state;
/// until then kept — the top state too while the replica meant to take
/// it is not one hop away, so the handoff leaves no gap longer than one
/// demotion and one promotion.
fn keep_evacuated(
    map: &mut PartitionMap,
    holders: &BTreeMap<&str, &str>,
    evacuated: &[(&str, &str)],
    model: &StateModelDefinition,
    initial: &str,
) {
    if evacuated.is_empty() {
        return;
    }
    let top = model.top_state().unwrap_or_default();
    let second_tops = model.second_top_states();
    // Ready: some replica stays, and every one that stays is in its state.
    let ready = map.values().any(|want| want != DROPPED)
        && map.iter().all(|(instance, want)| {
            want == DROPPED || holders.get(instance.as_str()) == Some(&want.as_str())
        });
    let next_top_ready = map.iter().any(|(instance, want)| {
        want == top
            && holders
                .get(instance.as_str())
                .is_some_and(|s| *s == top || second_tops.contains(s))
    });
    let wants_top = map.values().any(|want| want == top);
    for (instance, state) in evacuated {
        let target = if ready || *state == initial {
            DROPPED
        } else if *state == top && (!next_top_ready || !wants_top) {
            top
        } else if *state == top {
            second_tops.first().copied().unwrap_or(initial)
        } else {
            state
        };
        map.insert((*instance).to_owned(), target.to_owned());
    }
}

/// `CustomRebalancer` for one partition: the ideal state's map, restricted
/// to live, assignable instances; state counts are not enforced here.
fn customized(
    snapshot: &Snapshot,
    resource: &str,
    ideal: &IdealState,
    model: &StateModelDefinition,
    partition: &str,
) -> PartitionMap {
    let initial = model.initial_state().unwrap_or_default().to_owned();
    let holders = snapshot.holders(resource, partition);
    let wanted = ideal.instance_state_map(partition);
    let mut map = PartitionMap::new();
    for (instance, state) in &holders {
        let listed = wanted.is_some_and(|w| w.contains_key(*instance));
        let disabled = !snapshot.is_enabled(instance)
            || snapshot.is_partition_disabled(instance, resource, partition);
        if !listed && !disabled {
            map.insert((*instance).to_owned(), DROPPED.to_owned());
        } else if (disabled || !ideal.enabled()) && *state != ERROR {
            map.insert((*instance).to_owned(), initial.clone());
        }
    }
    if let Some(wanted) = wanted {
        for (instance, state) in wanted {
            if !snapshot.is_live(instance) || map.contains_key(instance) {
                continue;
            }
            let target = if holders.get(instance.as_str()).is_some_and(|s| *s == ERROR) {
                ERROR.to_owned()
            } else {
                state.clone()
            };
            map.insert(instance.clone(), target);
        }
    }
    map
}
