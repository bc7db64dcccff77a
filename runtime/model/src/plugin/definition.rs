//! What a plugin says about itself, as plain Rust values: a state model's
//! definition ([`StateModelSpec`]: everything a Helix `StateModelDefinition`
//! record needs, and [`StateModelSpec::to_helix`] builds that record) and an
//! aggregator's info; the checks that need no engine, and the comparison a
//! hot swap reports.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::records::{Count, StateModelDefinition, StateModelDefinitionBuilder};

/// One state and its count bound.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateDef {
    /// The state's name, e.g. `MASTER`.
    pub name: String,
    /// Its count bound.
    pub count: Count,
}

/// One transition `from -> to`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Transition {
    /// The state left.
    pub from: String,
    /// The state entered.
    pub to: String,
}

impl fmt::Display for Transition {
    /// Helix's `FROM-TO` form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.from, self.to)
    }
}

/// A state model's definition as its plugin reports it (and as the plugin
/// store records it, as JSON): states with their bounds in priority order,
/// transitions in priority order, the initial state, and the plugin's version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateModelSpec {
    /// The StateModelDefinition id, e.g. `MasterSlave`.
    pub name: String,
    /// The plugin's own version; not part of the definition's identity.
    pub version: String,
    /// States, highest priority first.
    pub states: Vec<StateDef>,
    /// Transitions, most important first.
    pub transitions: Vec<Transition>,
    /// The initial state.
    pub initial_state: String,
}

/// States Helix adds implicitly to every model (the `HelixDefinedState`s the
/// `StateModelDefinition` constructor gives the lowest priority).
const IMPLICIT_STATES: [&str; 2] = ["ERROR", "DROPPED"];

impl StateModelSpec {
    /// Helix's record for this definition, under the id `name` (a deployed
    /// plugin's name, which may differ from the name the component reports).
    pub fn to_helix(&self, name: &str) -> StateModelDefinition {
        let mut builder = StateModelDefinitionBuilder::new(name).initial_state(&self.initial_state);
        for (priority, state) in self.states.iter().enumerate() {
            let priority = i32::try_from(priority).unwrap_or(i32::MAX);
            builder = builder
                .state(&state.name, priority)
                .bound(&state.name, state.count);
        }
        for (priority, t) in self.transitions.iter().enumerate() {
            let priority = i32::try_from(priority).unwrap_or(i32::MAX);
            builder = builder.transition(&t.from, &t.to, priority);
        }
        builder.build()
    }

    /// Helix `STATE_PRIORITY_LIST`.
    pub fn state_priority_list(&self) -> Vec<String> {
        self.states.iter().map(|s| s.name.clone()).collect()
    }

    /// Helix `STATE_TRANSITION_PRIORITYLIST` (`FROM-TO` strings).
    pub fn transition_priority_list(&self) -> Vec<String> {
        self.transitions.iter().map(ToString::to_string).collect()
    }

    /// Checks the definition is usable: a name, unique states, an initial
    /// state among them, transitions between known states (ERROR and DROPPED
    /// are always known) without duplicates.
    pub fn validate(&self) -> Result<(), String> {
        if self.name.is_empty() {
            return Err("the model has no name".into());
        }
        if self.states.is_empty() {
            return Err(format!("model {} has no states", self.name));
        }
        let mut seen = std::collections::HashSet::new();
        for s in &self.states {
            if s.name.is_empty() || !seen.insert(s.name.as_str()) {
                return Err(format!(
                    "model {}: empty or duplicate state {:?}",
                    self.name, s.name
                ));
            }
        }
        if !seen.contains(self.initial_state.as_str()) {
            return Err(format!(
                "model {}: initial state {} is not a state",
                self.name, self.initial_state
            ));
        }
        let known = |s: &str| seen.contains(s) || IMPLICIT_STATES.contains(&s);
        let mut pairs = std::collections::HashSet::new();
        for t in &self.transitions {
            if !known(&t.from) || !known(&t.to) || t.from == t.to {
                return Err(format!(
                    "model {}: transition {t} names an unknown state",
                    self.name
                ));
            }
            if !pairs.insert(t) {
                return Err(format!("model {}: duplicate transition {t}", self.name));
            }
        }
        Ok(())
    }

