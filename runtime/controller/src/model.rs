//! [`ClusterModel`]: the leader's typed mirror of its cache, kept current
//! change by change — Helix's `ReadClusterDataStage`,
//! `CurrentStateComputationStage` and `CustomizedStateComputationStage`,
//! except that nothing is re-read or copied per run: each changed znode is
//! parsed once, shared as an `Arc`, and leaves marks ([`Dirty`]) saying
//! which resources, partitions and views the next run must look at.
//!
//! Only current sessions count: a live instance's current states are read
//! from `CURRENTSTATES/<its session>`, and its pending messages are the
//! state-transition messages addressed to that session. Messages addressed
//! to an older session of a live instance are kept as stale, to delete.
//!
//! # Guarantees
//! * A record that exists but does not parse (an ideal state, resource
//!   config, state model definition or current state) never replaces the
//!   last good one: the model keeps that, logs an error naming the znode
//!   and the resource, and reports the resource as held back
//!   ([`ClusterModel::problem`]) until the record parses again.
//! * After [`ClusterModel::load`] or any sequence of [`ClusterModel::apply`]
//!   for every path a cache reported, the model equals what a fresh load
//!   of that cache would give.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use strand_model::records::message::RELAY_MESSAGE_DEFAULT_EXPIRY_MS;
use strand_model::{
    ClusterConfig, CurrentState, CustomizedState, CustomizedStateConfig, IdealState,
    InstanceConfig, Message, ParticipantHistory, PropertyPaths, SessionId, StateModelDefinition,
    ZNRecord,
};
use strand_rebalance::{LiveParticipant, PendingTransition, Snapshot};
use strand_zk::TreeCache;
use tracing::{debug, error};

use crate::dirty::Dirty;
use crate::offline_history;
use crate::trigger::{self, Node};

/// The `Task` state model: its resources belong to Helix's task pipeline,
/// which Strand does not run.
const TASK_MODEL: &str = "Task";

/// A record as ZooKeeper holds it (per the cache).
#[derive(Debug, Clone)]
pub(crate) struct InZk {
    /// The record.
    pub record: Arc<ZNRecord>,
    /// The znode's data version.
    pub version: i32,
}

/// Customized states of one type: resource → instance → record.
pub(crate) type CustomizedStates = BTreeMap<String, BTreeMap<String, Arc<CustomizedState>>>;

/// A record that exists but cannot be used.
#[derive(Debug, Clone)]
struct BadRecord {
    /// The resource it holds back, if it belongs to one.
    resource: Option<String>,
    /// The state model it is, if it is one.
    model: Option<String>,
    /// Why it cannot be used.
    reason: String,
}

/// The cluster as the leader knows it.
#[derive(Debug)]
pub(crate) struct ClusterModel {
    paths: PropertyPaths,
    root: String,
    /// What the decisions are computed from.
    pub snapshot: Snapshot,
    /// `CONTROLLER/PAUSE` exists: no transitions are sent.
    pub paused: bool,
    /// The external views in ZooKeeper, by resource.
    pub external_views: BTreeMap<String, InZk>,
    /// Aggregation-enabled customized-state types (deduplicated).
    pub customized_types: Vec<String>,
    /// Customized states of live instances: type → resource → instance.
    pub customized: BTreeMap<String, CustomizedStates>,
    /// The customized views in ZooKeeper: type → resource → view.
    pub customized_views: BTreeMap<String, BTreeMap<String, InZk>>,
    /// Messages addressed to another session of a live instance, by path.
    pub stale: BTreeSet<String>,
    /// Configured instances that are not live while their history still
    /// says ONLINE (`LAST_OFFLINE_TIME=-1`: they went without reporting
    /// it), with the newest `HISTORY` entry seen: the leader reports them
    /// offline as Helix's `updateOfflineInstanceHistory` does (`pipeline`).
    pub unreported_offline: BTreeMap<String, Option<String>>,
    /// Records that exist but cannot be used, by path.
    bad: BTreeMap<String, BadRecord>,
    /// Relayed messages counted as pending for their targets, by the
    /// (instance, message id) of the message carrying them.
    relays: BTreeMap<(String, String), Vec<Relay>>,
}

