//! [`Slots`]: which transitions may start now, so that hung plugin calls of
//! one resource cannot starve the others.
//!
//! # The rule
//! With `max_parallel = N` (default 40):
//! * at most `N` transitions are *active* at once;
//! * one resource holds at most `N - reserve` of them, with
//!   `reserve = max(1, N / 4)`: the rest of the slots always stay open to
//!   other resources;
//! * failover-critical transitions (toward the model's top state or away
//!   from it, e.g. SLAVE→MASTER, MASTER→SLAVE) may use `reserve` extra
//!   slots beyond `N`, still within their resource's bound;
//! * a call that runs longer than `straggler_after` (default 5 s) stops
//!   counting as active: it keeps its resource's slot (so a resource never
//!   has more than `N - reserve` calls running, hung or not), but no longer
//!   blocks other resources, however many resources hang.
//!
//! Pure bookkeeping: the engine asks [`Slots::try_admit`] and reports
//! [`Slots::demote`] / [`Slots::release`].

use std::collections::HashMap;

/// How a running transition counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Standing {
    /// Counts against the active bound (`N`).
    Active,
    /// Admitted from the failover reserve.
    Reserve,
    /// Ran past the straggler threshold: counts only for its resource.
    Straggler,
}

/// The slot bookkeeping of one participant session.
#[derive(Debug)]
pub(crate) struct Slots {
    max_parallel: usize,
    reserve: usize,
    active: usize,
    reserve_used: usize,
    per_resource: HashMap<String, usize>,
}

impl Slots {
    /// Slots for `max_parallel` transitions (at least 1).
    pub(crate) fn new(max_parallel: usize) -> Self {
        let max_parallel = max_parallel.max(1);
        Self {
            max_parallel,
            reserve: (max_parallel / 4).max(1),
            active: 0,
            reserve_used: 0,
            per_resource: HashMap::new(),
        }
    }

    /// The most transitions one resource may run at once.
    pub(crate) fn per_resource_bound(&self) -> usize {
        self.max_parallel.saturating_sub(self.reserve).max(1)
    }

    /// Transitions running (any standing).
    #[cfg(test)]
    pub(crate) fn running(&self) -> usize {
        self.per_resource.values().sum()
    }

    /// Whether some transition of `resource` could be admitted now (the
    /// resource is under its bound, and an active or reserve slot is free):
    /// when not, a pass need not look further at its messages.
    pub(crate) fn has_room(&self, resource: &str) -> bool {
        let held = self.per_resource.get(resource).copied().unwrap_or(0);
        held < self.per_resource_bound()
            && (self.active < self.max_parallel || self.reserve_used < self.reserve)
    }

    /// Takes a slot for a transition of `resource` if the rule allows it.
    pub(crate) fn try_admit(&mut self, resource: &str, critical: bool) -> Option<Standing> {
        let held = self.per_resource.get(resource).copied().unwrap_or(0);
        if held >= self.per_resource_bound() {
            return None;
        }
        let standing = if self.active < self.max_parallel {
            self.active += 1;
            Standing::Active
        } else if critical && self.reserve_used < self.reserve {
            self.reserve_used += 1;
            Standing::Reserve
        } else {
            return None;
        };
        *self.per_resource.entry(resource.to_owned()).or_default() += 1;
        Some(standing)
    }

    /// A call ran past the straggler threshold: it frees its active (or
    /// reserve) slot and keeps its resource's.
    pub(crate) fn demote(&mut self, standing: Standing) -> Standing {
        self.free(standing);
        Standing::Straggler
    }

    /// A transition finished.
    pub(crate) fn release(&mut self, resource: &str, standing: Standing) {
        self.free(standing);
        if let Some(held) = self.per_resource.get_mut(resource) {
            *held = held.saturating_sub(1);
            if *held == 0 {
                self.per_resource.remove(resource);
            }
        }
    }

    fn free(&mut self, standing: Standing) {
        match standing {
            Standing::Active => self.active = self.active.saturating_sub(1),
            Standing::Reserve => self.reserve_used = self.reserve_used.saturating_sub(1),
            Standing::Straggler => {}
        }
    }
}

/// Whether a transition moves a replica toward the model's top state or
/// away from it (what a failover needs first).
pub(crate) fn is_failover_critical(top_state: Option<&str>, from: &str, to: &str) -> bool {
    top_state.is_some_and(|top| top.eq_ignore_ascii_case(to) || top.eq_ignore_ascii_case(from))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_resource_cannot_take_every_slot() {
        let mut slots = Slots::new(4);
        assert_eq!(slots.per_resource_bound(), 3);
        for _ in 0..3 {
            assert_eq!(slots.try_admit("hung", false), Some(Standing::Active));
        }
        assert_eq!(slots.try_admit("hung", false), None, "bound per resource");
        assert_eq!(slots.try_admit("healthy", false), Some(Standing::Active));
        assert_eq!(
            slots.try_admit("healthy", false),
            None,
            "all active slots taken"
        );
        assert_eq!(
            slots.try_admit("healthy", true),
            Some(Standing::Reserve),
            "a failover uses the reserve"
        );
        assert_eq!(slots.try_admit("other", true), None, "reserve used up");
        assert!(!slots.has_room("other"), "nothing can be admitted");
        assert!(!slots.has_room("hung"), "nor for a resource at its bound");
        slots.release("healthy", Standing::Reserve);
        assert!(
            slots.has_room("other"),
            "a failover can use the reserve again"
        );
        assert!(!slots.has_room("hung"), "still at its bound");
    }

    #[test]
    fn stragglers_free_their_active_slot_but_not_their_resource_slot() {
        let mut slots = Slots::new(16);
        let mut hung = Vec::new();
        for resource in ["a", "b"] {
            while let Some(standing) = slots.try_admit(resource, false) {
                hung.push((resource, standing));
            }
        }
        assert_eq!(slots.running(), 16);
        assert_eq!(slots.try_admit("c", false), None);
        for (_, standing) in &mut hung {
            *standing = slots.demote(*standing);
        }
        assert_eq!(slots.try_admit("c", false), Some(Standing::Active));
        assert_eq!(slots.try_admit("a", false), None, "a still holds its bound");
        for (resource, standing) in hung {
            slots.release(resource, standing);
        }
        assert_eq!(slots.running(), 1);
    }

    #[test]
    fn a_single_slot_still_serves() {
        let mut slots = Slots::new(0);
        assert_eq!(slots.per_resource_bound(), 1);
        let standing = slots.try_admit("r", false).expect("admitted");
        assert_eq!(slots.try_admit("r", true), None);
        assert_eq!(slots.try_admit("s", true), Some(Standing::Reserve));
        slots.release("r", standing);
        assert_eq!(slots.try_admit("r", false), Some(Standing::Active));
    }

    #[test]
    fn failover_critical_means_toward_or_away_from_the_top_state() {
        assert!(is_failover_critical(Some("MASTER"), "SLAVE", "MASTER"));
        assert!(is_failover_critical(Some("MASTER"), "MASTER", "SLAVE"));
        assert!(!is_failover_critical(Some("MASTER"), "OFFLINE", "SLAVE"));
        assert!(!is_failover_critical(None, "OFFLINE", "SLAVE"));
    }
}
