//! From best possible states to state-transition messages: Helix's
//! `MessageGenerationPhase` (one hop along the state model's `.next`
//! table per replica, pending messages respected, obsolete ones cleaned
//! up) and `MessageSelectionStage` (state count bounds, transitions in
//! priority order — which gives "demote before promote").
//!
//! # Guarantees
//! * At most one pending message per replica: a replica with a pending
//!   message gets no new one.
//! * A bounded state (e.g. MASTER, count 1) is never targeted by more
//!   messages than its bound allows given current states and pending
//!   messages, so a MasterSlave partition never has two MASTERs.
//! * With P2P messages enabled (`P2P_MESSAGE_ENABLED`, see [`crate::relay`]),
//!   a promotion to a single top state that its bound holds back is
//!   attached to the same round's demotion from the top state, as Helix
//!   does; it runs only after that demotion, on the demoted participant's
//!   word.

use std::collections::{BTreeMap, BTreeSet};

use strand_model::records::{DROPPED, ERROR};
use strand_model::{Count, Message, SessionId, StateModelDefinition, StateTransitionSpec};
use tracing::warn;

use crate::best_possible::ResourceAssignment;
use crate::pending::PendingTransition;
use crate::snapshot::Snapshot;

/// How long a message whose target state is already current may stay
/// before the controller deletes it (Helix's `messagePurgeDelay`).
pub const OBSOLETE_MESSAGE_DELAY_MS: i64 = 60_000;

/// Who sends the messages.
#[derive(Debug, Clone)]
pub struct Sender {
    /// The controller's instance name (`SRC_NAME`).
    pub name: String,
    /// The controller's session (`SRC_SESSION_ID`).
    pub session: SessionId,
}

/// What one resource needs this round.
#[derive(Debug, Clone, Default)]
pub struct MessagePlan {
    /// Messages to create, each at `INSTANCES/<TGT_NAME>/MESSAGES/<MSG_ID>`.
    pub send: Vec<Message>,
    /// Pending messages to delete: (instance, message id, why).
    pub delete: Vec<(String, String, &'static str)>,
}

/// A candidate transition before selection.
struct Candidate {
    instance: String,
    session: String,
    partition: String,
    from: String,
    to: String,
    priority: usize,
}

/// Plans the messages for the partitions of `resource` in `assignment`
/// (its best possible states, for all partitions or only some).
/// `new_id` makes message ids (uuids in production).
pub fn plan(
    snapshot: &Snapshot,
    resource: &str,
    assignment: &ResourceAssignment,
    sender: &Sender,
    now_ms: i64,
    event_name: &str,
    new_id: &mut dyn FnMut() -> String,
) -> MessagePlan {
    let mut plan = MessagePlan::default();
    let Some(model_name) = snapshot.model_name(resource) else {
        return plan;
    };
    let Some(model) = snapshot.models.get(model_name) else {
        return plan;
    };
    let initial = model.initial_state().unwrap_or_default();
    let top = model.top_state().unwrap_or_default();
    let p2p =
        crate::relay::p2p_enabled(snapshot, resource) && model.count(top) == Some(Count::Fixed(1));
    let factory = snapshot
        .ideal_states
        .get(resource)
        .map(|i| i.state_model_factory_name().to_owned())
        .unwrap_or_else(|| "DEFAULT".to_owned());

    for (partition, desired_map) in assignment {
        let holders = snapshot.holders(resource, partition);
        // Only instances that hold, should hold, or have a message for the
        // replica can need anything.
        let mut involved: BTreeSet<&str> = holders.keys().copied().collect();
        involved.extend(desired_map.keys().map(String::as_str));
        involved.extend(snapshot.pending.instances_of(resource, partition));
        let mut candidates = Vec::new();
        for (instance, live) in involved
            .into_iter()
            .filter_map(|i| snapshot.live.get_key_value(i))
        {
            let current = holders.get(instance.as_str()).copied();
            let effective = current.unwrap_or(initial);
            if let Some(pending) = snapshot.pending_message(instance, resource, partition) {
                if let Some(reason) = obsolete(pending, effective, now_ms) {
                    plan.delete
                        .push((instance.clone(), pending.msg_id().to_owned(), reason));
                }
                continue;
            }
            let desired = match desired_map.get(instance) {
                Some(desired) => desired.as_str(),
                None if current.is_some() && !desired_map.is_empty() => DROPPED,
                None => continue,
            };
            if desired == effective || (desired == DROPPED && current.is_none()) {
                continue;
            }
            let Some(next) = model.next_state(effective, desired) else {
                warn!(
                    resource,
                    partition,
                    instance,
                    from = effective,
                    to = desired,
                    "no transition path in the state model"
                );
                continue;
            };
            candidates.push(Candidate {
                instance: instance.clone(),
                session: live.session.clone(),
                partition: partition.clone(),
                from: effective.to_owned(),
                to: next.to_owned(),
                priority: model
                    .transition_priority(effective, next)
                    .unwrap_or(usize::MAX),
            });
        }
        let (selected, over_top_bound) =
            select(snapshot, model, resource, partition, &holders, candidates);
        let first_sent = plan.send.len();
        let build = |candidate: &Candidate, new_id: &mut dyn FnMut() -> String| {
            let Ok(target_session) = SessionId::parse(&candidate.session) else {
                warn!(
                    instance = candidate.instance,
                    session = candidate.session,
                    "live instance has an unparsable session id"
                );
                return None;
            };
            let active = if model.is_upward_transition(&candidate.from, &candidate.to)
                && is_active(model, &candidate.to)
            {
                active_replicas(model, &holders)
            } else {
                -1
            };
            let ideal = snapshot.ideal_states.get(resource);
            Some(Message::state_transition(&StateTransitionSpec {
                msg_id: new_id(),
                create_timestamp: now_ms,
                src_name: sender.name.clone(),
                src_session_id: sender.session,
                tgt_name: candidate.instance.clone(),
                tgt_session_id: target_session,
                resource: resource.to_owned(),
                partition: candidate.partition.clone(),
                from_state: candidate.from.clone(),
                to_state: candidate.to.clone(),
                state_model_def: model_name.to_owned(),
                state_model_factory_name: factory.clone(),
                current_active_replica_number: active,
                cluster_event_name: event_name.to_owned(),
                retry_count: 3,
                rebalance_type: None,
                bucket_size: 0,
                resource_group_name: ideal
                    .and_then(|i| i.resource_group_name())
                    .map(str::to_owned),
                resource_tag: ideal
                    .and_then(|i| i.instance_group_tag())
                    .map(str::to_owned),
                timeout: None,
            }))
        };
        for candidate in &selected {
            if let Some(message) = build(candidate, new_id) {
                plan.send.push(message);
            }
        }
        // P2P (Helix's MessageSelectionStage): a promotion to the single
        // top state held back by its bound rides on this round's demotion
        // from the top state, and the demoted participant relays it.
        if p2p {
            let mut demotions = plan.send[first_sent..]
                .iter_mut()
                .filter(|m| m.from_state() == Some(top));
            for promotion in over_top_bound.iter().filter(|c| c.to == top) {
                let Some(demotion) = demotions.next() else {
                    break;
                };
                if let Some(relayed) = build(promotion, new_id) {
                    demotion.attach_relay_message(&promotion.instance, &relayed);
                }
            }
        }
    }
    plan
}

/// Why a pending message should be deleted, if it should.
fn obsolete(message: &PendingTransition, current: &str, now_ms: i64) -> Option<&'static str> {
    let from = message.from_state().unwrap_or_default();
    let to = message.to_state().unwrap_or_default();
    if current == to {
        let created = message.create_timestamp().unwrap_or(now_ms);
        (now_ms - created > OBSOLETE_MESSAGE_DELAY_MS)
            .then_some("its target state has been current for over a minute")
    } else if current != from && from != "*" {
        Some("the replica is in neither its from nor its to state")
    } else {
        None
    }
}