/// A relayed message counted as pending for its target until it arrives
/// in the target's MESSAGES or expires.
#[derive(Debug, Clone)]
struct Relay {
    target: String,
    pending: PendingTransition,
    /// Set once the carrying message is gone (its transition done): the
    /// relayed one must arrive before then (ms since the epoch).
    deadline: Option<i64>,
}

impl ClusterModel {
    /// An empty model of the cluster at `paths`.
    pub(crate) fn new(paths: PropertyPaths) -> Self {
        Self {
            root: paths.cluster(),
            paths,
            snapshot: Snapshot::default(),
            paused: false,
            external_views: BTreeMap::new(),
            customized_types: Vec::new(),
            customized: BTreeMap::new(),
            customized_views: BTreeMap::new(),
            stale: BTreeSet::new(),
            unreported_offline: BTreeMap::new(),
            bad: BTreeMap::new(),
            relays: BTreeMap::new(),
        }
    }

    /// Rebuilds the whole model from `cache`; marks everything.
    pub(crate) fn load(&mut self, cache: &TreeCache, dirty: &mut Dirty) {
        *self = Self::new(self.paths.clone());
        let paths = self.paths.clone();
        let mut ignore = Dirty::default();
        for name in cache.children(&paths.state_model_defs()) {
            self.state_model(cache, &name, &mut ignore);
        }
        for name in cache.children(&paths.ideal_states()) {
            self.ideal_state(cache, &name, &mut ignore);
        }
        for name in cache.children(&paths.resource_configs()) {
            self.resource_config(cache, &name, &mut ignore);
        }
        for name in cache.children(&paths.instance_configs()) {
            self.instance_config(cache, &name, &mut ignore);
        }
        self.cluster_config(cache);
        self.snapshot.maintenance = cache.contains(&paths.maintenance());
        self.paused = cache.contains(&paths.pause());
        self.customized_config(cache, &mut ignore);
        for name in cache.children(&paths.live_instances()) {
            self.live_instance(cache, &name, &mut ignore);
        }
        for name in cache.children(&paths.instance_configs()) {
            self.note_offline(cache, &name, false);
        }
        for name in cache.children(&paths.external_views()) {
            self.external_view(cache, &name, &mut ignore);
        }
        for state_type in cache.children(&paths.customized_views()) {
            for resource in cache.children(&paths.customized_views_of_type(&state_type)) {
                self.customized_view(cache, &state_type, &resource, &mut ignore);
            }
        }
        dirty.everything();
    }

    /// Applies one changed znode (created, changed or deleted: the cache
    /// says which) and marks what depends on it.
    pub(crate) fn apply(&mut self, cache: &TreeCache, path: &str, dirty: &mut Dirty) {
        let node = trigger::classify(&self.root, path);
        if node != Node::Other {
            dirty.because(node.event());
        }
        match node {
            Node::IdealState(resource) => self.ideal_state(cache, resource, dirty),
            Node::ResourceConfig(resource) => self.resource_config(cache, resource, dirty),
            Node::StateModel(model) => self.state_model(cache, model, dirty),
            Node::InstanceConfig(instance) => self.instance_config(cache, instance, dirty),
            Node::LiveInstance(instance) => self.live_instance(cache, instance, dirty),
            Node::CurrentState {
                instance,
                session,
                resource,
            } => self.current_state(cache, instance, session, resource, dirty),
            Node::CustomizedState {
                instance,
                state_type,
                resource,
            } => self.customized_state(cache, instance, state_type, resource, dirty),
            Node::Message { instance, id } => self.message(cache, instance, id, dirty),
            Node::ExternalView(resource) => self.external_view(cache, resource, dirty),
            Node::CustomizedView {
                state_type,
                resource,
            } => self.customized_view(cache, state_type, resource, dirty),
            Node::CustomizedStateConfig => self.customized_config(cache, dirty),
            Node::ClusterConfig => {
                self.cluster_config(cache);
                dirty.everything();
            }
            Node::Maintenance => {
                self.snapshot.maintenance = cache.contains(path);
                dirty.everything();
            }
            Node::Pause => {
                self.paused = cache.contains(path);
                dirty.everything();
            }
            Node::Leader => dirty.leader = true,
            Node::Plugin => dirty.all_customized = true,
            Node::Other => {}
        }
    }

