//! A deliberately faulty state model for the host's tests. Its definition is
//! a plain online/offline model; its transition misbehaves according to the
//! partition name:
//!
//! | partition starts with | behaviour |
//! |---|---|
//! | `trap` | panics (a trap: `panic = "abort"`) |
//! | `spin` | loops forever (only the host's deadline stops it) |
//! | `hog` | allocates 1 MiB blocks until memory runs out |
//! | `fatal` | returns the `fatal` error, except when leaving ERROR (a reset succeeds) |
//! | `retry` | returns the `retryable` error |
//! | anything else | succeeds |

use strand_plugin_sdk::{
    Count, Level, ModelDefinition, ModelSpec, StateModel, Transition, TransitionError,
    export_state_model,
};

const SPEC: ModelSpec = ModelSpec {
    name: "Faulty",
    version: env!("CARGO_PKG_VERSION"),
    states: &[
        ("ONLINE", Count::Replicas),
        ("OFFLINE", Count::Unbounded),
        ("DROPPED", Count::Unbounded),
    ],
    transitions: &[
        ("OFFLINE", "ONLINE"),
        ("ONLINE", "OFFLINE"),
        ("OFFLINE", "DROPPED"),
    ],
    initial: "OFFLINE",
};

struct Faulty;

impl StateModel for Faulty {
    fn definition(&self) -> ModelDefinition {
        SPEC.definition()
    }

    fn transition(&self, t: &Transition) -> Result<String, TransitionError> {
        let p = t.partition();
        if p.starts_with("trap") {
            panic!("deliberate trap in {p}");
        } else if p.starts_with("spin") {
            t.log(Level::Info, &format!("{p}: spinning forever"));
            let mut n: u64 = 0;
            loop {
                n = std::hint::black_box(n.wrapping_add(1));
            }
        } else if p.starts_with("hog") {
            let mut blocks: Vec<Vec<u8>> = Vec::new();
            loop {
                let mut block = vec![0u8; 1 << 20];
                block[0] = 1;
                blocks.push(std::hint::black_box(block));
            }
        } else if p.starts_with("fatal") && t.from_state() != "ERROR" {
            Err(TransitionError::fatal(format!(
                "{p}: deliberate fatal error"
            )))
        } else if p.starts_with("retry") {
            Err(TransitionError::retryable(format!(
                "{p}: deliberate retryable error"
            )))
        } else {
            Ok(format!(
                "faulty {}: {}->{}",
                SPEC.version,
                t.from_state(),
                t.to_state()
            ))
        }
    }
}

export_state_model!(Faulty);
