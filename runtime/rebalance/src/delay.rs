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
//!
//! Which instances are kept is Helix's `getInactiveTime`: an instance that
//! is offline, disabled, or both is kept until the earliest of "went
//! offline + delay" and "disabled (`HELIX_ENABLED_TIMESTAMP`) + delay";
//! without either time it is not kept, and an on-demand rebalance (the
//! cluster config's `LAST_ON_DEMAND_REBALANCE_TIMESTAMP`) after it went
//! offline or was disabled, within the delay, ends its delay at once. A
//! disabled instance that is kept holds its replicas OFFLINE (a disabled
//! instance serves nothing) without their being placed elsewhere. Not
//! read: the deprecated batch disable of the cluster config
//! (`DISABLED_INSTANCES`), which Strand does not honour either.

use std::collections::{BTreeMap, BTreeSet};

use strand_model::{IdealState, InstanceOperationKind};

use crate::best_possible::PreferenceLists;
use crate::snapshot::Snapshot;

const ENABLED: &str = "DELAY_REBALANCE_ENABLED";
const DISABLED: &str = "DELAY_REBALANCE_DISABLED";
const REBALANCE_DELAY: &str = "REBALANCE_DELAY";
const DELAY_TIME: &str = "DELAY_REBALANCE_TIME";
const MIN_ACTIVE_REPLICAS: &str = "MIN_ACTIVE_REPLICAS";
const LAST_ON_DEMAND_REBALANCE: &str = "LAST_ON_DEMAND_REBALANCE_TIMESTAMP";

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

/// Offline or disabled instances still within the delay (their replicas
/// stay placed): instance → the time (ms) the delay ends for it (module
/// docs).
pub fn kept_inactive(
    snapshot: &Snapshot,
    delay: i64,
    eligible: impl Fn(&str) -> bool,
) -> BTreeMap<String, i64> {
    let on_demand = snapshot
        .cluster_config
        .as_deref()
        .and_then(|c| c.record().simple_parsed::<i64>(LAST_ON_DEMAND_REBALANCE))
        .unwrap_or(-1);
    snapshot
        .configs
        .iter()
        // Helix's assignable instances (ENABLE or DISABLE): an EVACUATE
        // instance is being drained, never kept.
        .filter(|(_, config)| {
            matches!(
                config.instance_operation(),
                InstanceOperationKind::Enable | InstanceOperationKind::Disable
            ) && config.record().simple_bool(ENABLED).unwrap_or(true)
        })
        .filter(|(instance, _)| eligible(instance))
        .filter_map(|(instance, config)| {
            let inactive = Inactive {
                offline_since: (!snapshot.is_live(instance))
                    .then(|| snapshot.offline_since.get(instance).copied().unwrap_or(-1)),
                disabled_since: (!config.instance_enabled())
                    .then(|| config.enabled_timestamp().unwrap_or(-1)),
            };
            let until = inactive.until(delay, on_demand, snapshot.now_ms)?;
            (until > snapshot.now_ms).then(|| (instance.clone(), until))
        })
        .collect()
}

/// Why an instance is not serving: since when it has been offline and
/// since when disabled (`None`: it is not; `-1`: unknown).
struct Inactive {
    offline_since: Option<i64>,
    disabled_since: Option<i64>,
}

impl Inactive {
    /// Helix's `getInactiveTime`: when the instance's delay ends, or
    /// `None` when it is not kept at all (serving, no known time, or an
    /// on-demand rebalance ended its delay).
    fn until(&self, delay: i64, on_demand: i64, now: i64) -> Option<i64> {
        let forced = |since: i64| {
            on_demand != -1 && since > 0 && now <= since.saturating_add(delay) && since < on_demand
        };
        let mut until: Option<i64> = None;
        for since in [self.offline_since, self.disabled_since]
            .into_iter()
            .flatten()
        {
            if forced(since) {
                return None;
            }
            if since > 0 {
                let end = since.saturating_add(delay);
                until = Some(until.map_or(end, |u| u.min(end)));
            }
        }
        until
    }
}

/// The earliest time (ms) a delay of any FULL_AUTO resource ends, so the
/// controller runs again then (Helix's `RebalanceScheduler`).
pub fn next_expiry(snapshot: &Snapshot) -> Option<i64> {
    snapshot
        .ideal_states
        .values()
        .filter(|ideal| ideal.rebalance_mode() == strand_model::RebalanceMode::FullAuto)
        .filter_map(|ideal| delay_ms(snapshot, ideal))
        .flat_map(|delay| kept_inactive(snapshot, delay, |_| true).into_values())
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
    fn an_instance_is_kept_until_the_earliest_end_of_its_delays() {
        let (delay, now) = (60_000, 1_000_000);
        let kept = |offline: Option<i64>, disabled: Option<i64>, on_demand: i64| {
            Inactive {
                offline_since: offline,
                disabled_since: disabled,
            }
            .until(delay, on_demand, now)
        };
        assert_eq!(kept(None, None, -1), None, "serving");
        assert_eq!(kept(Some(now - 1_000), None, -1), Some(now + 59_000));
        assert_eq!(kept(None, Some(now - 2_000), -1), Some(now + 58_000));
        assert_eq!(
            kept(Some(now - 1_000), Some(now - 30_000), -1),
            Some(now + 30_000),
            "the earlier of the two"
        );
        assert_eq!(
            kept(Some(-1), None, -1),
            None,
            "offline since an unknown time"
        );
        assert_eq!(
            kept(None, Some(-1), -1),
            None,
            "disabled since an unknown time"
        );
        assert_eq!(
            kept(Some(now - 1_000), None, now - 500),
            None,
            "an on-demand rebalance after it left"
        );
        assert_eq!(
            kept(Some(now - 1_000), None, now - 2_000),
            Some(now + 59_000),
            "an on-demand rebalance before it left changes nothing"
        );
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