    /// What changed from `old` to `self`, ignoring the version.
    pub fn changes_from(&self, old: &StateModelSpec) -> Changes {
        let mut c = Changes::default();
        if self.name != old.name {
            c.breaking(format!("name {} -> {}", old.name, self.name));
        }
        if self.initial_state != old.initial_state {
            c.breaking(format!(
                "initial state {} -> {}",
                old.initial_state, self.initial_state
            ));
        }
        let find =
            |defs: &[StateDef], name: &str| defs.iter().find(|s| s.name == name).map(|s| s.count);
        for s in &old.states {
            match find(&self.states, &s.name) {
                None => c.breaking(format!("state {} removed", s.name)),
                Some(count) if count != s.count => c.compatible(format!(
                    "state {} count {} -> {}",
                    s.name,
                    s.count.to_field(),
                    count.to_field()
                )),
                Some(_) => {}
            }
        }
        for s in self
            .states
            .iter()
            .filter(|s| find(&old.states, &s.name).is_none())
        {
            c.compatible(format!(
                "state {} added (count {})",
                s.name,
                s.count.to_field()
            ));
        }
        for t in old
            .transitions
            .iter()
            .filter(|t| !self.transitions.contains(t))
        {
            c.breaking(format!("transition {t} removed"));
        }
        for t in self
            .transitions
            .iter()
            .filter(|t| !old.transitions.contains(t))
        {
            c.compatible(format!("transition {t} added"));
        }
        let common = |a: &[String], b: &[String]| {
            a.iter()
                .filter(|x| b.contains(x))
                .cloned()
                .collect::<Vec<_>>()
        };
        let (old_s, new_s) = (old.state_priority_list(), self.state_priority_list());
        if common(&old_s, &new_s) != common(&new_s, &old_s) {
            c.compatible(format!("state priority {old_s:?} -> {new_s:?}"));
        }
        let (old_t, new_t) = (
            old.transition_priority_list(),
            self.transition_priority_list(),
        );
        if common(&old_t, &new_t) != common(&new_t, &old_t) {
            c.compatible(format!("transition priority {old_t:?} -> {new_t:?}"));
        }
        c
    }
}

/// What an aggregator reports about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AggregatorInfo {
    /// Its name, e.g. `partition-summary`.
    pub name: String,
    /// The plugin's own version.
    pub version: String,
    /// What its view contains.
    pub description: String,
}

impl AggregatorInfo {
    /// What changed from `old` to `self`, ignoring version and description.
    pub fn changes_from(&self, old: &AggregatorInfo) -> Changes {
        let mut c = Changes::default();
        if self.name != old.name {
            c.breaking(format!("name {} -> {}", old.name, self.name));
        }
        c
    }
}

/// The differences between a running plugin's description and a candidate's.
///
/// *Breaking* changes can strand live replicas (a removed state or
/// transition, another initial state or model name); *compatible* ones
/// (added states or transitions, new priorities or counts) cannot.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Changes {
    /// Changes that can strand live replicas.
    pub breaking: Vec<String>,
    /// Changes that cannot.
    pub compatible: Vec<String>,
}

impl Changes {
    fn breaking(&mut self, what: String) {
        self.breaking.push(what);
    }

    fn compatible(&mut self, what: String) {
        self.compatible.push(what);
    }

    /// No change at all.
    pub fn is_empty(&self) -> bool {
        self.breaking.is_empty() && self.compatible.is_empty()
    }
}

impl fmt::Display for Changes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("no change");
        }
        let all: Vec<String> = (self.breaking.iter().map(|b| format!("{b} (breaking)")))
            .chain(self.compatible.iter().cloned())
            .collect();
        f.write_str(&all.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(states: &[&str], transitions: &[(&str, &str)]) -> StateModelSpec {
        StateModelSpec {
            name: "M".into(),
            version: "1".into(),
            states: states
                .iter()
                .map(|s| StateDef {
                    name: (*s).into(),
                    count: Count::Unbounded,
                })
                .collect(),
            transitions: transitions
                .iter()
                .map(|(f, t)| Transition {
                    from: (*f).into(),
                    to: (*t).into(),
                })
                .collect(),
            initial_state: "OFFLINE".into(),
        }
    }

    #[test]
    fn count_bounds_round_trip_through_helix_strings() {
        for c in [
            Count::Fixed(1),
            Count::Replicas,
            Count::Nodes,
            Count::Unbounded,
        ] {
            assert_eq!(Count::try_from(c.to_field()), Ok(c));
            let json = serde_json::to_string(&c).expect("serializes");
            assert_eq!(serde_json::from_str::<Count>(&json).ok(), Some(c));
        }
        assert!(Count::try_from("lots".to_owned()).is_err());
    }

    #[test]
    fn changes_classify_removed_and_added_items() {
        let old = model(
            &["ONLINE", "OFFLINE"],
            &[("OFFLINE", "ONLINE"), ("ONLINE", "OFFLINE")],
        );
        let mut new = model(
            &["ONLINE", "OFFLINE", "BOOT"],
            &[("OFFLINE", "ONLINE"), ("OFFLINE", "BOOT")],
        );
        new.version = "2".into();
        let c = new.changes_from(&old);
        assert_eq!(
            c.breaking,
            vec!["transition ONLINE-OFFLINE removed".to_string()]
        );
        assert!(c.compatible.iter().any(|x| x.contains("BOOT added")));
        assert!(!c.breaking.is_empty());
        assert!(old.changes_from(&old).is_empty());
    }

    #[test]
    fn validate_rejects_unknown_states_but_knows_error_and_dropped() {
        assert!(
            model(
                &["ONLINE", "OFFLINE"],
                &[("OFFLINE", "DROPPED"), ("ERROR", "OFFLINE")]
            )
            .validate()
            .is_ok()
        );
        assert!(
            model(&["ONLINE", "OFFLINE"], &[("OFFLINE", "MASTER")])
                .validate()
                .is_err()
        );
        assert!(model(&["ONLINE"], &[]).validate().is_err());
    }
}
