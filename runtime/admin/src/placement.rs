//! Initial placement for `rebalance` of SEMI_AUTO and CUSTOMIZED
//! resources: preference lists and the informational instance→state maps,
//! as `ClusterSetup.rebalanceStorageCluster` writes them.
//!
//! Helix computes them with `DefaultIdealStateCalculator`, which shuffles
//! with Java's `Random`; Strand uses a deterministic rotation with the same
//! properties that matter to the controller: every partition gets
//! `replicas` distinct instances, and the first entries (the top states)
//! are spread evenly over the sorted instances.

use strand_model::{Count, StateModelDefinition};

/// One partition's placement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionPlacement {
    /// `<resource>_<index>`.
    pub partition: String,
    /// Instances in preference order.
    pub preference_list: Vec<String>,
    /// Instance → state, in preference order.
    pub states: Vec<(String, String)>,
}

/// Places `partitions` partitions of `resource` with `replicas` replicas
/// each on `instances` (which must number at least `replicas`).
///
/// Linear in `partitions × replicas`: each partition looks at no more
/// instances than it places (plus the rare fill-up after a collision).
pub fn place(
    resource: &str,
    partitions: u32,
    replicas: usize,
    instances: &[String],
    model: &StateModelDefinition,
) -> Vec<PartitionPlacement> {
    let mut sorted = instances.to_vec();
    sorted.sort();
    let n = sorted.len();
    let wanted = replicas.min(n);
    // `chosen_by[i] == p + 1` when partition `p` has taken instance `i`: a
    // membership test without clearing anything between partitions.
    let mut chosen_by = vec![0usize; n];
    (0..partitions as usize)
        .map(|p| {
            let mut list: Vec<usize> = Vec::with_capacity(wanted);
            let mut take = |index: usize, list: &mut Vec<usize>| {
                if chosen_by[index] != p + 1 {
                    chosen_by[index] = p + 1;
                    list.push(index);
                }
            };
            // Rotate by partition for the top state, and by the partition
            // "round" for the rest so replicas of consecutive partitions
            // do not all follow the same order.
            let round = p.checked_div(n).unwrap_or(0);
            for r in 0..wanted {
                let offset = if r == 0 {
                    0
                } else {
                    1 + (r - 1 + round) % (n - 1).max(1)
                };
                take((p + offset) % n, &mut list);
            }
            // Fill up deterministically if the rotation collided.
            for k in 0..n {
                if list.len() >= wanted {
                    break;
                }
                take((p + k) % n, &mut list);
            }
            let list: Vec<String> = list.into_iter().map(|i| sorted[i].clone()).collect();
            let states = assign_states(&list, model);
            PartitionPlacement {
                partition: format!("{resource}_{p}"),
                preference_list: list,
                states,
            }
        })
        .collect()
}

/// States in priority order, each for as many instances as its count
/// allows (`R` and `N` mean all remaining ones here).
fn assign_states(list: &[String], model: &StateModelDefinition) -> Vec<(String, String)> {
    let mut states = Vec::with_capacity(list.len());
    let mut remaining = list.iter();
    for state in model.states() {
        if Some(state.as_str()) == model.initial_state() {
            break;
        }
        let take = match model.count(state) {
            Some(Count::Fixed(n)) => n as usize,
            Some(Count::Replicas) | Some(Count::Nodes) => list.len(),
            _ => 0,
        };
        for instance in remaining.by_ref().take(take) {
            states.push((instance.clone(), state.to_owned()));
        }
    }
    states
}

#[cfg(test)]
mod tests {
    use super::*;
    use strand_model::builtin;

    fn instances(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("localhost_{}", 12000 + i)).collect()
    }

    #[test]
    fn every_partition_gets_distinct_instances_and_masters_spread_evenly() {
        let model = builtin::master_slave();
        let placed = place("TestDB", 12, 3, &instances(4), &model);
        assert_eq!(placed.len(), 12);
        let mut masters = std::collections::BTreeMap::new();
        for p in &placed {
            assert_eq!(p.preference_list.len(), 3);
            let mut unique = p.preference_list.clone();
            unique.dedup();
            unique.sort();
            unique.dedup();
            assert_eq!(unique.len(), 3, "{p:?}");
            assert_eq!(p.states[0].1, "MASTER");
            assert!(p.states[1..].iter().all(|(_, s)| s == "SLAVE"));
            *masters.entry(p.preference_list[0].clone()).or_insert(0) += 1;
        }
        assert!(masters.values().all(|&count| count == 3), "{masters:?}");
    }

    #[test]
    fn online_offline_replicas_are_all_online() {
        let model = builtin::online_offline();
        let placed = place("OODB", 2, 3, &instances(3), &model);
        assert!(
            placed
                .iter()
                .all(|p| p.states.iter().all(|(_, s)| s == "ONLINE"))
        );
        assert_eq!(placed[0].partition, "OODB_0");
    }
}