/// The state Helix's `MessageGenerationPhase` never counts as active.
const OFFLINE: &str = "OFFLINE";

/// Whether a replica in `state` serves (Helix's
/// `MessageGenerationPhase.isStateActive`): the top state, a second-top
/// state other than OFFLINE and DROPPED, or ERROR (an ERROR replica does
/// not change availability).
fn is_active(model: &StateModelDefinition, state: &str) -> bool {
    model.top_state() == Some(state)
        || state == ERROR
        || (state != OFFLINE && state != DROPPED && model.second_top_states().contains(&state))
}

/// `CURRENT_ACTIVE_REPLICA_NUMBER` of an upward transition toward an
/// active state (Helix's `calculateCurrentActiveReplicaCount`): the live
/// replicas of the partition in an active state.
fn active_replicas(model: &StateModelDefinition, holders: &BTreeMap<&str, &str>) -> i32 {
    let n = holders.values().filter(|s| is_active(model, s)).count();
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// `MessageSelectionStage`: keep the candidates that do not push a bounded
/// state over its bound, most important transitions first; also returns
/// those held back by a bound (candidates for a relay).
fn select(
    snapshot: &Snapshot,
    model: &StateModelDefinition,
    resource: &str,
    partition: &str,
    holders: &BTreeMap<&str, &str>,
    mut candidates: Vec<Candidate>,
) -> (Vec<Candidate>, Vec<Candidate>) {
    let bound = |state: &str| match model.count(state) {
        Some(Count::Fixed(n)) => Some(n as usize),
        Some(Count::Nodes) => Some(snapshot.live.len()),
        _ => None,
    };
    // Helix's initial counts: every live instance in its current state (or
    // the initial state), and every pending message in both its FROM and
    // its TO state — a replica in mid-transition counts in both.
    let initial = model.initial_state();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut not_holding = snapshot.live.len();
    for (instance, state) in holders {
        if snapshot.is_live(instance) {
            *counts.entry((*state).to_owned()).or_default() += 1;
            not_holding -= 1;
        }
    }
    if let Some(initial) = initial
        && not_holding > 0
    {
        *counts.entry(initial.to_owned()).or_default() += not_holding;
    }
    for instance in snapshot.pending.instances_of(resource, partition) {
        if !snapshot.is_live(instance) {
            continue;
        }
        if let Some(pending) = snapshot.pending_message(instance, resource, partition) {
            for state in [pending.from_state(), pending.to_state()]
                .into_iter()
                .flatten()
            {
                *counts.entry(state.to_owned()).or_default() += 1;
            }
        }
    }
    candidates.sort_by(|a, b| (a.priority, &a.instance).cmp(&(b.priority, &b.instance)));
    let mut selected = Vec::new();
    let mut over_bound = Vec::new();
    for candidate in candidates {
        let count = counts.entry(candidate.to.clone()).or_default();
        if let Some(limit) = bound(&candidate.to)
            && *count + 1 > limit
        {
            over_bound.push(candidate);
            continue;
        }
        *count += 1;
        selected.push(candidate);
    }
    (selected, over_bound)
}
