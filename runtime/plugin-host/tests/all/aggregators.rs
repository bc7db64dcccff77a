//! The aggregator plugins: Helix's default view and the partition summary.

use strand_devcluster::plugins::names;
use strand_plugin_host::{CallOptions, InstanceState, PartitionStates, PluginOptions};

use crate::common::registry_with;

fn input() -> PartitionStates {
    let s = |instance: &str, state: &str, t: &str| InstanceState {
        instance: instance.into(),
        fields: vec![
            ("CURRENT_STATE".into(), state.into()),
            ("START_TIME".into(), t.into()),
        ],
    };
    PartitionStates {
        cluster: "c1".into(),
        state_type: "READINESS".into(),
        resource: "db".into(),
        partition: "db_0".into(),
        states: vec![
            s("h1", "READY", "1000"),
            s("h2", "BOOTSTRAPPING", "1500"),
            s("h3", "READY", "1200"),
        ],
    }
}

#[test]
fn default_view_maps_instances_to_current_state() {
    let registry = registry_with("agg", names::DEFAULT_VIEW, PluginOptions::default());
    let agg = registry.aggregator("agg").expect("aggregator");
    assert_eq!(agg.info().name, "default-view");
    let out = agg
        .aggregate(&input(), &CallOptions::default())
        .expect("aggregate");
    let expected: Vec<(String, String)> =
        [("h1", "READY"), ("h2", "BOOTSTRAPPING"), ("h3", "READY")]
            .map(|(a, b)| (a.into(), b.into()))
            .into();
    assert_eq!(out.view, expected);
}

#[test]
fn partition_summary_counts_states_and_spread() {
    let registry = registry_with("sum", names::PARTITION_SUMMARY, PluginOptions::default());
    let agg = registry.aggregator("sum").expect("aggregator");
    let view = agg
        .aggregate(&input(), &CallOptions::default())
        .expect("aggregate")
        .view;
    let get = |k: &str| {
        view.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(get("total"), Some("3"));
    assert_eq!(get("count.READY"), Some("2"));
    assert_eq!(get("instances.READY"), Some("h1,h3"));
    assert_eq!(get("count.BOOTSTRAPPING"), Some("1"));
    assert_eq!(get("consensus"), Some(""));
    assert_eq!(get("spread-ms"), Some("500"));
}