    /// Why `resource` is held back (no transitions are sent for it), if
    /// one of its records exists but cannot be used.
    pub(crate) fn problem(&self, resource: &str) -> Option<String> {
        let model = self.snapshot.model_name(resource);
        self.bad
            .iter()
            .find(|(_, bad)| {
                bad.resource.as_deref() == Some(resource)
                    || (bad.model.is_some() && bad.model.as_deref() == model)
            })
            .map(|(path, bad)| format!("{path}: {}", bad.reason))
    }

    /// Parses the record at `path`: `Ok(None)` when the znode is gone,
    /// `Err` when it exists but is not a record (empty data included).
    fn read(cache: &TreeCache, path: &str) -> Result<Option<(Arc<ZNRecord>, i32)>, String> {
        let Some(node) = cache.get(path) else {
            return Ok(None);
        };
        match node.parse() {
            Ok(Some(record)) => Ok(Some((record, node.version()))),
            Ok(None) => Err("the znode is empty".to_owned()),
            Err(reason) => Err(format!("not a valid ZNRecord: {reason}")),
        }
    }

    /// Remembers a bad record (logging it once per version) and keeps the
    /// last good one.
    fn mark_bad(
        &mut self,
        path: &str,
        resource: Option<&str>,
        model: Option<&str>,
        reason: String,
    ) {
        let known = self.bad.get(path).is_some_and(|bad| bad.reason == reason);
        if !known {
            error!(
                znode = path,
                resource = resource.unwrap_or("-"),
                reason,
                "record does not parse; keeping the last good one, and no transition is sent for the resource until it does"
            );
        }
        self.bad.insert(
            path.to_owned(),
            BadRecord {
                resource: resource.map(str::to_owned),
                model: model.map(str::to_owned),
                reason,
            },
        );
    }

    fn ideal_state(&mut self, cache: &TreeCache, resource: &str, dirty: &mut Dirty) {
        let path = self.paths.ideal_state(resource);
        let new = match Self::read(cache, &path) {
            Ok(record) => record.map(|(r, _)| IdealState::from(r)),
            Err(reason) => {
                self.mark_bad(&path, Some(resource), None, reason);
                dirty.resource(resource, false);
                return;
            }
        };
        if self.bad.remove(&path).is_some() {
            dirty.resource(resource, true);
        }
        let new = new.filter(|ideal| ideal.state_model_def_ref() != Some(TASK_MODEL));
        let old = match &new {
            Some(ideal) => self
                .snapshot
                .ideal_states
                .insert(resource.to_owned(), Arc::new(ideal.clone())),
            None => self.snapshot.ideal_states.remove(resource),
        };
        match (old.as_deref(), new.as_ref()) {
            (None, None) => {}
            (Some(old), Some(new)) if old.record().simple_fields == new.record().simple_fields => {
                let (old, new) = (old.record(), new.record());
                let mut changed = changed_keys(&old.list_fields, &new.list_fields);
                changed.extend(changed_keys(&old.map_fields, &new.map_fields));
                if !changed.is_empty() {
                    dirty.placement(resource);
                }
                for partition in changed {
                    dirty.partition(resource, &partition);
                }
            }
            _ => dirty.resource(resource, true),
        }
    }

    fn resource_config(&mut self, cache: &TreeCache, resource: &str, dirty: &mut Dirty) {
        let path = self.paths.resource_config(resource);
        match Self::read(cache, &path) {
            Ok(record) => {
                self.bad.remove(&path);
                match record {
                    Some((record, _)) => {
                        self.snapshot
                            .resource_configs
                            .insert(resource.to_owned(), record);
                    }
                    None => {
                        self.snapshot.resource_configs.remove(resource);
                    }
                }
            }
            Err(reason) => self.mark_bad(&path, Some(resource), None, reason),
        }
        dirty.resource(resource, true);
    }

    /// The cluster config (delayed rebalance settings); a config that does
    /// not parse keeps the last good one.
    fn cluster_config(&mut self, cache: &TreeCache) {
        let path = self.paths.cluster_config();
        match Self::read(cache, &path) {
            Ok(Some((record, _))) => {
                self.snapshot.cluster_config =
                    Some(Arc::new(ClusterConfig::from((*record).clone())));
            }
            Ok(None) => self.snapshot.cluster_config = None,
            Err(reason) => error!(
                znode = path,
                reason, "cluster config does not parse; keeping the last good one"
            ),
        }
    }

