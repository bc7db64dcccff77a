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

mod bindings {
    strand_plugin_sdk::wit_bindgen::generate!({
        path: "../../wit",
        world: "strand:plugins/state-model",
        runtime_path: "::strand_plugin_sdk::wit_bindgen::rt",
                generate_all,
    });
}

use bindings::exports::strand::statemodel::model::Guest;
use bindings::strand::host::log::{Level, log};
use bindings::strand::statemodel::types::{
    CountBound, ModelDefinition, StateDef, TransitionContext, TransitionDef, TransitionError,
};

struct Faulty;

impl Guest for Faulty {
    fn definition() -> ModelDefinition {
        let state = |name: &str, count| StateDef {
            name: name.into(),
            count,
        };
        let tr = |from: &str, to: &str| TransitionDef {
            from_state: from.into(),
            to_state: to.into(),
        };
        ModelDefinition {
            name: "Faulty".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            states: vec![
                state("ONLINE", CountBound::Replicas),
                state("OFFLINE", CountBound::Unbounded),
                state("DROPPED", CountBound::Unbounded),
            ],
            transitions: vec![
                tr("OFFLINE", "ONLINE"),
                tr("ONLINE", "OFFLINE"),
                tr("OFFLINE", "DROPPED"),
            ],
            initial_state: "OFFLINE".into(),
        }
    }

    fn transition(ctx: TransitionContext) -> Result<String, TransitionError> {
        let p = ctx.partition.as_str();
        if p.starts_with("trap") {
            panic!("deliberate trap in {p}");
        } else if p.starts_with("spin") {
            log(Level::Info, &format!("{p}: spinning forever"));
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
        } else if p.starts_with("fatal") && ctx.from_state != "ERROR" {
            Err(TransitionError::Fatal(format!(
                "{p}: deliberate fatal error"
            )))
        } else if p.starts_with("retry") {
            Err(TransitionError::Retryable(format!(
                "{p}: deliberate retryable error"
            )))
        } else {
            Ok(format!(
                "faulty {}: {}->{}",
                env!("CARGO_PKG_VERSION"),
                ctx.from_state,
                ctx.to_state
            ))
        }
    }
}

bindings::export!(Faulty with_types_in bindings);
