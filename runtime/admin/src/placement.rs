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
    (0..partitions as usize)
        .map(|p| {
            // Rotate by partition for the top state, and by the partition
            // "round" for the rest so replicas of consecutive partitions
            // do not all follow the same order.
            let round = p.checked_div(n).unwrap_or(0);
            let mut list = Vec::with_capacity(replicas);
            for r in 0..replicas.min(n) {
                let offset = if r == 0 {
                    0
                } else {
                    1 + (r - 1 + round) % (n - 1).max(1)
                };
                let candidate = &sorted[(p + offset) % n];
                if !list.contains(candidate) {
                    list.push(candidate.clone());
                }
            }
            // Fill up deterministically if the rotation collided.
            for candidate in sorted.iter().cycle().skip(p).take(n) {
                if list.len() >= replicas.min(n) {
                    break;
                }
                if !list.contains(candidate) {
                    list.push(candidate.clone());
                }
            }
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