    /// When an instance that is not live left: the time this leader saw it
    /// go, else its history's `LAST_OFFLINE_TIME` (what Helix's controller
    /// records there), else unknown — and then delayed rebalance does not
    /// keep it, as in Helix.
    fn note_offline(&mut self, cache: &TreeCache, instance: &str, seen_leaving: bool) {
        self.unreported_offline.remove(instance);
        if self.snapshot.is_live(instance) {
            self.snapshot.offline_since.remove(instance);
            return;
        }
        let history = cache
            .record(&self.paths.participant_history(instance))
            .map(|r| ParticipantHistory::from((*r).clone()));
        let last_offline = history
            .as_ref()
            .and_then(ParticipantHistory::last_offline_time);
        if let Some(history) = &history
            && offline_history::is_unreported(history)
        {
            let newest = offline_history::newest_entry(history).cloned();
            self.unreported_offline.insert(instance.to_owned(), newest);
        }
        let since = if seen_leaving {
            Some(strand_model::time::now_ms())
        } else {
            last_offline.filter(|t| *t > 0)
        };
        match since {
            Some(since) => {
                self.snapshot
                    .offline_since
                    .insert(instance.to_owned(), since);
            }
            None => {
                self.snapshot.offline_since.remove(instance);
            }
        }
    }

    fn state_model(&mut self, cache: &TreeCache, name: &str, dirty: &mut Dirty) {
        let path = self.paths.state_model_def(name);
        match Self::read(cache, &path) {
            Ok(Some((record, _))) => {
                let model = StateModelDefinition::from(record);
                if let Err(err) = model.validate() {
                    self.mark_bad(&path, None, Some(name), err.to_string());
                } else {
                    self.bad.remove(&path);
                    self.snapshot
                        .models
                        .insert(name.to_owned(), Arc::new(model));
                }
            }
            Ok(None) => {
                self.bad.remove(&path);
                self.snapshot.models.remove(name);
            }
            Err(reason) => self.mark_bad(&path, None, Some(name), reason),
        }
        dirty.everything();
    }

    fn instance_config(&mut self, cache: &TreeCache, instance: &str, dirty: &mut Dirty) {
        let path = self.paths.instance_config(instance);
        match Self::read(cache, &path) {
            Ok(Some((record, _))) => {
                self.snapshot
                    .configs
                    .insert(instance.to_owned(), Arc::new(InstanceConfig::from(record)));
            }
            Ok(None) => {
                self.snapshot.configs.remove(instance);
            }
            Err(reason) => error!(
                znode = path,
                reason, "instance config does not parse; keeping the last good one"
            ),
        }
        dirty.everything();
    }

    fn live_instance(&mut self, cache: &TreeCache, instance: &str, dirty: &mut Dirty) {
        let path = self.paths.live_instance(instance);
        let session = cache.get(&path).and_then(|node| {
            // Helix reads the session from the ephemeral owner and falls
            // back to the SESSION_ID field.
            node.ephemeral_owner().or_else(|| {
                node.record()
                    .and_then(|r| r.simple("SESSION_ID").map(str::to_owned))
            })
        });
        let old = self.snapshot.live.get(instance).map(|l| l.session.clone());
        if old == session {
            return;
        }
        match session {
            Some(session) => {
                self.snapshot
                    .live
                    .insert(instance.to_owned(), LiveParticipant { session });
            }
            None => {
                if cache.contains(&path) {
                    debug!(instance, "live instance without a session; ignored");
                }
                self.snapshot.live.remove(instance);
            }
        }
        let left = old.is_some() && !self.snapshot.is_live(instance);
        self.note_offline(cache, instance, left);
        self.reload_instance(cache, instance);
        dirty.everything();
    }

