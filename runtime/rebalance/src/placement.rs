//! FULL_AUTO placement: preference lists that spread replicas, and top
//! states (masters, leaders) separately, evenly over the assignable
//! instances, moving as few replicas as possible when instances come and
//! go.
//!
//! The role of Helix's `AutoRebalanceStrategy`, with the same contract:
//! per-instance capacity is ⌈replicas × partitions / instances⌉, existing
//! replicas stay where they are while their instance is under capacity,
//! orphans go to the least-loaded instances, and the first entry of each
//! list (the top state's preferred holder) is balanced on its own.
//!
//! # Guarantees
//! * Deterministic: the same inputs give the same lists.
//! * Each list has `min(replicas, instances)` distinct instances.
//! * Replica loads differ by at most one between instances when every
//!   instance can take any partition.

use std::collections::{BTreeMap, BTreeSet};

/// Inputs of a placement.
#[derive(Debug, Clone)]
pub struct PlacementInput<'a> {
    /// The resource's partitions.
    pub partitions: &'a [String],
    /// Assignable instances (live, enabled, tagged if the resource asks).
    pub instances: &'a BTreeSet<String>,
    /// Replicas per partition.
    pub replicas: usize,
    /// The previous lists (the controller's last result, or the current
    /// holders in state-priority order when it has none).
    pub previous: &'a BTreeMap<String, Vec<String>>,
    /// An upper bound of partitions per instance, if configured.
    pub max_per_instance: Option<usize>,
}

/// Computes preference lists, top-state holder first.
pub fn place(input: &PlacementInput<'_>) -> BTreeMap<String, Vec<String>> {
    let nodes: Vec<&String> = input.instances.iter().collect();
    let n = nodes.len();
    let mut lists: BTreeMap<String, Vec<String>> = input
        .partitions
        .iter()
        .map(|p| (p.clone(), Vec::new()))
        .collect();
    if n == 0 {
        return lists;
    }
    let r = input.replicas.min(n);
    let total = input.partitions.len() * r;
    let mut capacity = total.div_ceil(n);
    if let Some(max) = input.max_per_instance {
        capacity = capacity.min(max.max(1));
    }
    let mut load: BTreeMap<&str, usize> = nodes.iter().map(|n| (n.as_str(), 0)).collect();

    // 1. Keep what is already placed, while under capacity.
    for partition in input.partitions {
        let Some(previous) = input.previous.get(partition) else {
            continue;
        };
        let list = lists.entry(partition.clone()).or_default();
        for instance in previous {
            if list.len() >= r || list.contains(instance) {
                continue;
            }
            if let Some(used) = load.get_mut(instance.as_str())
                && *used < capacity
            {
                *used += 1;
                list.push(instance.clone());
            }
        }
    }

    // 2. Give orphaned replicas to the least-loaded instances (over
    //    capacity only when nothing else is possible; step 3 evens out).
    let mut fresh: BTreeSet<(String, String)> = BTreeSet::new();
    for partition in input.partitions {
        let list = lists.entry(partition.clone()).or_default();
        while list.len() < r {
            let choice = nodes
                .iter()
                .filter(|node| !list.contains(node))
                .min_by_key(|node| {
                    (
                        load[node.as_str()] >= capacity,
                        load[node.as_str()],
                        spread(partition, node),
                    )
                });
            let Some(node) = choice else { break };
            *load.entry(node.as_str()).or_default() += 1;
            list.push((*node).clone());
            fresh.insert((partition.clone(), (*node).clone()));
        }
    }

    // 3. Move replicas from the most to the least loaded instances until
    //    loads differ by at most one: only as many moves as needed.
    even_out_replicas(input.partitions, &mut lists, &mut load, &fresh);

    // 4. Balance the first entries (top states) on their own.
    let top_capacity = input.partitions.len().div_ceil(n);
    let mut top_load: BTreeMap<String, usize> = BTreeMap::new();
    for partition in input.partitions {
        let list = lists.entry(partition.clone()).or_default();
        if list.is_empty() {
            continue;
        }
        let previous_top = input.previous.get(partition).and_then(|p| p.first());
        let keep_previous = previous_top.filter(|top| {
            list.contains(top) && top_load.get(top.as_str()).copied().unwrap_or(0) < top_capacity
        });
        let top = match keep_previous {
            Some(top) => top.clone(),
            None => list
                .iter()
                .min_by_key(|i| {
                    (
                        top_load.get(i.as_str()).copied().unwrap_or(0),
                        spread(partition, i),
                    )
                })
                .cloned()
                .unwrap_or_default(),
        };
        *top_load.entry(top.clone()).or_default() += 1;
        if let Some(index) = list.iter().position(|i| *i == top) {
            let top = list.remove(index);
            list.insert(0, top);
        }
    }
    even_out_tops(input.partitions, &mut lists, &mut top_load);
    lists
}

