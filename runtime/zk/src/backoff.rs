//! [`Backoff`]: the one retry delay of the workspace — jittered
//! exponential, as a value. Every step that retries after a failed
//! ZooKeeper request (participant bookkeeping, controller writes,
//! reconnects, rejoins, plugin-store follows) asks one of these for its
//! next delay instead of sleeping a constant.
//!
//! The delay doubles from [`Backoff::first`] up to [`Backoff::max`]; each
//! delay is drawn uniformly from the upper half of the current step
//! ("equal jitter"), so retries of many clients spread out while a single
//! client still backs off predictably.

use std::time::Duration;

/// Jittered exponential backoff. Cheap to copy; one per retrying step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    first: Duration,
    max: Duration,
    step: Duration,
    attempts: u32,
}

impl Default for Backoff {
    /// 50 ms doubling to 5 s: short enough that a ZooKeeper leader
    /// election (well under a second) costs little, long enough that a
    /// dead ensemble is not hammered.
    fn default() -> Self {
        Self::new(Duration::from_millis(50), Duration::from_secs(5))
    }
}

impl Backoff {
    /// Delays start at about `first` and double up to `max` (`max` is
    /// raised to `first` when smaller).
    pub fn new(first: Duration, max: Duration) -> Self {
        let first = first.max(Duration::from_millis(1));
        Self {
            first,
            max: max.max(first),
            step: first,
            attempts: 0,
        }
    }

    /// The first step.
    pub fn first(&self) -> Duration {
        self.first
    }

    /// The largest step.
    pub fn max(&self) -> Duration {
        self.max
    }

    /// How many delays were handed out since the last reset.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The next delay: uniformly in `[step / 2, step]`, then the step
    /// doubles (up to the maximum).
    pub fn next_delay(&mut self) -> Duration {
        let step = self.step;
        self.step = (self.step.saturating_mul(2)).min(self.max);
        self.attempts = self.attempts.saturating_add(1);
        let half = step / 2;
        let spread = u64::try_from((step - half).as_micros()).unwrap_or(u64::MAX);
        half + Duration::from_micros(fastrand::u64(0..=spread))
    }

    /// Sleeps for [`Backoff::next_delay`].
    pub async fn wait(&mut self) {
        tokio::time::sleep(self.next_delay()).await;
    }

    /// Back to the first step (after a success).
    pub fn reset(&mut self) {
        self.step = self.first;
        self.attempts = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_within_jitter_and_cap() {
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_millis(700));
        let bounds = [(50, 100), (100, 200), (200, 400), (350, 700), (350, 700)];
        for (low, high) in bounds {
            let delay = backoff.next_delay();
            assert!(
                delay >= Duration::from_millis(low) && delay <= Duration::from_millis(high),
                "{delay:?} not in [{low}, {high}] ms"
            );
        }
        assert_eq!(backoff.attempts(), 5);
        backoff.reset();
        assert_eq!(backoff.attempts(), 0);
        assert!(backoff.next_delay() <= Duration::from_millis(100));
    }

    #[test]
    fn jitter_spreads_delays() {
        let delays: std::collections::BTreeSet<Duration> = (0..20)
            .map(|_| Backoff::new(Duration::from_secs(1), Duration::from_secs(1)).next_delay())
            .collect();
        assert!(delays.len() > 1, "twenty equal delays: no jitter");
    }

    #[test]
    fn degenerate_settings_are_made_sane() {
        let mut backoff = Backoff::new(Duration::ZERO, Duration::ZERO);
        assert!(backoff.next_delay() <= Duration::from_millis(1));
        assert_eq!(backoff.max(), Duration::from_millis(1));
    }
}