    /// Forgets everything of `instance` that belongs to a session, and
    /// reads what belongs to its live one.
    fn reload_instance(&mut self, cache: &TreeCache, instance: &str) {
        self.snapshot.remove_instance_states(instance);
        self.snapshot.pending.remove_instance(instance);
        // Messages it carried went with its session: what they relay must
        // arrive within the expiry, or the promotions are sent again.
        let deadline = strand_model::time::now_ms() + RELAY_MESSAGE_DEFAULT_EXPIRY_MS;
        for ((carrier, _), relays) in &mut self.relays {
            if carrier == instance {
                for relay in relays.iter_mut() {
                    relay.deadline.get_or_insert(deadline);
                }
            }
        }
        let messages = self.paths.messages(instance);
        self.stale.retain(|path| {
            !path.starts_with(&messages) || !path[messages.len()..].starts_with('/')
        });
        for states in self.customized.values_mut() {
            for by_instance in states.values_mut() {
                by_instance.remove(instance);
            }
            states.retain(|_, by_instance| !by_instance.is_empty());
        }
        let current_root = self.paths.current_states_root(instance);
        self.bad
            .retain(|path, _| !path.starts_with(&format!("{current_root}/")));
        let Some(session) = self.snapshot.live.get(instance).map(|l| l.session.clone()) else {
            return;
        };
        let mut ignore = Dirty::default();
        for resource in cache.children(&self.paths.current_states(instance, &session)) {
            self.current_state(cache, instance, &session, &resource, &mut ignore);
        }
        for id in cache.children(&messages) {
            self.message(cache, instance, &id, &mut ignore);
        }
        for state_type in self.customized_types.clone() {
            for resource in cache.children(&self.paths.customized_states(instance, &state_type)) {
                self.customized_state(cache, instance, &state_type, &resource, &mut ignore);
            }
        }
    }

    fn live_session(&self, instance: &str) -> Option<SessionId> {
        self.snapshot
            .live
            .get(instance)
            .and_then(|l| SessionId::parse(&l.session).ok())
    }

    fn current_state(
        &mut self,
        cache: &TreeCache,
        instance: &str,
        session: &str,
        resource: &str,
        dirty: &mut Dirty,
    ) {
        let Some(live) = self.live_session(instance) else {
            return;
        };
        if SessionId::parse(session).ok() != Some(live) {
            return;
        }
        let path = self.paths.current_state(instance, session, resource);
        let new = match Self::read(cache, &path) {
            Ok(record) => record
                .map(|(r, _)| CurrentState::from(r))
                .filter(|cs| cs.session_id().is_none_or(|s| s == live)),
            Err(reason) => {
                self.mark_bad(&path, Some(resource), None, reason);
                dirty.resource(resource, false);
                return;
            }
        };
        if self.bad.remove(&path).is_some() {
            dirty.resource(resource, false);
        }
        let old = match new {
            Some(cs) => {
                let old = self.snapshot.current_record(instance, resource).cloned();
                self.snapshot
                    .set_current_state(instance, resource, Arc::new(cs));
                old
            }
            None => self.snapshot.remove_current_state(instance, resource),
        };
        let new = self.snapshot.current_record(instance, resource);
        let empty = indexmap::IndexMap::new();
        let changed = changed_keys(
            old.as_ref().map_or(&empty, |cs| &cs.record().map_fields),
            new.map_or(&empty, |cs| &cs.record().map_fields),
        );
        let model_changed = old.as_ref().and_then(|cs| cs.state_model_def())
            != new.and_then(|cs| cs.state_model_def());
        if model_changed {
            dirty.resource(resource, false);
        }
        for partition in changed {
            dirty.partition(resource, &partition);
        }
    }

    fn customized_state(
        &mut self,
        cache: &TreeCache,
        instance: &str,
        state_type: &str,
        resource: &str,
        dirty: &mut Dirty,
    ) {
        if !self.snapshot.is_live(instance)
            || !self.customized_types.iter().any(|t| t == state_type)
        {
            return;
        }
        let path = self.paths.customized_state(instance, state_type, resource);
        let new = match Self::read(cache, &path) {
            Ok(record) => record.map(|(r, _)| Arc::new(CustomizedState::from(r))),
            Err(reason) => {
                error!(
                    znode = path,
                    reason, "customized state does not parse; keeping the last good one"
                );
                return;
            }
        };
        let by_resource = self.customized.entry(state_type.to_owned()).or_default();
        let by_instance = by_resource.entry(resource.to_owned()).or_default();
        let old = match new.clone() {
            Some(state) => by_instance.insert(instance.to_owned(), state),
            None => by_instance.remove(instance),
        };
        if by_instance.is_empty() {
            by_resource.remove(resource);
        }
        let empty = indexmap::IndexMap::new();
        let changed = changed_keys(
            old.as_ref().map_or(&empty, |s| &s.record().map_fields),
            new.as_ref().map_or(&empty, |s| &s.record().map_fields),
        );
        for partition in changed {
            dirty.customized_partition(state_type, resource, &partition);
        }
    }