/// Moves single replicas from the most to the least loaded instance while
/// their loads differ by more than one — replicas placed in this run
/// first (moving those costs nothing), then non-top replicas.
fn even_out_replicas(
    partitions: &[String],
    lists: &mut BTreeMap<String, Vec<String>>,
    load: &mut BTreeMap<&str, usize>,
    fresh: &BTreeSet<(String, String)>,
) {
    // Each move lowers the spread; the bound only guards against a bug.
    for _ in 0..partitions.len().saturating_mul(4).max(16) {
        let Some((&most, &high)) = load
            .iter()
            .max_by_key(|(n, l)| (**l, std::cmp::Reverse(**n)))
        else {
            return;
        };
        let Some((&least, &low)) = load.iter().min_by_key(|(n, l)| (**l, **n)) else {
            return;
        };
        if high <= low + 1 {
            return;
        }
        let candidates = |only_fresh: bool| {
            partitions.iter().find_map(|p| {
                if only_fresh && !fresh.contains(&(p.clone(), most.to_owned())) {
                    return None;
                }
                let list = lists.get(p)?;
                let index = list.iter().rposition(|i| i == most)?;
                (!list.iter().any(|i| i == least)).then_some((p.clone(), index))
            })
        };
        let movable = candidates(true).or_else(|| candidates(false));
        let Some((partition, index)) = movable else {
            return;
        };
        if let Some(list) = lists.get_mut(&partition) {
            list[index] = least.to_owned();
        }
        if let Some(l) = load.get_mut(most) {
            *l -= 1;
        }
        if let Some(l) = load.get_mut(least) {
            *l += 1;
        }
    }
}

/// Swaps top entries from the instance leading the most partitions to one
/// leading the fewest, among instances holding replicas of that partition.
fn even_out_tops(
    partitions: &[String],
    lists: &mut BTreeMap<String, Vec<String>>,
    top_load: &mut BTreeMap<String, usize>,
) {
    for list in lists.values() {
        for instance in list {
            top_load.entry(instance.clone()).or_insert(0);
        }
    }
    for _ in 0..partitions.len().saturating_mul(4).max(16) {
        let Some((most, high)) = top_load
            .iter()
            .max_by_key(|(n, l)| (**l, std::cmp::Reverse((*n).clone())))
            .map(|(n, l)| (n.clone(), *l))
        else {
            return;
        };
        // The partition led by `most` whose best alternative leads fewest.
        let candidate = partitions
            .iter()
            .filter_map(|p| {
                let list = lists.get(p)?;
                if list.first() != Some(&most) {
                    return None;
                }
                let (index, load) = list
                    .iter()
                    .enumerate()
                    .skip(1)
                    .map(|(i, n)| (i, top_load.get(n).copied().unwrap_or(0)))
                    .min_by_key(|(_, l)| *l)?;
                (load + 1 < high).then_some((p.clone(), index, load))
            })
            .min_by_key(|(_, _, load)| *load);
        let Some((partition, index, _)) = candidate else {
            return;
        };
        if let Some(list) = lists.get_mut(&partition) {
            list.swap(0, index);
            let new_top = list[0].clone();
            *top_load.entry(most).or_default() -= 1;
            *top_load.entry(new_top).or_default() += 1;
        }
    }
}

