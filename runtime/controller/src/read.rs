//! Reading one pipeline run's view of the cluster from the cache — Helix's
//! `ReadClusterDataStage`, `CurrentStateComputationStage` and
//! `CustomizedStateComputationStage`, with no ZooKeeper round trip.
//!
//! Only current sessions count: a live instance's current states are read
//! from `CURRENTSTATES/<its session>`, and its pending messages are the
//! state-transition messages addressed to that session. Messages addressed
//! to an older session of a live instance are reported as stale.

use std::collections::BTreeMap;

use strand_model::{
    CurrentState, CustomizedState, CustomizedStateConfig, CustomizedView, ExternalView, IdealState,
    InstanceConfig, Message, MessageType, PropertyPaths, SessionId, StateModelDefinition,
};
use strand_rebalance::{LiveParticipant, Snapshot};
use strand_zk::TreeCache;
use tracing::debug;

/// The `Task` state model: its resources belong to Helix's task pipeline,
/// which Strand does not run.
const TASK_MODEL: &str = "Task";

/// Customized states of one type: resource → instance → record.
pub(crate) type CustomizedStates = BTreeMap<String, BTreeMap<String, CustomizedState>>;

/// Everything one run reads.
#[derive(Debug, Default)]
pub(crate) struct ClusterState {
    /// What the decisions are computed from.
    pub snapshot: Snapshot,
    /// `CONTROLLER/PAUSE` exists: no transitions are sent.
    pub paused: bool,
    /// Pending messages to delete because they target another session of
    /// a live instance: (instance, message id).
    pub stale: Vec<(String, String)>,
    /// The external views in ZooKeeper, by resource.
    pub external_views: BTreeMap<String, ExternalView>,
    /// Aggregation-enabled customized-state types (deduplicated).
    pub customized_types: Vec<String>,
    /// Customized states of live instances, by enabled type.
    pub customized: BTreeMap<String, CustomizedStates>,
    /// The customized views in ZooKeeper: type → resource → view.
    pub customized_views: BTreeMap<String, BTreeMap<String, CustomizedView>>,
}

/// Reads the cluster from the cache.
pub(crate) fn read(cache: &TreeCache, paths: &PropertyPaths) -> ClusterState {
    let mut state = ClusterState::default();
    let snapshot = &mut state.snapshot;

    for (name, record) in cache.child_records(&paths.state_model_defs()) {
        snapshot
            .models
            .insert(name, StateModelDefinition::from((*record).clone()));
    }
    for (name, record) in cache.child_records(&paths.ideal_states()) {
        let ideal = IdealState::from((*record).clone());
        if ideal.state_model_def_ref() == Some(TASK_MODEL) {
            continue;
        }
        snapshot.ideal_states.insert(name, ideal);
    }
    for (name, record) in cache.child_records(&paths.instance_configs()) {
        snapshot
            .configs
            .insert(name, InstanceConfig::from((*record).clone()));
    }
    for name in cache.children(&paths.live_instances()) {
        let Some(node) = cache.get(&paths.live_instance(&name)) else {
            continue;
        };
        // Helix reads the session from the ephemeral owner and falls back
        // to the SESSION_ID field.
        let session = node.ephemeral_owner().or_else(|| {
            node.record()
                .and_then(|r| r.simple("SESSION_ID").map(str::to_owned))
        });
        match session {
            Some(session) => {
                snapshot.live.insert(name, LiveParticipant { session });
            }
            None => debug!(instance = name, "live instance without a session; ignored"),
        }
    }
    snapshot.maintenance = cache.contains(&paths.maintenance());
    state.paused = cache.contains(&paths.pause());

    let live: Vec<(String, String)> = snapshot
        .live
        .iter()
        .map(|(i, l)| (i.clone(), l.session.clone()))
        .collect();
    for (instance, session) in &live {
        let Ok(session_id) = SessionId::parse(session) else {
            continue;
        };
        let mut current = BTreeMap::new();
        for (resource, record) in cache.child_records(&paths.current_states(instance, session)) {
            let cs = CurrentState::from((*record).clone());
            if cs.session_id().is_some_and(|s| s != session_id) {
                continue;
            }
            current.insert(resource, cs);
        }
        if !current.is_empty() {
            snapshot.current.insert(instance.clone(), current);
        }
        for (id, record) in cache.child_records(&paths.messages(instance)) {
            let message = Message::from((*record).clone());
            if !matches!(
                message.msg_type(),
                Some(MessageType::StateTransition | MessageType::StateTransitionCancellation)
            ) {
                continue;
            }
            if message.is_for_session(session_id) {
                snapshot.pending.insert(instance, message);
            } else {
                state.stale.push((instance.clone(), id));
            }
        }
    }

    for (name, record) in cache.child_records(&paths.external_views()) {
        state
            .external_views
            .insert(name, ExternalView::from((*record).clone()));
    }

    read_customized(cache, paths, &live, &mut state);
    state
}

/// Enabled types, the live instances' customized states of those types,
/// and the customized views in ZooKeeper.
fn read_customized(
    cache: &TreeCache,
    paths: &PropertyPaths,
    live: &[(String, String)],
    state: &mut ClusterState,
) {
    if let Some(record) = cache.record(&paths.customized_state_config()) {
        let config = CustomizedStateConfig::from((*record).clone());
        for t in config.aggregation_enabled_types() {
            if !state.customized_types.contains(t) {
                state.customized_types.push(t.clone());
            }
        }
    }
    for customized_type in &state.customized_types {
        let mut by_resource: CustomizedStates = BTreeMap::new();
        for (instance, _) in live {
            let dir = paths.customized_states(instance, customized_type);
            for (resource, record) in cache.child_records(&dir) {
                by_resource
                    .entry(resource)
                    .or_default()
                    .insert(instance.clone(), CustomizedState::from((*record).clone()));
            }
        }
        state
            .customized
            .insert(customized_type.clone(), by_resource);
    }
    for customized_type in cache.children(&paths.customized_views()) {
        let views = cache
            .child_records(&paths.customized_views_of_type(&customized_type))
            .into_iter()
            .map(|(resource, record)| (resource, CustomizedView::from((*record).clone())))
            .collect();
        state.customized_views.insert(customized_type, views);
    }
}
