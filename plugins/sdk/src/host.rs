//! The services the host gives every plugin (`strand:host`): its structured
//! log and its clocks. Both contexts ([`Transition`](crate::Transition),
//! [`Partition`](crate::Partition)) offer them as methods; these free
//! functions are for code that has no context at hand.

use crate::bindings::state_model::strand::host::{clock, log as wit_log};

pub use wit_log::Level;

/// Writes one record to the host's log; the host tags it with the plugin's
/// name and version.
pub fn log(level: Level, message: &str) {
    wit_log::log(level, message);
}

/// Wall-clock time in milliseconds since the Unix epoch (Helix's unit for
/// `START_TIME`).
pub fn now_ms() -> u64 {
    clock::now_ms()
}

/// Monotonic time in nanoseconds from an arbitrary origin: only differences
/// mean something.
pub fn monotonic_ns() -> u64 {
    clock::monotonic_ns()
}
