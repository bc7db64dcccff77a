//! [`Snapshot`]: everything the controller's decisions depend on, as the
//! cluster is at one point in time. The controller keeps one up to date
//! from its cache, change by change (records are shared `Arc`s, never
//! copied per run); tests build one by hand.
//!
//! Current states are indexed by resource, then instance, so the holders
//! of one partition cost a few lookups whatever the size of the cluster.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use strand_model::{
    ClusterConfig, CurrentState, IdealState, InstanceConfig, StateModelDefinition, ZNRecord,
};

use crate::pending::{PendingMessages, PendingTransition};

/// A live participant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveParticipant {
    /// Its ZooKeeper session (lowercase hex): the only session whose
    /// current states and messages count.
    pub session: String,
}

/// The cluster as the decisions see it.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Live participants by instance name.
    pub live: BTreeMap<String, LiveParticipant>,
    /// Instance configs by instance name.
    pub configs: BTreeMap<String, Arc<InstanceConfig>>,
    /// Ideal states by resource.
    pub ideal_states: BTreeMap<String, Arc<IdealState>>,
    /// State model definitions by name.
    pub models: BTreeMap<String, Arc<StateModelDefinition>>,
    /// Current states of live instances' current sessions:
    /// resource → instance → record.
    current: HashMap<String, BTreeMap<String, Arc<CurrentState>>>,
    /// Pending state-transition messages for live sessions, indexed by
    /// replica.
    pub pending: PendingMessages,
    /// Maintenance mode: FULL_AUTO resources keep their placement.
    pub maintenance: bool,
    /// The cluster config (delayed rebalance settings), if it parses.
    pub cluster_config: Option<Arc<ClusterConfig>>,
    /// Resource configs by resource (`MIN_ACTIVE_REPLICAS`).
    pub resource_configs: BTreeMap<String, Arc<ZNRecord>>,
    /// Instances with a config that are not live, with the time (ms since
    /// the epoch) they were last seen leaving — Helix's instance offline
    /// time map, which delayed rebalance counts from.
    pub offline_since: BTreeMap<String, i64>,
    /// When the decisions are made (ms since the epoch): what delayed
    /// rebalance compares offline times with.
    pub now_ms: i64,
}

impl Snapshot {
    /// Whether the instance is live.
    pub fn is_live(&self, instance: &str) -> bool {
        self.live.contains_key(instance)
    }

    /// Whether the instance may serve replicas (it has a config whose
    /// instance operation is `ENABLE`, or `EVACUATE`: an evacuating
    /// instance keeps what it holds until its replicas have moved).
    pub fn is_enabled(&self, instance: &str) -> bool {
        self.configs
            .get(instance)
            .is_some_and(|c| c.instance_enabled() || c.is_evacuating())
    }

    /// Whether the instance is being drained (instance operation
    /// `EVACUATE`): its top states are handed over, it takes no new
    /// assignment, and FULL_AUTO replicas move off it.
    pub fn is_evacuating(&self, instance: &str) -> bool {
        self.configs
            .get(instance)
            .is_some_and(|c| c.is_evacuating())
    }

    /// Live instances that may take new assignments (enabled, not
    /// evacuating), sorted.
    pub fn assignable(&self) -> BTreeSet<String> {
        self.live
            .keys()
            .filter(|i| {
                self.configs
                    .get(i.as_str())
                    .is_some_and(|c| c.instance_enabled())
            })
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
        self.current.get(resource)?.get(instance)?.state(partition)
    }

    /// The current-state record of `instance` for `resource`.
    pub fn current_record(&self, instance: &str, resource: &str) -> Option<&Arc<CurrentState>> {
        self.current.get(resource)?.get(instance)
    }

