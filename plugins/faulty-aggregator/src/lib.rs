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

use strand_plugin_sdk::{AggregateError, Aggregator, AggregatorInfo, Partition, View};

struct FaultyAggregator;

impl Aggregator for FaultyAggregator {
    fn info(&self) -> AggregatorInfo {
        AggregatorInfo::new(
            "faulty-aggregator",
            env!("CARGO_PKG_VERSION"),
            "test fixture: lowercases states; TRAP, FAIL and SPIN misbehave",
        )
    }

    fn aggregate(&self, p: &Partition) -> Result<View, AggregateError> {
        let mut view = Vec::new();
        for s in p.states() {
            let Some(state) = s.current_state() else {
                continue;
            };
            match state {
                "TRAP" => panic!("asked to trap"),
                "FAIL" => return Err(AggregateError::failed("asked to fail")),
                "SPIN" => spin(),
                other => view.push((s.instance.clone(), other.to_lowercase())),
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

strand_plugin_sdk::export_aggregator!(FaultyAggregator);