    fn message(&mut self, cache: &TreeCache, instance: &str, id: &str, dirty: &mut Dirty) {
        let path = self.paths.message(instance, id);
        let Some(live) = self.live_session(instance) else {
            return;
        };
        let message = cache
            .get(&path)
            .and_then(|node| node.record())
            .map(Message::from);
        let previous = self.snapshot.pending.remove(instance, id);
        self.stale.remove(&path);
        if let Some(previous) = &previous {
            mark_transition(dirty, previous);
        }
        // A relayed message that arrived (or came and went) replaces the
        // placeholder counted for it.
        self.relays.retain(|_, relays| {
            relays.retain(|r| !(r.target == instance && r.pending.msg_id() == id));
            !relays.is_empty()
        });
        let Some(message) = message else {
            // Done: what it carried must arrive within its expiry.
            if let Some(relays) = self.relays.get_mut(&(instance.to_owned(), id.to_owned())) {
                let now = strand_model::time::now_ms();
                for relay in relays.iter_mut() {
                    relay
                        .deadline
                        .get_or_insert(now + RELAY_MESSAGE_DEFAULT_EXPIRY_MS);
                }
            }
            return;
        };
        let Some(pending) = PendingTransition::from_message(&message) else {
            return;
        };
        if message.is_for_session(live) {
            mark_transition(dirty, &pending);
            self.snapshot.pending.insert_pending(instance, pending);
            if !message.relay_participants().is_empty() {
                self.count_relayed(instance, id, &message, dirty);
            }
        } else {
            self.stale.insert(path);
            dirty.stale = true;
        }
    }

    /// A message this leader just created: the relayed messages it carries
    /// count as pending at once (its participant may finish before the
    /// cache shows the message at all).
    pub(crate) fn sent_relays(&mut self, target: &str, message: &Message) {
        if message.relay_participants().is_empty() {
            return;
        }
        let mut ignore = Dirty::default();
        self.count_relayed(target, message.msg_id(), message, &mut ignore);
    }

    /// Counts the relayed messages `message` carries as pending for their
    /// targets (live, same session, nothing pending for the replica yet).
    fn count_relayed(&mut self, carrier: &str, id: &str, message: &Message, dirty: &mut Dirty) {
        let mut counted = Vec::new();
        for (target, session, pending) in strand_rebalance::relay::relayed(message) {
            let Some(live) = self.live_session(&target) else {
                continue;
            };
            let same_session = session
                .as_deref()
                .and_then(|s| SessionId::parse(s).ok())
                .is_some_and(|s| s == live);
            let partition = pending
                .partition_names()
                .first()
                .cloned()
                .unwrap_or_default();
            let busy = self
                .snapshot
                .pending
                .get(&target, pending.resource_name(), &partition)
                .is_some();
            if !same_session || busy {
                continue;
            }
            mark_transition(dirty, &pending);
            self.snapshot
                .pending
                .insert_pending(&target, pending.clone());
            counted.push(Relay {
                target,
                pending,
                deadline: None,
            });
        }
        if !counted.is_empty() {
            self.relays
                .entry((carrier.to_owned(), id.to_owned()))
                .or_default()
                .extend(counted);
        }
    }

    /// Stops counting relayed messages that did not arrive in time (the
    /// carrying participant failed or went away): the controller sends the
    /// promotion itself then. Returns whether any expired.
    pub(crate) fn expire_relays(&mut self, now: i64, dirty: &mut Dirty) -> bool {
        let mut expired = Vec::new();
        for ((carrier, id), relays) in &mut self.relays {
            // The carrier went with its session: same rule as a done one.
            let carried = self.snapshot.pending.by_id(carrier, id).is_some();
            for relay in relays.iter_mut() {
                if !carried {
                    relay
                        .deadline
                        .get_or_insert(now + RELAY_MESSAGE_DEFAULT_EXPIRY_MS);
                }
            }
            relays.retain(|relay| {
                let gone = relay.deadline.is_some_and(|d| d <= now);
                if gone {
                    expired.push(relay.clone());
                }
                !gone
            });
        }
        self.relays.retain(|_, relays| !relays.is_empty());
        for relay in &expired {
            if let Some(pending) = self
                .snapshot
                .pending
                .remove(&relay.target, relay.pending.msg_id())
            {
                mark_transition(dirty, &pending);
            }
        }
        !expired.is_empty()
    }