    /// The current-state records of `resource`, by instance (live ones).
    pub fn current_records(
        &self,
        resource: &str,
    ) -> impl Iterator<Item = (&str, &CurrentState)> + '_ {
        self.current
            .get(resource)
            .into_iter()
            .flat_map(|by_instance| by_instance.iter())
            .filter(|(instance, _)| self.is_live(instance))
            .map(|(instance, cs)| (instance.as_str(), cs.as_ref()))
    }

    /// Sets the current-state record of `instance` for `resource`.
    pub fn set_current_state(&mut self, instance: &str, resource: &str, cs: Arc<CurrentState>) {
        self.current
            .entry(resource.to_owned())
            .or_default()
            .insert(instance.to_owned(), cs);
    }

    /// Removes the current-state record of `instance` for `resource`.
    pub fn remove_current_state(
        &mut self,
        instance: &str,
        resource: &str,
    ) -> Option<Arc<CurrentState>> {
        let by_instance = self.current.get_mut(resource)?;
        let removed = by_instance.remove(instance);
        if by_instance.is_empty() {
            self.current.remove(resource);
        }
        removed
    }

    /// Removes every current-state record of `instance`; returns the
    /// resources it had records for.
    pub fn remove_instance_states(&mut self, instance: &str) -> Vec<String> {
        let mut resources = Vec::new();
        self.current.retain(|resource, by_instance| {
            if by_instance.remove(instance).is_some() {
                resources.push(resource.clone());
            }
            !by_instance.is_empty()
        });
        resources
    }

    /// The current-state record of `instance` for `resource`, for editing
    /// (created with `make` when missing). Meant for tests and simulations.
    pub fn current_state_mut(
        &mut self,
        instance: &str,
        resource: &str,
        make: impl FnOnce() -> CurrentState,
    ) -> &mut CurrentState {
        let record = self
            .current
            .entry(resource.to_owned())
            .or_default()
            .entry(instance.to_owned())
            .or_insert_with(|| Arc::new(make()));
        Arc::make_mut(record)
    }

    /// Every live instance holding a replica of the partition, with its state.
    pub fn holders(&self, resource: &str, partition: &str) -> BTreeMap<&str, &str> {
        self.current_records(resource)
            .filter_map(|(instance, cs)| Some((instance, cs.state(partition)?)))
            .collect()
    }

    /// Resources to process: every ideal state, plus any resource still
    /// found in a live instance's current state (so a dropped resource is
    /// driven to DROPPED). Sorted.
    pub fn resources(&self) -> BTreeSet<String> {
        let mut all: BTreeSet<String> = self.ideal_states.keys().cloned().collect();
        for (resource, by_instance) in &self.current {
            let held = by_instance
                .iter()
                .any(|(instance, cs)| self.is_live(instance) && cs.partitions().next().is_some());
            if held {
                all.insert(resource.clone());
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
        self.current_records(resource)
            .find_map(|(_, cs)| cs.state_model_def())
    }

    /// The partitions of a resource: the ideal state's (per Helix's rules)
    /// plus any still held by a live instance.
    pub fn partitions(&self, resource: &str) -> BTreeSet<String> {
        let mut all: BTreeSet<String> = self
            .ideal_states
            .get(resource)
            .map(|i| i.partitions().into_iter().map(str::to_owned).collect())
            .unwrap_or_default();
        for (_, cs) in self.current_records(resource) {
            all.extend(cs.partitions().map(str::to_owned));
        }
        all
    }

    /// Whether `partition` is one of [`Snapshot::partitions`] of `resource`.
    pub fn has_partition(&self, resource: &str, partition: &str) -> bool {
        let in_ideal = self
            .ideal_states
            .get(resource)
            .is_some_and(|ideal| ideal.has_partition(partition));
        in_ideal
            || self
                .current_records(resource)
                .any(|(_, cs)| cs.state(partition).is_some())
    }

    /// The pending message for one replica, if any.
    pub fn pending_message(
        &self,
        instance: &str,
        resource: &str,
        partition: &str,
    ) -> Option<&PendingTransition> {
        self.pending.get(instance, resource, partition)
    }
}
