//! Wall-clock deadlines for plugin calls, on wasmtime's epoch interruption.
//!
//! Two parts, both needed on a loaded machine:
//!
//! * The **ticker** advances the engine's epoch by the wall time that has
//!   passed, not by the sleeps it took: a thread woken late (a busy CPU
//!   stretches a 10 ms sleep to 20 ms or more) catches up with several
//!   increments, so the epoch never falls behind the clock by more than one
//!   late wake-up.
//! * Every store carries the **instant** its call must end by
//!   ([`HostState::deadline_at`]). When the epoch reaches the store's tick
//!   deadline, the callback compares that instant with the clock: past it,
//!   the call traps with [`wasmtime::Trap::Interrupt`]; before it, the call
//!   gets the ticks that remain. So a deadline is never cut short and never
//!   stretched by more than one tick plus the scheduling delay of the
//!   threads involved.
//!
//! # Caveats
//! Epoch checks happen in guest code only: a call blocked inside a host
//! function (a customized-state import waiting on ZooKeeper) is interrupted
//! when it returns to the guest, so host functions must bound their own
//! waits by [`HostState::deadline_at`].

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use wasmtime::{Engine, Store, UpdateDeadline};

use crate::state::HostState;

/// Epoch ticks for `deadline` with ticks of `tick`: rounded up, plus one
/// for the tick in progress, so the tick deadline is never before the
/// wall-clock one (the callback then decides).
pub(crate) fn ticks(tick: Duration, deadline: Duration) -> u64 {
    let tick = tick.as_nanos().max(1);
    u64::try_from(deadline.as_nanos().div_ceil(tick)).unwrap_or(u64::MAX / 2) + 1
}

/// Installs the deadline callback in a fresh store (see the module docs).
pub(crate) fn install_callback(store: &mut Store<HostState>, tick: Duration) {
    store.epoch_deadline_callback(move |ctx| {
        let remaining = ctx
            .data()
            .deadline_at
            .map(|at| at.saturating_duration_since(Instant::now()));
        Ok(match remaining {
            Some(left) if !left.is_zero() => UpdateDeadline::Continue(ticks(tick, left)),
            _ => UpdateDeadline::Interrupt,
        })
    });
}

/// Arms `store` for a call that must end within `deadline` from now.
pub(crate) fn arm(store: &mut Store<HostState>, tick: Duration, deadline: Duration) {
    store.data_mut().deadline_at = Instant::now().checked_add(deadline);
    store.set_epoch_deadline(ticks(tick, deadline));
}

/// Starts the ticker thread of `engine`; it stops when `stop` is set or
/// the engine is dropped.
pub(crate) fn spawn_ticker(
    engine: &Engine,
    tick: Duration,
    stop: Arc<AtomicBool>,
) -> std::io::Result<()> {
    let weak = engine.weak();
    let tick_ns = tick.as_nanos().max(1);
    std::thread::Builder::new()
        .name("strand-epoch".into())
        .spawn(move || {
            let started = Instant::now();
            let mut done: u128 = 0;
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(tick);
                let Some(engine) = weak.upgrade() else {
                    break;
                };
                // As many increments as whole ticks have passed in wall time.
                let due = started.elapsed().as_nanos() / tick_ns;
                while done < due {
                    engine.increment_epoch();
                    done += 1;
                }
            }
        })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_round_up_and_add_the_tick_in_progress() {
        let tick = Duration::from_millis(10);
        assert_eq!(ticks(tick, Duration::from_millis(100)), 11);
        assert_eq!(ticks(tick, Duration::from_millis(101)), 12);
        assert_eq!(ticks(tick, Duration::ZERO), 1);
        assert_eq!(ticks(Duration::ZERO, Duration::from_nanos(3)), 4);
    }
}
