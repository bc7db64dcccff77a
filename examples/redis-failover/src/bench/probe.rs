//! The clock of the comparison: from an event to the first write that a
//! server other than the old master accepts, measured the same way for
//! Strand and Sentinel by asking the redis-servers themselves (`SET`), not
//! either system's idea of where the master is. For a planned handoff it
//! also keeps writing to the old master, to tell how long both took writes.

use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use serde::Serialize;

use crate::redis_io::{connect, probe_write};

/// Time between two rounds of probe writes.
const POLL: Duration = Duration::from_millis(2);

/// What one event's probe saw.
#[derive(Debug, Clone, Serialize)]
pub struct Takeover {
    /// The port of the server that took writes first.
    pub new_master: u16,
    /// From the event to that first accepted write.
    pub writable_ms: f64,
    /// How long after that the old master still accepted writes (0 when it
    /// refused or was down by then; at most the probe's cap, see
    /// `both_capped`). Only measured for planned events.
    pub both_writable_ms: Option<f64>,
    /// Whether the old master still took writes when the probe stopped.
    pub both_capped: bool,
}

/// One server the probe writes to, reconnected when its connection fails.
struct Target {
    port: u16,
    con: Option<redis::Connection>,
}

impl Target {
    fn new(port: u16) -> Self {
        Self { port, con: None }
    }

    /// Whether it accepted write number `n`.
    fn write(&mut self, n: u64) -> bool {
        if self.con.is_none() {
            self.con = connect(self.port).ok();
        }
        let Some(con) = self.con.as_mut() else {
            return false;
        };
        match probe_write(con, n) {
            Ok(()) => true,
            Err(e) => {
                // An error reply keeps the connection; a broken one goes.
                if !e.to_string().contains("READONLY") && !e.to_string().contains("NOREPLICAS") {
                    self.con = None;
                }
                false
            }
        }
    }
}

/// Waits for one of `candidates` to take a write, counting from `since`;
/// with `old` (a planned handoff), then keeps writing to the old master for
/// at most `both_cap` to see whether, and how long, both took writes.
///
/// # Errors
/// No candidate took a write within `deadline`.
pub fn takeover(
    candidates: &[u16],
    old: Option<u16>,
    since: Instant,
    deadline: Duration,
    both_cap: Duration,
) -> Result<Takeover> {
    let mut targets: Vec<Target> = candidates.iter().map(|&p| Target::new(p)).collect();
    let mut n = 0u64;
    let (new_master, writable_at) = 'found: loop {
        for target in &mut targets {
            n += 1;
            if target.write(n) {
                break 'found (target.port, Instant::now());
            }
        }
        if since.elapsed() > deadline {
            bail!("no server of {candidates:?} took a write within {deadline:?}");
        }
        std::thread::sleep(POLL);
    };
    let mut taken = Takeover {
        new_master,
        writable_ms: millis(writable_at - since),
        both_writable_ms: None,
        both_capped: false,
    };
    if let Some(old) = old {
        let mut old = Target::new(old);
        let mut last_ok = None;
        loop {
            n += 1;
            if !old.write(n) {
                break;
            }
            last_ok = Some(Instant::now());
            if writable_at.elapsed() > both_cap {
                taken.both_capped = true;
                break;
            }
            std::thread::sleep(POLL);
        }
        taken.both_writable_ms = Some(last_ok.map_or(0.0, |t| millis(t - writable_at)));
    }
    Ok(taken)
}

/// `d` in milliseconds, to a tenth.
pub fn millis(d: Duration) -> f64 {
    (d.as_secs_f64() * 10_000.0).round() / 10.0
}
