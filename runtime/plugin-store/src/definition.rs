//! The comparison that decides whether a deployment may replace the
//! Helix `StateModelDefinition` record resources are using (the record
//! itself is built by [`strand_model::plugin::StateModelSpec::to_helix`]).

use std::collections::BTreeSet;

use strand_model::Count;

/// How a candidate definition differs from the one in the cluster.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DefinitionDiff {
    /// Changes to the states replicas can be in: states added or removed,
    /// another initial state, transitions removed. Refused while resources
    /// use the model, unless forced.
    pub state_changes: Vec<String>,
    /// Other changes (counts, priorities, added transitions): applied.
    pub other_changes: Vec<String>,
}

impl DefinitionDiff {
    /// No difference at all: the cluster's record can stay as it is.
    pub fn is_empty(&self) -> bool {
        self.state_changes.is_empty() && self.other_changes.is_empty()
    }
}

/// What changes from `old` (in the cluster) to `new` (the candidate).
pub fn diff(
    old: &strand_model::StateModelDefinition,
    new: &strand_model::StateModelDefinition,
) -> DefinitionDiff {
    let mut d = DefinitionDiff::default();
    if old.initial_state() != new.initial_state() {
        d.state_changes.push(format!(
            "initial state {} -> {}",
            old.initial_state().unwrap_or("none"),
            new.initial_state().unwrap_or("none")
        ));
    }
    let old_states: BTreeSet<&str> = old.states().iter().map(String::as_str).collect();
    let new_states: BTreeSet<&str> = new.states().iter().map(String::as_str).collect();
    for s in old_states.difference(&new_states) {
        d.state_changes.push(format!("state {s} removed"));
    }
    for s in new_states.difference(&old_states) {
        d.state_changes.push(format!("state {s} added"));
    }
    let old_t: BTreeSet<(&str, &str)> = old.transitions().into_iter().collect();
    let new_t: BTreeSet<(&str, &str)> = new.transitions().into_iter().collect();
    for (from, to) in old_t.difference(&new_t) {
        d.state_changes
            .push(format!("transition {from}-{to} removed"));
    }
    for (from, to) in new_t.difference(&old_t) {
        d.other_changes
            .push(format!("transition {from}-{to} added"));
    }
    for s in old_states.intersection(&new_states) {
        let (a, b) = (old.count(s), new.count(s));
        if a != b {
            let show = |c: Option<Count>| c.map_or_else(|| "none".to_owned(), Count::to_field);
            d.other_changes
                .push(format!("state {s} count {} -> {}", show(a), show(b)));
        }
    }
    if d.state_changes.is_empty() {
        if old.states() != new.states() {
            d.other_changes.push(format!(
                "state priority {:?} -> {:?}",
                old.states(),
                new.states()
            ));
        }
        if old.transitions() != new.transitions()
            && d.other_changes.iter().all(|c| !c.starts_with("transition"))
        {
            d.other_changes
                .push("transition priority changed".to_owned());
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use strand_model::builtin;
    use strand_model::plugin::{StateDef, StateModelSpec, Transition};

    use super::*;

    fn master_slave() -> StateModelSpec {
        let state = |name: &str, count| StateDef {
            name: name.into(),
            count,
        };
        let t = |from: &str, to: &str| Transition {
            from: from.into(),
            to: to.into(),
        };
        StateModelSpec {
            name: "MasterSlave".into(),
            version: "0.1.0".into(),
            states: vec![
                state("MASTER", Count::Fixed(1)),
                state("SLAVE", Count::Replicas),
                state("OFFLINE", Count::Unbounded),
                state("DROPPED", Count::Unbounded),
                state("ERROR", Count::Unbounded),
            ],
            transitions: vec![
                t("MASTER", "SLAVE"),
                t("SLAVE", "MASTER"),
                t("OFFLINE", "SLAVE"),
                t("SLAVE", "OFFLINE"),
                t("OFFLINE", "DROPPED"),
            ],
            initial_state: "OFFLINE".into(),
        }
    }

    #[test]
    fn the_master_slave_plugin_definition_equals_helix_builtin() {
        let ours = master_slave().to_helix("MasterSlave");
        let diff = diff(&builtin::master_slave(), &ours);
        assert!(diff.is_empty(), "{diff:?}");
        assert_eq!(ours.id(), "MasterSlave");
    }

    #[test]
    fn removing_a_state_is_a_state_change_and_a_count_is_not() {
        let old = master_slave().to_helix("M");
        let mut changed = master_slave();
        changed.states.retain(|s| s.name != "MASTER");
        changed
            .transitions
            .retain(|t| t.from != "MASTER" && t.to != "MASTER");
        let d = diff(&old, &changed.to_helix("M"));
        assert!(
            d.state_changes.contains(&"state MASTER removed".to_owned()),
            "{d:?}"
        );
        assert!(
            d.state_changes
                .contains(&"transition SLAVE-MASTER removed".to_owned())
        );

        let mut counted = master_slave();
        counted.states[0].count = Count::Fixed(2);
        let d = diff(&old, &counted.to_helix("M"));
        assert!(d.state_changes.is_empty(), "{d:?}");
        assert_eq!(d.other_changes, ["state MASTER count 1 -> 2"]);
    }
}
