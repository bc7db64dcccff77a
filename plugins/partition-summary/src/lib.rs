//! A customized-view aggregator that summarises a partition instead of
//! listing it: how many replicas report each state, which ones, whether they
//! agree, and how far apart their reports are in time.
//!
//! The view of a partition (all values are strings):
//!
//! | key | value |
//! |---|---|
//! | `total` | replicas that reported a `CURRENT_STATE` |
//! | `count.<STATE>` | how many report `<STATE>` |
//! | `instances.<STATE>` | those instances, sorted, comma-separated |
//! | `consensus` | the state if all replicas agree, else empty |
//! | `oldest-update-ms` / `newest-update-ms` | min / max `START_TIME` |
//! | `spread-ms` | newest - oldest: how stale the slowest report is |
//!
//! A replica whose `START_TIME` is not a number is counted but left out of
//! the time keys.

use std::collections::BTreeMap;

use strand_plugin_sdk::{AggregateError, Aggregator, AggregatorInfo, Partition, View};

struct PartitionSummary;

impl Aggregator for PartitionSummary {
    fn info(&self) -> AggregatorInfo {
        AggregatorInfo::new(
            "partition-summary",
            env!("CARGO_PKG_VERSION"),
            "per partition: replica count per state, agreement and report spread",
        )
    }

    fn aggregate(&self, p: &Partition) -> Result<View, AggregateError> {
        let mut by_state: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        let (mut oldest, mut newest) = (u64::MAX, 0u64);
        for s in p.states() {
            let Some(state) = s.current_state() else {
                continue;
            };
            if let Some(t) = s.start_time_ms() {
                oldest = oldest.min(t);
                newest = newest.max(t);
            }
            by_state.entry(state).or_default().push(&s.instance);
        }
        let total: usize = by_state.values().map(Vec::len).sum();
        let mut view = vec![("total".to_string(), total.to_string())];
        for (state, instances) in &mut by_state {
            instances.sort_unstable();
            view.push((format!("count.{state}"), instances.len().to_string()));
            view.push((format!("instances.{state}"), instances.join(",")));
        }
        let consensus = match by_state.keys().collect::<Vec<_>>().as_slice() {
            [only] => (*only).to_string(),
            _ => String::new(),
        };
        view.push(("consensus".into(), consensus));
        if newest >= oldest && oldest != u64::MAX {
            view.push(("oldest-update-ms".into(), oldest.to_string()));
            view.push(("newest-update-ms".into(), newest.to_string()));
            view.push(("spread-ms".into(), (newest - oldest).to_string()));
        }
        Ok(view)
    }
}

strand_plugin_sdk::export_aggregator!(PartitionSummary);
