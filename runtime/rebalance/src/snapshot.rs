//! [`Snapshot`]: everything the controller's decisions depend on, read from
//! the cluster at one point in time. Built by the controller from its
//! cache; built by hand in tests.

use std::collections::{BTreeMap, BTreeSet};

use strand_model::{CurrentState, IdealState, InstanceConfig, Message, StateModelDefinition};

use crate::pending::PendingMessages;

/// A live participant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveParticipant {
    /// Its ZooKeeper session (lowercase hex): the only session whose
    /// current states and messages count.
    pub session: String,
}

/// The cluster as one pipeline run sees it.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Live participants by instance name.
    pub live: BTreeMap<String, LiveParticipant>,
    /// Instance configs by instance name.
    pub configs: BTreeMap<String, InstanceConfig>,
    /// Ideal states by resource.
    pub ideal_states: BTreeMap<String, IdealState>,
    /// State model definitions by name.
    pub models: BTreeMap<String, StateModelDefinition>,
    /// Current states of live instances' current sessions:
    /// instance → resource → record.
    pub current: BTreeMap<String, BTreeMap<String, CurrentState>>,
    /// Pending state-transition messages for live sessions, indexed by
    /// replica.
    pub pending: PendingMessages,
    /// Maintenance mode: FULL_AUTO resources keep their placement.
    pub maintenance: bool,
}

impl Snapshot {
    /// Whether the instance is live.
    pub fn is_live(&self, instance: &str) -> bool {
        self.live.contains_key(instance)
    }

    /// Whether the controller may put replicas on the instance (it has a
    /// config and is enabled).
    pub fn is_enabled(&self, instance: &str) -> bool {
        self.configs
            .get(instance)
            .is_some_and(InstanceConfig::instance_enabled)
    }

    /// Live, enabled instances, sorted.
    pub fn assignable(&self) -> BTreeSet<String> {
        self.live
            .keys()
            .filter(|i| self.is_enabled(i))
            .cloned()
            .collect()
    }

    /// Whether a partition is disabled on an instance.
    pub fn is_partition_disabled(&self, instance: &str, resource: &str, partition: &str) -> bool {
        self.configs
            .get(instance)
            .is_some_and(|c| !c.is_partition_enabled(resource, partition))
    }

    /// Current state of one replica.
    pub fn current_state(&self, instance: &str, resource: &str, partition: &str) -> Option<&str> {
        self.current.get(instance)?.get(resource)?.state(partition)
    }

    /// Every live instance holding a replica of the partition, with its state.
    pub fn holders(&self, resource: &str, partition: &str) -> BTreeMap<String, String> {
        self.current
            .iter()
            .filter(|(instance, _)| self.is_live(instance))
            .filter_map(|(instance, resources)| {
                let state = resources.get(resource)?.state(partition)?;
                Some((instance.clone(), state.to_owned()))
            })
            .collect()
    }

    /// Resources to process: every ideal state, plus any resource still
    /// found in a live instance's current state (so a dropped resource is
    /// driven to DROPPED). Sorted.
    pub fn resources(&self) -> BTreeSet<String> {
        let mut all: BTreeSet<String> = self.ideal_states.keys().cloned().collect();
        for resources in self.current.values() {
            for (name, state) in resources {
                if state.partitions().next().is_some() {
                    all.insert(name.clone());
                }
            }
        }
        all
    }

    /// The state model a resource uses: from its ideal state, or from a
    /// current state when the ideal state is gone.
    pub fn model_name(&self, resource: &str) -> Option<&str> {
        if let Some(ideal) = self.ideal_states.get(resource) {
            return ideal.state_model_def_ref();
        }
        self.current
            .values()
            .filter_map(|r| r.get(resource))
            .find_map(CurrentState::state_model_def)
    }

    /// The partitions of a resource: the ideal state's (per Helix's rules)
    /// plus any still held by a live instance.
    pub fn partitions(&self, resource: &str) -> BTreeSet<String> {
        let mut all: BTreeSet<String> = self
            .ideal_states
            .get(resource)
            .map(|i| i.partitions().into_iter().map(str::to_owned).collect())
            .unwrap_or_default();
        for (instance, resources) in &self.current {
            if !self.is_live(instance) {
                continue;
            }
            if let Some(state) = resources.get(resource) {
                all.extend(state.partitions().map(str::to_owned));
            }
        }
        all
    }

    /// The pending message for one replica, if any.
    pub fn pending_message(
        &self,
        instance: &str,
        resource: &str,
        partition: &str,
    ) -> Option<&Message> {
        self.pending.get(instance, resource, partition)
    }
}
