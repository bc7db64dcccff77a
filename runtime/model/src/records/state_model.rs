//! [`StateModelDefinition`] — `/<C>/STATEMODELDEFS/<name>`: states in priority order,
//! per-state count bounds, transitions in priority order, the initial state and the
//! `.next` shortest-path table, plus Helix's implicit ERROR/DROPPED defaults.

use indexmap::IndexMap;

use super::typed_record;
use crate::error::ModelError;
use crate::java;
use crate::znrecord::{FieldMap, ZNRecord};

/// Keys of a state model definition (Helix spellings).
pub mod keys {
    /// SF initial state (required).
    pub const INITIAL_STATE: &str = "INITIAL_STATE";
    /// LF states, highest priority first.
    pub const STATE_PRIORITY_LIST: &str = "STATE_PRIORITY_LIST";
    /// LF transitions `FROM-TO`, most important first.
    pub const STATE_TRANSITION_PRIORITYLIST: &str = "STATE_TRANSITION_PRIORITYLIST";
    /// Suffix of the MF holding a state's metadata (`{"count": bound}`).
    pub const META_SUFFIX: &str = ".meta";
    /// Suffix of the MF holding a state's next-hop table (`{target: next}`).
    pub const NEXT_SUFFIX: &str = ".next";
    /// Key (lowercase!) of the bound inside `<STATE>.meta`.
    pub const COUNT: &str = "count";
}

/// Helix's `DROPPED` state: remove the replica.
pub const DROPPED: &str = "DROPPED";
/// Helix's `ERROR` state: a transition failed.
pub const ERROR: &str = "ERROR";

/// A state's replica-count bound (`<STATE>.meta` `count`). The one count type of
/// the workspace: Helix records, plugin definitions ([`crate::plugin`]) and the
/// plugin host use it; it serializes as Helix spells it (`"1"`, `"R"`, `"N"`, `"-1"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum Count {
    /// A fixed number of replicas (`"1"`, `"2"`, …).
    Fixed(u32),
    /// `"R"`: as many as the resource's replicas (preference-list length).
    Replicas,
    /// `"N"`: every candidate node.
    Nodes,
    /// `"-1"`: no bound (the state is not assigned by count).
    Unbounded,
}

impl Count {
    /// Parse a bound (`None` if unparsable). Any negative number is unbounded.
    pub fn parse(value: &str) -> Option<Self> {
        match value.trim() {
            "R" => Some(Count::Replicas),
            "N" => Some(Count::Nodes),
            other => {
                let n: i64 = other.parse().ok()?;
                Some(u32::try_from(n).map_or(Count::Unbounded, Count::Fixed))
            }
        }
    }

    /// The Helix spelling.
    pub fn to_field(self) -> String {
        match self {
            Count::Fixed(n) => n.to_string(),
            Count::Replicas => "R".into(),
            Count::Nodes => "N".into(),
            Count::Unbounded => "-1".into(),
        }
    }
}

impl From<Count> for String {
    fn from(count: Count) -> String {
        count.to_field()
    }
}

impl TryFrom<String> for Count {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        Count::parse(&value).ok_or_else(|| format!("bad count bound {value:?}"))
    }
}

typed_record! {
    /// StateModelDefinition (id = model name).
    StateModelDefinition
}

impl StateModelDefinition {
    /// `INITIAL_STATE` (required; see [`StateModelDefinition::validate`]).
    pub fn initial_state(&self) -> Option<&str> {
        self.0.simple(keys::INITIAL_STATE)
    }

    /// States, highest priority first (`STATE_PRIORITY_LIST`).
    pub fn states(&self) -> &[String] {
        self.0.list(keys::STATE_PRIORITY_LIST).unwrap_or_default()
    }

    /// The top state (first in priority).
    pub fn top_state(&self) -> Option<&str> {
        self.states().first().map(String::as_str)
    }

    /// A state's priority: 1 for the top state; `u32::MAX` for ERROR/DROPPED when not
    /// listed (Helix gives them the lowest priority); `None` for unknown states.
    pub fn priority(&self, state: &str) -> Option<u32> {
        match self.states().iter().position(|s| s == state) {
            Some(i) => u32::try_from(i + 1).ok(),
            None if state == ERROR || state == DROPPED => Some(u32::MAX),
            None => None,
        }
    }

