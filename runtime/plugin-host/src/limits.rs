//! Per-call and per-instance limits: the deadline of a call, its output
//! cap, and the memory cap of an instance, enforced with a
//! `ResourceLimiter` that sums all linear memories of the instance
//! (wasmtime's own `StoreLimits` caps each memory separately).

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The default deadline of one plugin call.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(30);
/// The default memory cap of one plugin instance.
pub const DEFAULT_MEMORY_BYTES: usize = 64 << 20;
/// The default cap on what one call may write to stdout and stderr
/// (together) into the host's log.
pub const DEFAULT_OUTPUT_BYTES: usize = 16 << 10;
/// Table elements one instance may hold (function tables of guest code).
const MAX_TABLE_ELEMENTS: usize = 1 << 20;

/// Limits of one plugin: deadline per call, memory per instance, output
/// per call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// The deadline of a call unless the call sets its own (wall-clock
    /// time).
    pub deadline: Duration,
    /// The cap on the sum of the instance's linear memories, in bytes.
    pub memory_bytes: usize,
    /// The cap on what one call writes to stdout and stderr (together)
    /// into the host's log, in bytes; the rest is dropped and counted.
    #[serde(default = "default_output_bytes")]
    pub output_bytes: usize,
}

fn default_output_bytes() -> usize {
    DEFAULT_OUTPUT_BYTES
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            deadline: DEFAULT_DEADLINE,
            memory_bytes: DEFAULT_MEMORY_BYTES,
            output_bytes: DEFAULT_OUTPUT_BYTES,
        }
    }
}

/// The limiter installed in every store.
#[derive(Debug)]
pub(crate) struct MemoryLimiter {
    cap: usize,
    total: usize,
    /// Set when a growth was refused; a trap after it is an out-of-memory.
    pub(crate) exceeded: bool,
}

impl MemoryLimiter {
    pub(crate) fn new(cap: usize) -> Self {
        Self {
            cap,
            total: 0,
            exceeded: false,
        }
    }

    pub(crate) fn cap(&self) -> usize {
        self.cap
    }
}

impl wasmtime::ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let grown = self.total.saturating_sub(current).saturating_add(desired);
        if grown > self.cap {
            self.exceeded = true;
            return Ok(false);
        }
        self.total = grown;
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmtime::ResourceLimiter;

    #[test]
    fn limiter_sums_memories_and_remembers_refusal() {
        let mut l = MemoryLimiter::new(100);
        assert!(matches!(l.memory_growing(0, 60, None), Ok(true)));
        assert!(matches!(l.memory_growing(0, 30, None), Ok(true)));
        assert!(matches!(l.memory_growing(30, 50, None), Ok(false)));
        assert!(l.exceeded);
    }
}
