//! Helix's default customized-view aggregation
//! (`helix-core/src/main/java/org/apache/helix/controller/stages/CustomizedViewAggregationStage.java`): the view of
//! a partition maps each instance to its `CURRENT_STATE`. Instances whose map
//! has no `CURRENT_STATE` are left out.

use strand_plugin_sdk::{AggregateError, Aggregator, AggregatorInfo, Partition, View};

struct DefaultView;

impl Aggregator for DefaultView {
    fn info(&self) -> AggregatorInfo {
        AggregatorInfo::new(
            "default-view",
            env!("CARGO_PKG_VERSION"),
            "Helix's default view: instance -> CURRENT_STATE",
        )
    }

    fn aggregate(&self, p: &Partition) -> Result<View, AggregateError> {
        Ok(p.states()
            .iter()
            .filter_map(|s| Some((s.instance.clone(), s.current_state()?.to_string())))
            .collect())
    }
}

strand_plugin_sdk::export_aggregator!(DefaultView);