    /// A state's count bound. ERROR and DROPPED are unbounded when not listed.
    pub fn count(&self, state: &str) -> Option<Count> {
        let listed = self.states().iter().any(|s| s == state);
        if !listed {
            return (state == ERROR || state == DROPPED).then_some(Count::Unbounded);
        }
        self.0
            .map(&format!("{state}{}", keys::META_SUFFIX))
            .and_then(|m| m.get(keys::COUNT))
            .and_then(|c| Count::parse(c))
    }

    /// Transitions `(from, to)`, most important first (`STATE_TRANSITION_PRIORITYLIST`).
    pub fn transitions(&self) -> Vec<(&str, &str)> {
        self.0
            .list(keys::STATE_TRANSITION_PRIORITYLIST)
            .unwrap_or_default()
            .iter()
            .filter_map(|t| self.split_transition(t))
            .collect()
    }

    /// A transition's priority (0 = most important), `None` if not listed.
    pub fn transition_priority(&self, from: &str, to: &str) -> Option<usize> {
        self.transitions()
            .iter()
            .position(|&(f, t)| f == from && t == to)
    }

    /// The raw `<state>.next` table.
    pub fn next_table(&self, state: &str) -> Option<&FieldMap> {
        self.0.map(&format!("{state}{}", keys::NEXT_SUFFIX))
    }

    /// The next hop from `from` towards `to` (`getNextStateForTransition`): the
    /// `<from>.next` table, then Helix's implicit defaults ERROR→DROPPED via DROPPED,
    /// ERROR→initial via initial, initial→DROPPED via DROPPED.
    pub fn next_state(&self, from: &str, to: &str) -> Option<&str> {
        if let Some(next) = self.next_table(from).and_then(|t| t.get(to)) {
            return Some(next);
        }
        let initial = self.initial_state()?;
        if from == ERROR && to == DROPPED {
            Some(DROPPED)
        } else if from == ERROR && to == initial {
            Some(initial)
        } else if from == initial && to == DROPPED {
            Some(DROPPED)
        } else {
            None
        }
    }

    /// Whether at most one replica may be in the top state (top count is `1`).
    pub fn is_single_top_state(&self) -> bool {
        self.top_state()
            .and_then(|t| self.count(t))
            .is_some_and(|c| c == Count::Fixed(1))
    }

    /// States one hop from the top state: those whose `.next` maps the top state to
    /// itself (e.g. SLAVE in MasterSlave).
    pub fn second_top_states(&self) -> Vec<&str> {
        let Some(top) = self.top_state() else {
            return Vec::new();
        };
        self.states()
            .iter()
            .map(String::as_str)
            .filter(|s| {
                self.next_table(s)
                    .and_then(|t| t.get(top))
                    .is_some_and(|n| n == top)
            })
            .collect()
    }

    /// Whether `from → to` moves to a higher-priority state.
    pub fn is_upward_transition(&self, from: &str, to: &str) -> bool {
        match (self.priority(from), self.priority(to)) {
            (Some(f), Some(t)) => t < f,
            _ => false,
        }
    }

    /// Helix's `getStateCountMap`: how many replicas each bounded state gets with
    /// `candidate_nodes` live candidates and `total_replicas` replicas. Fixed and `N`
    /// bounds are filled in priority order, then the (single) `R` state takes what is
    /// left.
    pub fn state_count_map(
        &self,
        candidate_nodes: usize,
        total_replicas: usize,
    ) -> IndexMap<String, usize> {
        let mut counts = IndexMap::new();
        let mut candidates = candidate_nodes;
        let mut replicas = i64::try_from(total_replicas).unwrap_or(i64::MAX);
        let as_i64 = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        for state in self.states() {
            if candidates == 0 {
                break;
            }
            match self.count(state) {
                Some(Count::Nodes) => {
                    counts.insert(state.clone(), candidates);
                    replicas -= as_i64(candidates);
                    break;
                }
                Some(Count::Fixed(n)) if n > 0 => {
                    let n = usize::try_from(n).unwrap_or(usize::MAX).min(candidates);
                    candidates -= n;
                    counts.insert(state.clone(), n);
                    replicas -= as_i64(n);
                }
                _ => {}
            }
        }
        if candidates > 0
            && replicas > 0
            && let Some(state) = self
                .states()
                .iter()
                .find(|s| self.count(s) == Some(Count::Replicas))
        {
            let r = usize::try_from(replicas).unwrap_or(usize::MAX);
            counts.insert(state.clone(), r.min(candidates));
        }
        counts
    }

