//! [`StateModelDefinitionBuilder`]: builds a state model definition the way Helix's
//! `StateModelDefinition.Builder` does — priority-sorted states and transitions and a
//! `.next` table of shortest paths (Floyd–Warshall) — down to Java's map orders, so
//! the written record matches what Helix would write.

use indexmap::IndexMap;

use super::state_model::{Count, StateModelDefinition, add_default_transitions, keys};
use crate::java;
use crate::znrecord::ZNRecord;

/// Builder for a [`StateModelDefinition`] (Helix's `StateModelDefinition.Builder`).
///
/// Lower priority values are more important; states and transitions added without a
/// priority get `i32::MAX` (ties keep Java `HashMap` order, as in Helix).
#[derive(Debug, Clone)]
pub struct StateModelDefinitionBuilder {
    name: String,
    initial_state: Option<String>,
    states: IndexMap<String, i32>,
    transitions: IndexMap<(String, String), i32>,
    bounds: IndexMap<String, Count>,
}

impl StateModelDefinitionBuilder {
    /// Start a model with this name (the record id).
    pub fn new(name: impl Into<String>) -> Self {
        StateModelDefinitionBuilder {
            name: name.into(),
            initial_state: None,
            states: IndexMap::new(),
            transitions: IndexMap::new(),
            bounds: IndexMap::new(),
        }
    }

    /// The state replicas start in.
    pub fn initial_state(mut self, state: &str) -> Self {
        self.initial_state = Some(state.to_string());
        self
    }

    /// Add a state with a priority (lower = higher priority).
    pub fn state(mut self, state: &str, priority: i32) -> Self {
        self.states.insert(state.to_string(), priority);
        self
    }

    /// Add a state with the lowest priority.
    pub fn state_lowest(self, state: &str) -> Self {
        self.state(state, i32::MAX)
    }

    /// Add a legal transition with a priority (lower = more important).
    pub fn transition(mut self, from: &str, to: &str, priority: i32) -> Self {
        self.transitions
            .insert((from.to_string(), to.to_string()), priority);
        self
    }

    /// Add a legal transition with the lowest priority.
    pub fn transition_lowest(self, from: &str, to: &str) -> Self {
        self.transition(from, to, i32::MAX)
    }

    /// Bound how many replicas may be in a state (`upperBound` / `dynamicUpperBound`).
    pub fn bound(mut self, state: &str, count: Count) -> Self {
        self.bounds.insert(state.to_string(), count);
        self
    }

    /// Build the definition. The record holds `INITIAL_STATE`, both priority lists,
    /// `<S>.meta` (`count`, `-1` when unbounded) for every state, and `<S>.next` for
    /// every state (and transition source), including Helix's implicit defaults.
    pub fn build(self) -> StateModelDefinition {
        let mut record = ZNRecord::new(self.name.as_str());

        // States: Java HashMap key order, then a stable sort by priority.
        let mut states: Vec<&str> = java::hashmap_order(self.states.keys().map(String::as_str));
        states.sort_by_key(|s| self.states.get(*s).copied().unwrap_or(i32::MAX));

        // Transitions: HashMap<Transition> order (hash of "FROM-TO"), stable sort.
        let names: Vec<String> = self
            .transitions
            .keys()
            .map(|(f, t)| format!("{f}-{t}"))
            .collect();
        let by_name: IndexMap<&str, (&(String, String), i32)> = names
            .iter()
            .map(String::as_str)
            .zip(self.transitions.iter().map(|(k, p)| (k, *p)))
            .collect();
        let mut transition_order: Vec<&str> = java::hashmap_order(names.iter().map(String::as_str));
        transition_order.sort_by_key(|n| by_name.get(n).map_or(i32::MAX, |(_, p)| *p));
        let transitions: Vec<(&str, &str)> = java::hashmap_order(names.iter().map(String::as_str))
            .into_iter()
            .filter_map(|n| by_name.get(n).map(|((f, t), _)| (f.as_str(), t.as_str())))
            .collect();

        if let Some(initial) = &self.initial_state {
            record.set_simple(keys::INITIAL_STATE, initial.as_str());
        }
        record.set_list(keys::STATE_PRIORITY_LIST, states.iter().copied());
        record.set_list(keys::STATE_TRANSITION_PRIORITYLIST, transition_order);

        for (from, next) in shortest_paths(&states, &transitions) {
            let entries: Vec<(String, String)> = next.into_iter().collect();
            record.set_map_field(
                format!("{from}{}", keys::NEXT_SUFFIX),
                java::hashmap_of(entries),
            );
        }
        for state in &states {
            let count = self.bounds.get(*state).copied().unwrap_or(Count::Unbounded);
            record.set_map_field(
                format!("{state}{}", keys::META_SUFFIX),
                java::hashmap_of([(keys::COUNT, count.to_field())]),
            );
        }
        add_default_transitions(&mut record);
        StateModelDefinition::from(record)
    }
}

/// Helix's `StateTransitionTableBuilder.buildTransitionTable`: Floyd–Warshall over
/// `states` with unit-length `transitions`; `next[from][to]` is the first hop. Each
/// inner map is returned in Java insertion order (self, direct transitions, then
/// relaxations), which [`java::hashmap_of`] turns into iteration order.
pub(crate) fn shortest_paths(
    states: &[&str],
    transitions: &[(&str, &str)],
) -> IndexMap<String, IndexMap<String, String>> {
    let mut dist: IndexMap<(String, String), u32> = IndexMap::new();
    let mut next: IndexMap<String, IndexMap<String, String>> = IndexMap::new();
    let set_next =
        |next: &mut IndexMap<String, IndexMap<String, String>>, from: &str, to: &str, hop: &str| {
            next.entry(from.to_string())
                .or_default()
                .insert(to.to_string(), hop.to_string());
        };
    for s in states {
        dist.insert((s.to_string(), s.to_string()), 0);
        set_next(&mut next, s, s, s);
    }
    for (from, to) in transitions {
        dist.insert((from.to_string(), to.to_string()), 1);
        set_next(&mut next, from, to, to);
    }
    let d = |dist: &IndexMap<(String, String), u32>, a: &str, b: &str| {
        dist.get(&(a.to_string(), b.to_string())).copied()
    };
    for k in states {
        for i in states {
            for j in states {
                let (Some(ik), Some(kj)) = (d(&dist, i, k), d(&dist, k, j)) else {
                    continue;
                };
                if d(&dist, i, j).is_none_or(|ij| ik + kj < ij) {
                    dist.insert((i.to_string(), j.to_string()), ik + kj);
                    let hop = next
                        .get(*i)
                        .and_then(|m| m.get(*k))
                        .cloned()
                        .unwrap_or_default();
                    set_next(&mut next, i, j, &hop);
                }
            }
        }
    }
    next
}