    /// When the next counted relayed message expires (ms since the epoch).
    pub(crate) fn next_relay_deadline(&self) -> Option<i64> {
        self.relays
            .values()
            .flatten()
            .filter_map(|r| r.deadline)
            .min()
    }

    fn external_view(&mut self, cache: &TreeCache, resource: &str, dirty: &mut Dirty) {
        let path = self.paths.external_view(resource);
        match Self::read(cache, &path) {
            Ok(Some((record, version))) => {
                self.external_views
                    .insert(resource.to_owned(), InZk { record, version });
            }
            Ok(None) | Err(_) => {
                self.external_views.remove(resource);
            }
        }
        dirty.external_views.insert(resource.to_owned());
    }

    fn customized_view(
        &mut self,
        cache: &TreeCache,
        state_type: &str,
        resource: &str,
        dirty: &mut Dirty,
    ) {
        let path = self.paths.customized_view(state_type, resource);
        let views = self
            .customized_views
            .entry(state_type.to_owned())
            .or_default();
        match Self::read(cache, &path) {
            Ok(Some((record, version))) => {
                views.insert(resource.to_owned(), InZk { record, version });
            }
            Ok(None) | Err(_) => {
                views.remove(resource);
            }
        }
        if views.is_empty() {
            self.customized_views.remove(state_type);
        }
        dirty
            .customized_views
            .insert((state_type.to_owned(), resource.to_owned()));
    }

    fn customized_config(&mut self, cache: &TreeCache, dirty: &mut Dirty) {
        let mut types = Vec::new();
        if let Some(record) = cache.record(&self.paths.customized_state_config()) {
            let config = CustomizedStateConfig::from(record);
            for t in config.aggregation_enabled_types() {
                if !types.contains(t) {
                    types.push(t.clone());
                }
            }
        }
        if types == self.customized_types {
            return;
        }
        self.customized_types = types;
        self.customized
            .retain(|state_type, _| self.customized_types.contains(state_type));
        // Newly enabled types: read what live instances report.
        let live: Vec<String> = self.snapshot.live.keys().cloned().collect();
        let mut ignore = Dirty::default();
        for state_type in self.customized_types.clone() {
            if self.customized.contains_key(&state_type) {
                continue;
            }
            for instance in &live {
                let dir = self.paths.customized_states(instance, &state_type);
                for resource in cache.children(&dir) {
                    self.customized_state(cache, instance, &state_type, &resource, &mut ignore);
                }
            }
        }
        dirty.all_customized = true;
    }

    /// Every message path the model counts as pending (to check against a
    /// cache after a resync).
    pub(crate) fn pending_paths(&self) -> Vec<(String, String, String)> {
        self.snapshot
            .pending
            .iter()
            .map(|(instance, m)| {
                (
                    self.paths.message(instance, m.msg_id()),
                    instance.to_owned(),
                    m.msg_id().to_owned(),
                )
            })
            .collect()
    }
}

/// Marks every partition a pending transition concerns.
pub(crate) fn mark_transition(dirty: &mut Dirty, pending: &PendingTransition) {
    for partition in pending.partition_names() {
        dirty.partition(pending.resource_name(), partition);
    }
}

/// Keys whose values differ between two maps, or that only one has.
fn changed_keys<V: PartialEq>(
    old: &indexmap::IndexMap<String, V>,
    new: &indexmap::IndexMap<String, V>,
) -> Vec<String> {
    let mut changed: Vec<String> = new
        .iter()
        .filter(|(key, value)| old.get(*key) != Some(*value))
        .map(|(key, _)| key.clone())
        .collect();
    changed.extend(old.keys().filter(|key| !new.contains_key(*key)).cloned());
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_keys_finds_edits_additions_and_removals() {
        let old: indexmap::IndexMap<String, u32> = [
            ("a".to_owned(), 1),
            ("b".to_owned(), 2),
            ("c".to_owned(), 3),
        ]
        .into();
        let new: indexmap::IndexMap<String, u32> = [
            ("a".to_owned(), 1),
            ("b".to_owned(), 5),
            ("d".to_owned(), 4),
        ]
        .into();
        let mut changed = changed_keys(&old, &new);
        changed.sort();
        assert_eq!(changed, vec!["b", "c", "d"]);
        assert!(changed_keys(&old, &old).is_empty());
    }
}