    /// Structural checks: an initial state, a non-empty priority list that contains
    /// the initial state, and a parsable count for every listed state.
    pub fn validate(&self) -> Result<(), ModelError> {
        let missing = |field: &str| ModelError::MissingField {
            record: "StateModelDefinition",
            id: self.id().into(),
            field: field.into(),
        };
        let initial = self
            .initial_state()
            .ok_or_else(|| missing(keys::INITIAL_STATE))?;
        if self.states().is_empty() {
            return Err(missing(keys::STATE_PRIORITY_LIST));
        }
        if !self.states().iter().any(|s| s == initial) {
            return Err(ModelError::InvalidValue {
                field: format!(
                    "StateModelDefinition '{}' {}",
                    self.id(),
                    keys::INITIAL_STATE
                ),
                value: initial.into(),
                expected: "a state listed in STATE_PRIORITY_LIST",
            });
        }
        for state in self.states() {
            let key = format!("{state}{}", keys::META_SUFFIX);
            if let Some(raw) = self.0.map(&key).and_then(|m| m.get(keys::COUNT))
                && Count::parse(raw).is_none()
            {
                return Err(ModelError::InvalidValue {
                    field: format!("StateModelDefinition '{}' {key}", self.id()),
                    value: raw.clone(),
                    expected: "an integer, R or N",
                });
            }
        }
        Ok(())
    }

    /// Split `FROM-TO`, preferring a split where both sides are known states (state
    /// names may themselves contain `-`).
    fn split_transition<'a>(&self, text: &'a str) -> Option<(&'a str, &'a str)> {
        let states = self.states();
        let known = |s: &str| states.iter().any(|k| k == s);
        let candidates: Vec<(&str, &str)> = text
            .match_indices('-')
            .map(|(i, _)| (&text[..i], &text[i + 1..]))
            .collect();
        candidates
            .iter()
            .find(|(f, t)| known(f) && known(t))
            .or_else(|| candidates.first())
            .copied()
    }
}

