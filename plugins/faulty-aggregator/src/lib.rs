//! Test fixture: a customized-view aggregator whose behaviour the reported
//! states choose, so tests can prove both that the plugin computed a view
//! and that the controller survives a broken one.
//!
//! For each partition:
//! * a replica reporting `TRAP` makes the call trap (a panic);
//! * a replica reporting `FAIL` makes it return `failed`;
//! * a replica reporting `SPIN` makes it loop until the host's deadline;
//! * otherwise the view maps each instance to its `CURRENT_STATE` in
//!   lower case (unlike Helix's default, so a test sees who computed it).

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

struct FaultyAggregator;

impl Guest for FaultyAggregator {
    fn info() -> AggregatorInfo {
        AggregatorInfo {
            name: "faulty-aggregator".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "test fixture: lowercases states; TRAP, FAIL and SPIN misbehave".into(),
        }
    }

    fn aggregate(input: PartitionStates) -> Result<Vec<(String, String)>, AggregateError> {
        let mut view = Vec::new();
        for s in input.states {
            let Some(state) = s.fields.into_iter().find(|(k, _)| k == "CURRENT_STATE") else {
                continue;
            };
            match state.1.as_str() {
                "TRAP" => panic!("asked to trap"),
                "FAIL" => return Err(AggregateError::Failed("asked to fail".into())),
                "SPIN" => spin(),
                other => view.push((s.instance, other.to_lowercase())),
            }
        }
        Ok(view)
    }
}

/// Loops until the host interrupts the call.
fn spin() -> ! {
    let mut n: u64 = 0;
    loop {
        n = std::hint::black_box(n.wrapping_add(1));
    }
}

bindings::export!(FaultyAggregator with_types_in bindings);
