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
//!   slots beyond `N`, shared by all resources;
//! * handoffs — critical transitions that do not start from the initial
//!   state (SLAVE→MASTER, MASTER→SLAVE, but not OnlineOffline's
//!   OFFLINE→ONLINE bootstrap) — may take those reserve slots beyond
//!   their resource's bound too: a handoff never waits for a rejoining
//!   instance's bootstraps of the same resource (the inbox also looks at
//!   it first, [`crate::inbox`]), while a resource whose bootstraps hang
//!   still holds only `N - reserve`;
//! * a call that runs longer than `straggler_after` (default 5 s) stops
//!   counting as active: it keeps its resource's slot (so a resource never
//!   has more than `N - reserve` calls running, hung or not), but no longer
//!   blocks other resources, however many resources hang.
//!
//! Pure bookkeeping: the engine asks [`Slots::try_admit`] and reports
//! [`Slots::demote`] / [`Slots::release`].

use std::collections::HashMap;

/// What a transition may take (module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub(crate) enum Urgency {
    /// Active slots within its resource's bound.
    #[default]
    Routine,
    /// Failover-critical: also the reserve, within its resource's bound.
    Critical,
    /// A handoff: also the reserve beyond its resource's bound.
    Handoff,
}

impl Urgency {
    /// The urgency of `from → to` in a model with this top and initial
    /// state. `from` may be `*` (any state): a critical `* → to` counts as
    /// a handoff, the most it might be once its replica's state is known.
    pub(crate) fn of(top: Option<&str>, initial: Option<&str>, from: &str, to: &str) -> Self {
        if !is_failover_critical(top, from, to) {
            return Urgency::Routine;
        }
        if initial.is_some_and(|i| i.eq_ignore_ascii_case(from)) {
            Urgency::Critical
        } else {
            Urgency::Handoff
        }
    }
}

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

    /// Whether a transition of `resource` of this `urgency` could be
    /// admitted now: when not, a pass need not look further at the message.
    pub(crate) fn has_room(&self, resource: &str, urgency: Urgency) -> bool {
        let held = self.per_resource.get(resource).copied().unwrap_or(0);
        let reserve_free = self.reserve_used < self.reserve;
        if held >= self.per_resource_bound() {
            return urgency == Urgency::Handoff && reserve_free;
        }
        self.active < self.max_parallel || (urgency != Urgency::Routine && reserve_free)
    }

    /// Takes a slot for a transition of `resource` if the rule allows it.
    pub(crate) fn try_admit(&mut self, resource: &str, urgency: Urgency) -> Option<Standing> {
        let held = self.per_resource.get(resource).copied().unwrap_or(0);
        let under_bound = held < self.per_resource_bound();
        let may_reserve = match urgency {
            Urgency::Routine => false,
            Urgency::Critical => under_bound,
            Urgency::Handoff => true,
        };
        let standing = if under_bound && self.active < self.max_parallel {
            self.active += 1;
            Standing::Active
        } else if may_reserve && self.reserve_used < self.reserve {
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
            assert_eq!(
                slots.try_admit("hung", Urgency::Routine),
                Some(Standing::Active)
            );
        }
        assert_eq!(
            slots.try_admit("hung", Urgency::Routine),
            None,
            "bound per resource"
        );
        assert_eq!(
            slots.try_admit("healthy", Urgency::Routine),
            Some(Standing::Active)
        );
        assert_eq!(
            slots.try_admit("healthy", Urgency::Routine),
            None,
            "all active slots taken"
        );
        assert_eq!(
            slots.try_admit("healthy", Urgency::Critical),
            Some(Standing::Reserve),
            "a failover uses the reserve"
        );
        assert_eq!(
            slots.try_admit("other", Urgency::Critical),
            None,
            "reserve used up"
        );
        assert!(
            !slots.has_room("other", Urgency::Critical),
            "nothing can be admitted"
        );
        assert!(
            !slots.has_room("hung", Urgency::Routine),
            "nor for a resource at its bound"
        );
        slots.release("healthy", Standing::Reserve);
        assert!(
            slots.has_room("other", Urgency::Critical),
            "a failover can use the reserve again"
        );
        assert!(
            !slots.has_room("other", Urgency::Routine),
            "but nothing else"
        );
        assert!(
            !slots.has_room("hung", Urgency::Routine),
            "still at its bound"
        );
    }

    #[test]
    fn a_handoff_passes_its_own_resource_s_bootstraps() {
        let mut slots = Slots::new(40);
        while slots.try_admit("db", Urgency::Routine).is_some() {}
        assert_eq!(slots.running(), 30, "one resource holds N - reserve");
        assert!(!slots.has_room("db", Urgency::Routine));
        assert!(
            slots.has_room("db", Urgency::Handoff),
            "a handoff may use the reserve"
        );
        for _ in 0..10 {
            assert_eq!(
                slots.try_admit("db", Urgency::Handoff),
                Some(Standing::Reserve)
            );
        }
        assert_eq!(
            slots.try_admit("db", Urgency::Handoff),
            None,
            "the reserve is used up"
        );
        assert_eq!(
            slots.try_admit("other", Urgency::Routine),
            Some(Standing::Active),
            "other resources keep the rest of the active slots"
        );
    }

    #[test]
    fn stragglers_free_their_active_slot_but_not_their_resource_slot() {
        let mut slots = Slots::new(16);
        let mut hung = Vec::new();
        for resource in ["a", "b"] {
            while let Some(standing) = slots.try_admit(resource, Urgency::Routine) {
                hung.push((resource, standing));
            }
        }
        assert_eq!(slots.running(), 16);
        assert_eq!(slots.try_admit("c", Urgency::Routine), None);
        for (_, standing) in &mut hung {
            *standing = slots.demote(*standing);
        }
        assert_eq!(
            slots.try_admit("c", Urgency::Routine),
            Some(Standing::Active)
        );
        assert_eq!(
            slots.try_admit("a", Urgency::Routine),
            None,
            "a still holds its bound"
        );
        for (resource, standing) in hung {
            slots.release(resource, standing);
        }
        assert_eq!(slots.running(), 1);
    }

    #[test]
    fn a_single_slot_still_serves() {
        let mut slots = Slots::new(0);
        assert_eq!(slots.per_resource_bound(), 1);
        let standing = slots.try_admit("r", Urgency::Routine).expect("admitted");
        assert_eq!(slots.try_admit("r", Urgency::Routine), None);
        assert_eq!(
            slots.try_admit("s", Urgency::Critical),
            Some(Standing::Reserve)
        );
        assert_eq!(
            slots.try_admit("r", Urgency::Handoff),
            None,
            "the reserve is taken"
        );
        slots.release("r", standing);
        assert_eq!(
            slots.try_admit("r", Urgency::Routine),
            Some(Standing::Active)
        );
    }

    #[test]
    fn a_bootstrap_toward_the_top_state_stays_within_its_resource_s_bound() {
        let mut slots = Slots::new(4);
        for _ in 0..3 {
            slots
                .try_admit("spin", Urgency::Critical)
                .expect("admitted");
        }
        assert_eq!(slots.try_admit("spin", Urgency::Critical), None);
        assert_eq!(
            Urgency::of(Some("ONLINE"), Some("OFFLINE"), "OFFLINE", "ONLINE"),
            Urgency::Critical
        );
        assert_eq!(
            Urgency::of(Some("MASTER"), Some("OFFLINE"), "SLAVE", "MASTER"),
            Urgency::Handoff
        );
        assert_eq!(
            Urgency::of(Some("MASTER"), Some("OFFLINE"), "MASTER", "SLAVE"),
            Urgency::Handoff
        );
        assert_eq!(
            Urgency::of(Some("MASTER"), Some("OFFLINE"), "OFFLINE", "SLAVE"),
            Urgency::Routine
        );
        assert_eq!(
            Urgency::of(Some("MASTER"), Some("OFFLINE"), "*", "MASTER"),
            Urgency::Handoff,
            "any state: the most it might take"
        );
    }

    #[test]
    fn failover_critical_means_toward_or_away_from_the_top_state() {
        assert!(is_failover_critical(Some("MASTER"), "SLAVE", "MASTER"));
        assert!(is_failover_critical(Some("MASTER"), "MASTER", "SLAVE"));
        assert!(!is_failover_critical(Some("MASTER"), "OFFLINE", "SLAVE"));
        assert!(!is_failover_critical(None, "OFFLINE", "SLAVE"));
    }
}
