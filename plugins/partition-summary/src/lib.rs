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

mod bindings {
    strand_plugin_sdk::wit_bindgen::generate!({
        path: "../../wit",
        world: "strand:plugins/aggregator",
        runtime_path: "::strand_plugin_sdk::wit_bindgen::rt",
                generate_all,
    });
}

use bindings::exports::strand::aggregator::aggregate::Guest;
use bindings::strand::aggregator::types::{AggregateError, AggregatorInfo, PartitionStates};

struct PartitionSummary;

impl Guest for PartitionSummary {
    fn info() -> AggregatorInfo {
        AggregatorInfo {
            name: "partition-summary".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "per partition: replica count per state, agreement and report spread"
                .into(),
        }
    }

    fn aggregate(input: PartitionStates) -> Result<Vec<(String, String)>, AggregateError> {
        let mut by_state: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let (mut oldest, mut newest) = (u64::MAX, 0u64);
        for s in input.states {
            let field = |name: &str| {
                s.fields
                    .iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.clone())
            };
            let Some(state) = field("CURRENT_STATE") else {
                continue;
            };
            if let Some(t) = field("START_TIME").and_then(|t| t.parse::<u64>().ok()) {
                oldest = oldest.min(t);
                newest = newest.max(t);
            }
            by_state.entry(state).or_default().push(s.instance);
        }
        let total: usize = by_state.values().map(Vec::len).sum();
        let mut view = vec![("total".to_string(), total.to_string())];
        for (state, mut instances) in by_state.iter().map(|(s, i)| (s, i.clone())) {
            instances.sort();
            view.push((format!("count.{state}"), instances.len().to_string()));
            view.push((format!("instances.{state}"), instances.join(",")));
        }
        let consensus = match by_state.keys().collect::<Vec<_>>().as_slice() {
            [only] => (*only).clone(),
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

bindings::export!(PartitionSummary with_types_in bindings);
