//! `ST_REBALANCE_TYPE` of FULL_AUTO messages, as Helix 2.0.1's
//! `IntermediateStateCalcStage.computeIntermediatePartitionState` sets it
//! (`helix-core/src/main/java/org/apache/helix/controller/stages/IntermediateStateCalcStage.java`):
//! for each partition with new messages, the messages in priority order
//! (higher target state first, then preference-list order, then target
//! name) are labelled `RECOVERY_REBALANCE` when the partition's current
//! states — with the earlier messages of the round applied — still lack a
//! replica in the message's target state that the state model requires
//! (`getRequiredStates`: the state counts for the preference list's enabled
//! live instances and `MIN_ACTIVE_REPLICAS`, else the replica count), and
//! `LOAD_REBALANCE` otherwise. Other rebalance modes get no label, as in
//! Helix.

use std::collections::BTreeMap;

use strand_model::records::RebalanceType;
use strand_model::{Message, RebalanceMode, Replicas, StateModelDefinition};

use crate::best_possible::PreferenceLists;
use crate::snapshot::Snapshot;

/// Labels the new messages of `resource` (a round's, all of this
/// resource) with their rebalance type; `lists` are the preference lists
/// the round used.
pub fn label(
    snapshot: &Snapshot,
    resource: &str,
    lists: &PreferenceLists,
    messages: &mut [Message],
) {
    let Some(ideal) = snapshot.ideal_states.get(resource) else {
        return;
    };
    if ideal.rebalance_mode() != RebalanceMode::FullAuto || messages.is_empty() {
        return;
    }
    let Some(model) = snapshot
        .model_name(resource)
        .and_then(|name| snapshot.models.get(name))
    else {
        return;
    };
    let mut by_partition: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (index, message) in messages.iter().enumerate() {
        if message.resource_name() == Some(resource)
            && let Some(partition) = message.partition_name()
        {
            by_partition
                .entry(partition.to_owned())
                .or_default()
                .push(index);
        }
    }
    for (partition, mut indices) in by_partition {
        let list = lists.get(&partition);
        let required = required_states(snapshot, model, ideal, list);
        let rank = |instance: &str| list.and_then(|l| l.iter().position(|i| i == instance));
        indices.sort_by(|&a, &b| {
            let (a, b) = (&messages[a], &messages[b]);
            let (to_a, to_b) = (
                a.to_state().unwrap_or_default(),
                b.to_state().unwrap_or_default(),
            );
            let (tgt_a, tgt_b) = (
                a.tgt_name().unwrap_or_default(),
                b.tgt_name().unwrap_or_default(),
            );
            if to_a == to_b {
                match (rank(tgt_a), rank(tgt_b)) {
                    (Some(x), Some(y)) => x.cmp(&y),
                    _ => tgt_a.cmp(tgt_b),
                }
            } else {
                let priority = |s| model.priority(s).unwrap_or(u32::MAX);
                priority(to_a).cmp(&priority(to_b))
            }
        });
        let mut derived: BTreeMap<String, String> = snapshot
            .holders(resource, &partition)
            .into_iter()
            .map(|(i, s)| (i.to_owned(), s.to_owned()))
            .collect();
        for index in indices {
            let message = &mut messages[index];
            let to = message.to_state().unwrap_or_default().to_owned();
            let mut missing = required.clone();
            for state in derived.values() {
                if let Some(count) = missing.get_mut(state.as_str()) {
                    *count = count.saturating_sub(1);
                }
            }
            let kind = if missing.get(to.as_str()).is_some_and(|n| *n > 0) {
                RebalanceType::RecoveryRebalance
            } else {
                RebalanceType::LoadRebalance
            };
            message.set_rebalance_type(kind);
            if let Some(target) = message.tgt_name() {
                derived.insert(target.to_owned(), to);
            }
        }
    }
}

/// Helix's `getRequiredStates`: state → replicas the model requires with
/// the preference list's enabled live instances as candidates (every
/// enabled live instance without a list).
fn required_states(
    snapshot: &Snapshot,
    model: &StateModelDefinition,
    ideal: &strand_model::IdealState,
    list: Option<&Vec<String>>,
) -> BTreeMap<String, usize> {
    let serving = |instance: &String| snapshot.is_live(instance) && snapshot.is_enabled(instance);
    let candidates = match list {
        Some(list) => list.iter().filter(|i| serving(i)).count(),
        None => snapshot.live.keys().filter(|i| serving(i)).count(),
    };
    let list_len = list.map_or(0, Vec::len);
    let replicas = match ideal.min_active_replicas() {
        Some(min) if min != -1 => usize::try_from(min).unwrap_or(0),
        _ => match ideal.replicas() {
            Some(Replicas::Count(n)) => usize::try_from(n).unwrap_or(0),
            Some(Replicas::AnyLiveInstance) | None => list_len,
        },
    };
    model
        .state_count_map(candidates, replicas)
        .into_iter()
        .collect()
}
