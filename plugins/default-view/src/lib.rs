//! Helix's default customized-view aggregation (helix-spec §5.9): the view of
//! a partition maps each instance to its `CURRENT_STATE`. Instances whose map
//! has no `CURRENT_STATE` are left out.

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

struct DefaultView;

impl Guest for DefaultView {
    fn info() -> AggregatorInfo {
        AggregatorInfo {
            name: "default-view".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Helix's default view: instance -> CURRENT_STATE".into(),
        }
    }

    fn aggregate(input: PartitionStates) -> Result<Vec<(String, String)>, AggregateError> {
        Ok(input
            .states
            .into_iter()
            .filter_map(|s| {
                let state = s.fields.into_iter().find(|(k, _)| k == "CURRENT_STATE")?.1;
                Some((s.instance, state))
            })
            .collect())
    }
}

bindings::export!(DefaultView with_types_in bindings);