/// A deterministic tie-breaker that differs per partition, so ties do not
/// always go to the alphabetically first instance (FNV-1a).
fn spread(partition: &str, instance: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in partition.bytes().chain([0]).chain(instance.bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(prefix: &str, n: usize) -> Vec<String> {
        (0..n).map(|i| format!("{prefix}_{i}")).collect()
    }

    fn run(
        partitions: &[String],
        instances: &[String],
        replicas: usize,
        previous: &BTreeMap<String, Vec<String>>,
    ) -> BTreeMap<String, Vec<String>> {
        let set: BTreeSet<String> = instances.iter().cloned().collect();
        place(&PlacementInput {
            partitions,
            instances: &set,
            replicas,
            previous,
            max_per_instance: None,
        })
    }

    fn loads(
        lists: &BTreeMap<String, Vec<String>>,
    ) -> (BTreeMap<String, usize>, BTreeMap<String, usize>) {
        let mut all = BTreeMap::new();
        let mut top = BTreeMap::new();
        for list in lists.values() {
            for (i, instance) in list.iter().enumerate() {
                *all.entry(instance.clone()).or_insert(0) += 1;
                if i == 0 {
                    *top.entry(instance.clone()).or_insert(0) += 1;
                }
            }
        }
        (all, top)
    }

    fn spread_of(counts: &BTreeMap<String, usize>) -> usize {
        let max = counts.values().max().copied().unwrap_or(0);
        let min = counts.values().min().copied().unwrap_or(0);
        max - min
    }

    #[test]
    fn replicas_and_tops_are_balanced_and_distinct() {
        let partitions = names("DB", 1000);
        let instances = names("node", 10);
        let lists = run(&partitions, &instances, 3, &BTreeMap::new());
        for list in lists.values() {
            let unique: BTreeSet<_> = list.iter().collect();
            assert_eq!((list.len(), unique.len()), (3, 3));
        }
        let (all, top) = loads(&lists);
        assert!(spread_of(&all) <= 1, "{all:?}");
        assert!(spread_of(&top) <= 1, "{top:?}");
        assert_eq!(all.len(), 10);
    }

    #[test]
    fn same_inputs_same_lists_and_previous_result_is_stable() {
        let partitions = names("DB", 60);
        let instances = names("node", 4);
        let first = run(&partitions, &instances, 2, &BTreeMap::new());
        assert_eq!(first, run(&partitions, &instances, 2, &BTreeMap::new()));
        assert_eq!(
            first,
            run(&partitions, &instances, 2, &first),
            "a fixed point"
        );
    }

    #[test]
    fn losing_an_instance_moves_few_replicas() {
        let partitions = names("DB", 60);
        let instances = names("node", 4);
        let before = run(&partitions, &instances, 2, &BTreeMap::new());
        let after = run(&partitions, &instances[..3], 2, &before);
        let orphans = before
            .values()
            .filter(|l| l.contains(&"node_3".to_owned()))
            .count();
        let moved: usize = partitions
            .iter()
            .map(|p| after[p].iter().filter(|i| !before[p].contains(i)).count())
            .sum();
        assert!(
            after
                .values()
                .all(|l| !l.contains(&"node_3".to_owned()) && l.len() == 2)
        );
        // Every orphan moves; evening out loads greedily may move up to a
        // third more (an exact minimum needs chains of moves).
        assert!(
            moved >= orphans && moved <= orphans + orphans / 2,
            "moved {moved} for {orphans} orphans"
        );
        let (all, _) = loads(&after);
        assert!(spread_of(&all) <= 1, "{all:?}");
    }

    #[test]
    fn a_joining_instance_gets_its_share_with_few_moves() {
        let partitions = names("DB", 60);
        let instances = names("node", 4);
        let before = run(&partitions, &instances[..3], 3, &BTreeMap::new());
        let after = run(&partitions, &instances, 3, &before);
        let (all, top) = loads(&after);
        assert!(spread_of(&all) <= 1, "{all:?}");
        assert!(spread_of(&top) <= 1, "{top:?}");
        let moved: usize = partitions
            .iter()
            .map(|p| after[p].iter().filter(|i| !before[p].contains(i)).count())
            .sum();
        assert_eq!(moved, all["node_3"], "only the newcomer's share moved");
    }

    #[test]
    fn fewer_instances_than_replicas_and_no_instances() {
        let partitions = names("DB", 3);
        let lists = run(&partitions, &names("node", 2), 3, &BTreeMap::new());
        assert!(lists.values().all(|l| l.len() == 2));
        let empty = run(&partitions, &[], 3, &BTreeMap::new());
        assert!(empty.values().all(Vec::is_empty));
    }
}
