//! Delayed rebalance for FULL_AUTO resources — Helix's
//! `DelayedAutoRebalancer` with `DelayedRebalanceUtil`: an instance that
//! went offline less than the rebalance delay ago stays *active*, so its
//! replicas are not placed elsewhere while it restarts, unless a partition
//! would be left with fewer than `MIN_ACTIVE_REPLICAS` live replicas. The
//! top state still moves at once (an offline replica holds no state).
//!
//! Settings, as Helix reads them:
//! * on: the cluster config's `DELAY_REBALANCE_ENABLED` (default true,
//!   `DELAY_REBALANCE_DISABLED` wins) and the ideal state's (same rule),
//!   and a delay above zero;
//! * the delay: the ideal state's `REBALANCE_DELAY` if set (≥ 0), else the
//!   cluster config's `DELAY_REBALANCE_TIME`, in ms;
//! * the minimum: the resource config's `MIN_ACTIVE_REPLICAS`, else the
//!   ideal state's, else the replica count (with which the delay changes
//!   nothing, as in Helix);
//! * an instance whose config says `DELAY_REBALANCE_ENABLED=false` is
//!   never kept.

use std::collections::{BTreeMap, BTreeSet};

use strand_model::IdealState;

use crate::best_possible::PreferenceLists;
use crate::snapshot::Snapshot;

const ENABLED: &str = "DELAY_REBALANCE_ENABLED";
const DISABLED: &str = "DELAY_REBALANCE_DISABLED";
const REBALANCE_DELAY: &str = "REBALANCE_DELAY";
const DELAY_TIME: &str = "DELAY_REBALANCE_TIME";
const MIN_ACTIVE_REPLICAS: &str = "MIN_ACTIVE_REPLICAS";

/// Helix's boolean pair: `…_DISABLED=true` wins, else `…_ENABLED`
/// (default true).
fn switched_on(record: &strand_model::ZNRecord) -> bool {
    if record.simple_bool(DISABLED).unwrap_or(false) {
        return false;
    }
    record.simple_bool(ENABLED).unwrap_or(true)
}

/// The rebalance delay of a resource in ms, if delayed rebalance is on for
/// it (`DelayedRebalanceUtil.isDelayRebalanceEnabled`).
pub fn delay_ms(snapshot: &Snapshot, ideal: &IdealState) -> Option<i64> {
    let cluster = snapshot.cluster_config.as_deref()?;
    let own = ideal
        .record()
        .simple_parsed::<i64>(REBALANCE_DELAY)
        .filter(|d| *d >= 0);
    let delay = own.or_else(|| cluster.record().simple_parsed::<i64>(DELAY_TIME))?;
    (delay > 0 && switched_on(ideal.record()) && switched_on(cluster.record())).then_some(delay)
}

/// `MIN_ACTIVE_REPLICAS` of a resource (resource config first, then the
/// ideal state), else `replicas`.
pub fn min_active_replicas(
    snapshot: &Snapshot,
    resource: &str,
    ideal: &IdealState,
    replicas: usize,
) -> usize {
    let from = |record: &strand_model::ZNRecord| {
        record
            .simple_parsed::<i64>(MIN_ACTIVE_REPLICAS)
            .filter(|n| *n >= 0)
    };
    snapshot
        .resource_configs
        .get(resource)
        .and_then(|r| from(r))
        .or_else(|| from(ideal.record()))
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(replicas)
}

/// Offline instances still within the delay (their replicas stay placed):
/// instance → the time (ms) the delay ends for it.
pub fn kept_offline(
    snapshot: &Snapshot,
    delay: i64,
    eligible: impl Fn(&str) -> bool,
) -> BTreeMap<String, i64> {
    snapshot
        .offline_since
        .iter()
        .filter(|(instance, _)| !snapshot.is_live(instance))
        .filter(|(instance, _)| {
            snapshot.configs.get(instance.as_str()).is_some_and(|c| {
                c.instance_enabled() && c.record().simple_bool(ENABLED).unwrap_or(true)
            })
        })
        .filter(|(instance, _)| eligible(instance))
        .filter_map(|(instance, since)| {
            let until = since.saturating_add(delay);
            (*since > 0 && until > snapshot.now_ms).then(|| (instance.clone(), until))
        })
        .collect()
}

/// The earliest time (ms) a delay of any FULL_AUTO resource ends, so the
/// controller runs again then (Helix's `RebalanceScheduler`).
pub fn next_expiry(snapshot: &Snapshot) -> Option<i64> {
    snapshot
        .ideal_states
        .values()
        .filter(|ideal| ideal.rebalance_mode() == strand_model::RebalanceMode::FullAuto)
        .filter_map(|ideal| delay_ms(snapshot, ideal))
        .flat_map(|delay| kept_offline(snapshot, delay, |_| true).into_values())
        .min()
}

/// `DelayedRebalanceUtil.getFinalDelayedMapping`: per partition, the list
/// computed with the kept offline instances (`delayed`) when it has at
/// least `min_active` live, enabled instances; otherwise its live ones
/// topped up from the list computed without them (`ideal`) until
/// `min_active`.
pub fn final_lists(
    ideal: &PreferenceLists,
    delayed: &PreferenceLists,
    live_enabled: &BTreeSet<String>,
    min_active: usize,
) -> PreferenceLists {
    ideal
        .iter()
        .map(|(partition, ideal_list)| {
            let delayed_list = delayed.get(partition).cloned().unwrap_or_default();
            let mut live: Vec<String> = delayed_list
                .iter()
                .filter(|i| live_enabled.contains(*i))
                .cloned()
                .collect();
            if live.len() >= min_active {
                return (partition.clone(), delayed_list);
            }
            for instance in ideal_list {
                if live.len() >= min_active {
                    break;
                }
                if !delayed_list.contains(instance) {
                    live.push(instance.clone());
                }
            }
            (partition.clone(), live)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lists(entries: &[(&str, &[&str])]) -> PreferenceLists {
        entries
            .iter()
            .map(|(p, l)| ((*p).to_owned(), l.iter().map(|s| (*s).to_owned()).collect()))
            .collect()
    }

    #[test]
    fn final_lists_keep_the_offline_instance_while_enough_replicas_are_live() {
        let ideal = lists(&[("p0", &["b", "c", "d"]), ("p1", &["c", "d", "b"])]);
        let delayed = lists(&[("p0", &["a", "b", "c"]), ("p1", &["a", "d", "x"])]);
        let live: BTreeSet<String> = ["b", "c", "d"].iter().map(|s| (*s).to_owned()).collect();
        let out = final_lists(&ideal, &delayed, &live, 2);
        // p0 has two live replicas besides the offline one: kept as is.
        assert_eq!(out["p0"], ["a", "b", "c"]);
        // p1 has one: topped up from the ideal list to two, offline dropped.
        assert_eq!(out["p1"], ["d", "c"]);
    }
}