/// What Helix's `StateModelDefinition` constructor does to the record it wraps: the
/// implicit transitions ERROR→DROPPED, ERROR→initial and initial→DROPPED are added to
/// the `.next` maps of listed states that have one (Helix shares those maps with the
/// record, so they end up written to ZooKeeper), in Java `HashMap` order.
pub(crate) fn add_default_transitions(record: &mut ZNRecord) {
    let Some(initial) = record.simple(keys::INITIAL_STATE).map(str::to_string) else {
        return;
    };
    let listed: Vec<String> = record
        .list(keys::STATE_PRIORITY_LIST)
        .unwrap_or_default()
        .to_vec();
    for (from, to, next) in [
        (ERROR, DROPPED, DROPPED),
        (ERROR, initial.as_str(), initial.as_str()),
        (initial.as_str(), DROPPED, DROPPED),
    ] {
        if !listed.iter().any(|s| s == from) {
            continue;
        }
        let key = format!("{from}{}", keys::NEXT_SUFFIX);
        let Some(map) = record.map_fields.get_mut(&key) else {
            continue;
        };
        if map.contains_key(to) {
            continue;
        }
        let mut entries: Vec<(String, String)> =
            map.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        entries.push((to.to_string(), next.to_string()));
        *map = java::hashmap_of(entries);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn master_slave() -> StateModelDefinition {
        crate::builtin::master_slave()
    }

    #[test]
    fn counts_parse() {
        assert_eq!(Count::parse("1"), Some(Count::Fixed(1)));
        assert_eq!(Count::parse("R"), Some(Count::Replicas));
        assert_eq!(Count::parse("N"), Some(Count::Nodes));
        assert_eq!(Count::parse("-1"), Some(Count::Unbounded));
        assert_eq!(Count::parse("x"), None);
        assert_eq!(Count::Unbounded.to_field(), "-1");
    }

    #[test]
    fn master_slave_queries() {
        let ms = master_slave();
        assert!(ms.validate().is_ok());
        assert_eq!(ms.initial_state(), Some("OFFLINE"));
        assert_eq!(ms.top_state(), Some("MASTER"));
        assert_eq!(ms.priority("MASTER"), Some(1));
        assert_eq!(ms.priority("ERROR"), Some(5));
        assert_eq!(ms.count("MASTER"), Some(Count::Fixed(1)));
        assert_eq!(ms.count("SLAVE"), Some(Count::Replicas));
        assert!(ms.is_single_top_state());
        assert_eq!(ms.second_top_states(), ["SLAVE"]);
        assert_eq!(ms.next_state("OFFLINE", "MASTER"), Some("SLAVE"));
        assert_eq!(ms.next_state("MASTER", "DROPPED"), Some("SLAVE"));
        assert_eq!(ms.next_state("ERROR", "OFFLINE"), Some("OFFLINE"));
        assert_eq!(ms.next_state("ERROR", "DROPPED"), Some("DROPPED"));
        assert_eq!(ms.next_state("DROPPED", "MASTER"), None);
        assert_eq!(ms.transitions()[0], ("MASTER", "SLAVE"));
        assert_eq!(ms.transition_priority("OFFLINE", "DROPPED"), Some(4));
        assert!(ms.is_upward_transition("SLAVE", "MASTER"));
        assert!(!ms.is_upward_transition("MASTER", "SLAVE"));
        let counts = ms.state_count_map(3, 3);
        assert_eq!(counts.get("MASTER"), Some(&1));
        assert_eq!(counts.get("SLAVE"), Some(&2));
        let counts = ms.state_count_map(1, 3);
        assert_eq!(
            (counts.get("MASTER"), counts.get("SLAVE")),
            (Some(&1), None)
        );
    }

    #[test]
    fn implicit_defaults_for_unlisted_error() {
        let ls = crate::builtin::leader_standby();
        assert_eq!(ls.priority("ERROR"), Some(u32::MAX));
        assert_eq!(ls.count("ERROR"), Some(Count::Unbounded));
        assert_eq!(ls.next_state("ERROR", "OFFLINE"), Some("OFFLINE"));
        assert_eq!(ls.next_state("ERROR", "DROPPED"), Some("DROPPED"));
        assert_eq!(ls.count("NOPE"), None);
    }

    #[test]
    fn validation_errors() {
        let mut r = ZNRecord::new("Bad");
        assert!(matches!(
            StateModelDefinition::from(r.clone()).validate(),
            Err(ModelError::MissingField { .. })
        ));
        r.set_simple(keys::INITIAL_STATE, "OFFLINE");
        r.set_list(keys::STATE_PRIORITY_LIST, ["ONLINE"]);
        assert!(matches!(
            StateModelDefinition::from(r.clone()).validate(),
            Err(ModelError::InvalidValue { .. })
        ));
        r.set_list(keys::STATE_PRIORITY_LIST, ["ONLINE", "OFFLINE"]);
        r.map_mut("ONLINE.meta")
            .insert("count".into(), "lots".into());
        assert!(StateModelDefinition::from(r).validate().is_err());
    }

    #[test]
    fn transitions_with_dashes_in_state_names() {
        let mut r = ZNRecord::new("Dashy");
        r.set_simple(keys::INITIAL_STATE, "A-1");
        r.set_list(keys::STATE_PRIORITY_LIST, ["A-1", "B"]);
        r.set_list(keys::STATE_TRANSITION_PRIORITYLIST, ["A-1-B"]);
        assert_eq!(StateModelDefinition::from(r).transitions(), [("A-1", "B")]);
    }
}
