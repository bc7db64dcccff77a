//! [`Decider`]: the pure half of a pipeline run — from the model and the
//! marks of what changed ([`Dirty`]) to the messages to send and delete
//! and the views as they should be. No I/O: the run's writes are
//! [`crate::pipeline`]'s.
//!
//! For each marked resource only: its preference lists when they may have
//! changed (FULL_AUTO placement, SEMI_AUTO edits), the best possible
//! state of the marked partitions (`strand_rebalance::best_possible`),
//! their transitions (`strand_rebalance::messages`) and their external
//! view; then the cluster's limit on top-state handoffs at once
//! (`strand_rebalance::handoffs`: partitions whose demotion waits are
//! decided again in every run until it starts); then the marked
//! partitions of the customized views. A resource
//! whose records do not parse or make no sense is held back: nothing is
//! sent for it, and the reason is reported.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use strand_metrics::ResourceGap;
use strand_model::records::DROPPED;
use strand_model::{FieldMap, Message, PropertyPaths, RebalanceMode};
use strand_rebalance::{
    PreferenceLists, ResourceAssignment, Sender, Snapshot, best_possible, handoffs, messages,
    rebalance_type, views as rebalance_views,
};
use tracing::{debug, info, warn};

use crate::aggregate::{Aggregators, ViewAggregator};
use crate::dirty::{Dirty, Parts, ResourceMarks};
use crate::model::ClusterModel;
use crate::views::ViewBook;

/// A stale message whose delete was sent is not deleted again within this
/// time (the cache reports the deletion long before).
const STALE_DELETE_AGAIN: Duration = Duration::from_secs(10);

/// What the leader keeps of one resource between runs.
#[derive(Debug, Default)]
struct Decisions {
    /// Preference lists as last computed.
    lists: PreferenceLists,
    /// Whether `lists` have been computed in this term.
    placed: bool,
    /// The best possible state of every partition.
    assignment: ResourceAssignment,
    /// Partitions not in their best possible state.
    unsatisfied: BTreeSet<String>,
}

/// A customized-view partition an aggregator plugin computes.
pub(crate) struct AggregateJob {
    pub state_type: String,
    pub resource: String,
    pub partition: String,
    pub states: Vec<(String, FieldMap)>,
    pub aggregator: Arc<dyn ViewAggregator>,
}

/// What one run decided.
#[derive(Default)]
pub(crate) struct Decided {
    /// The Helix event name of the run.
    pub event: &'static str,
    /// Messages to create.
    pub send: Vec<Message>,
    /// Message znodes to delete (obsolete or stale).
    pub delete: Vec<String>,
    /// Customized-view partitions an aggregator plugin must compute.
    pub jobs: Vec<AggregateJob>,
    /// Resources decided.
    pub resources: usize,
    /// Partitions decided.
    pub partitions: usize,
}

/// What the leader decided in this term, kept between runs.
pub(crate) struct Decider {
    paths: PropertyPaths,
    sender: Sender,
    decisions: HashMap<String, Decisions>,
    held_back: BTreeMap<String, String>,
    /// The views as they should be, and what was written.
    pub views: ViewBook,
    /// Stale messages whose delete was sent, and when.
    stale_deleted: HashMap<String, Instant>,
    /// Partitions whose demotion from the top state the handoff limit held
    /// back (`strand_rebalance::handoffs`): decided again in every run
    /// until it starts.
    held_handoffs: BTreeMap<String, BTreeSet<String>>,
}

impl Decider {
    pub(crate) fn new(paths: PropertyPaths, sender: Sender, view_interval: Duration) -> Self {
        Self {
            views: ViewBook::new(paths.clone(), view_interval),
            paths,
            sender,
            decisions: HashMap::new(),
            held_back: BTreeMap::new(),
            stale_deleted: HashMap::new(),
            held_handoffs: BTreeMap::new(),
        }
    }

    /// Resources held back, with the reason.
    pub(crate) fn held_back(&self) -> Vec<(String, String)> {
        self.held_back
            .iter()
            .map(|(r, why)| (r.clone(), why.clone()))
            .collect()
    }

    /// Each decided or held-back resource's gap, given its `pending`
    /// message counts.
    pub(crate) fn gaps(&self, pending: &HashMap<&str, usize>) -> Vec<ResourceGap> {
        let mut resources: BTreeSet<&str> = self.decisions.keys().map(String::as_str).collect();
        resources.extend(self.held_back.keys().map(String::as_str));
        resources.extend(pending.keys().copied());
        resources
            .into_iter()
            .map(|resource| ResourceGap {
                resource: resource.to_owned(),
                pending_messages: pending.get(resource).copied().unwrap_or(0),
                not_best_possible: self
                    .decisions
                    .get(resource)
                    .map_or(0, |d| d.unsatisfied.len()),
                held_back: self.held_back.contains_key(resource),
            })
            .collect()
    }

    /// Whether every decided partition is in its best possible state.
    pub(crate) fn all_satisfied(&self) -> bool {
        self.decisions.values().all(|d| d.unsatisfied.is_empty())
    }

    /// Decides what `dirty` marks. `bound` are the aggregators of the
    /// customized-state types; `now` stamps the messages.
    pub(crate) fn decide(
        &mut self,
        model: &ClusterModel,
        dirty: &Dirty,
        bound: &Aggregators,
        now: i64,
    ) -> Decided {
        let mut decided = Decided {
            event: dirty.event.unwrap_or(crate::trigger::PERIODICAL_REBALANCE),
            ..Decided::default()
        };
        let resources = self.resources_to_decide(model, dirty);
        for (resource, marks) in &resources {
            let event = decided.event;
            self.decide_resource(model, resource, marks, &mut decided, event, now);
        }
        if !model.paused {
            self.limit_handoffs(model, &mut decided);
        }
        decided.resources = resources.len();
        let all_resources = model.snapshot.resources();
        if dirty.everything {
            for resource in model.external_views.keys() {
                if !all_resources.contains(resource) {
                    self.views.external_gone(resource);
                }
            }
        }
        for resource in &dirty.external_views {
            if !all_resources.contains(resource) {
                self.views.external_gone(resource);
            } else {
                self.views.touch_external(resource);
            }
        }
        for (state_type, resource) in &dirty.customized_views {
            self.views.touch_customized(state_type, resource);
        }
        self.stale(model, &mut decided);
        decided.jobs = self.customized(model, dirty, &resources, &all_resources, bound);
        decided
    }

    /// Holds back the demotions from the top state beyond the handoff
    /// limit; their partitions are decided again in the next runs.
    fn limit_handoffs(&mut self, model: &ClusterModel, decided: &mut Decided) {
        let held = handoffs::gate(&model.snapshot, &mut decided.send);
        if !held.is_empty() {
            debug!(
                cluster = self.paths.cluster_name(),
                held = held.len(),
                "top-state handoffs held back by the limit"
            );
        }
        self.held_handoffs.clear();
        for (resource, partition) in held {
            self.held_handoffs
                .entry(resource)
                .or_default()
                .insert(partition);
        }
    }

    /// Deletes of messages for old sessions of live instances.
    fn stale(&mut self, model: &ClusterModel, decided: &mut Decided) {
        let now = Instant::now();
        self.stale_deleted
            .retain(|path, _| model.stale.contains(path));
        for path in &model.stale {
            let recently = self
                .stale_deleted
                .get(path)
                .is_some_and(|at| now.duration_since(*at) < STALE_DELETE_AGAIN);
            if !recently {
                debug!(message = path, "deleting a message for an old session");
                decided.delete.push(path.clone());
                self.stale_deleted.insert(path.clone(), now);
            }
        }
    }

    /// The resources this run decides, with what to recompute of each.
    fn resources_to_decide(
        &self,
        model: &ClusterModel,
        dirty: &Dirty,
    ) -> BTreeMap<String, ResourceMarks> {
        let mut resources = dirty.resources.clone();
        for (resource, partitions) in &self.held_handoffs {
            let marks = resources.entry(resource.clone()).or_default();
            if let Parts::Some(set) = &mut marks.parts {
                set.extend(partitions.iter().cloned());
            }
        }
        if dirty.everything {
            let all = model.snapshot.resources();
            for resource in all.iter().chain(self.decisions.keys()) {
                let marks = resources.entry(resource.clone()).or_default();
                marks.placement = true;
                marks.parts = Parts::All;
            }
        }
        resources
    }

    /// Decides one resource: its lists if marked, the best possible state
    /// of the marked partitions, their messages and external view.
    fn decide_resource(
        &mut self,
        model: &ClusterModel,
        resource: &str,
        marks: &ResourceMarks,
        decided: &mut Decided,
        event: &'static str,
        now: i64,
    ) {
        let snapshot = &model.snapshot;
        // A resource whose IdealState has never parsed exists too: it is
        // held back below, not forgotten.
        let exists = snapshot.ideal_states.contains_key(resource)
            || snapshot
                .current_records(resource)
                .any(|(_, cs)| cs.partitions().next().is_some())
            || model.problem(resource).is_some();
        if !exists {
            self.decisions.remove(resource);
            self.held_back.remove(resource);
            self.views.external_gone(resource);
            return;
        }
        if let Some(reason) = model
            .problem(resource)
            .or_else(|| nonsense(snapshot, resource))
        {
            if self.held_back.get(resource) != Some(&reason) {
                warn!(
                    cluster = self.paths.cluster_name(),
                    resource, reason, "resource held back: no transition is sent for it"
                );
            }
            self.held_back.insert(resource.to_owned(), reason);
            return;
        }
        if self.held_back.remove(resource).is_some() {
            info!(
                cluster = self.paths.cluster_name(),
                resource, "resource no longer held back"
            );
        }
        let decisions = self.decisions.entry(resource.to_owned()).or_default();
        let mut parts = marks.parts.clone();
        if marks.placement || !decisions.placed {
            let none = PreferenceLists::new();
            let previous = if decisions.placed {
                &decisions.lists
            } else {
                &none
            };
            let Some(lists) = best_possible::preference_lists(snapshot, resource, previous) else {
                return;
            };
            if !decisions.placed {
                parts = Parts::All;
            } else if let Parts::Some(set) = &mut parts {
                for (partition, list) in &lists {
                    if decisions.lists.get(partition) != Some(list) {
                        set.insert(partition.clone());
                    }
                }
                for partition in decisions.lists.keys() {
                    if !lists.contains_key(partition) {
                        set.insert(partition.clone());
                    }
                }
            }
            decisions.lists = lists;
            decisions.placed = true;
        }
        let partitions: Vec<String> = match &parts {
            Parts::All => {
                let mut all = snapshot.partitions(resource);
                all.extend(decisions.assignment.keys().cloned());
                all.into_iter().collect()
            }
            Parts::Some(set) => set.iter().cloned().collect(),
        };
        if partitions.is_empty() {
            return;
        }
        let Some(assignment) = best_possible::compute_partitions(
            snapshot,
            resource,
            &decisions.lists,
            partitions.iter().map(String::as_str),
        ) else {
            return;
        };
        decided.partitions += partitions.len();
        let initial = snapshot
            .model_name(resource)
            .and_then(|name| snapshot.models.get(name))
            .and_then(|m| m.initial_state().map(str::to_owned));
        for (partition, desired) in &assignment {
            let gone = desired.is_empty() && !snapshot.has_partition(resource, partition);
            if gone {
                decisions.assignment.remove(partition);
                decisions.unsatisfied.remove(partition);
                continue;
            }
            if satisfied(snapshot, resource, partition, desired, initial.as_deref()) {
                decisions.unsatisfied.remove(partition);
            } else {
                decisions.unsatisfied.insert(partition.clone());
            }
            decisions
                .assignment
                .insert(partition.clone(), desired.clone());
        }
        if !model.paused {
            let mut new_id = || uuid::Uuid::new_v4().to_string();
            let mut planned = messages::plan(
                snapshot,
                resource,
                &assignment,
                &self.sender,
                now,
                event,
                &mut new_id,
            );
            rebalance_type::label(snapshot, resource, &decisions.lists, &mut planned.send);
            decided.send.extend(planned.send);
            for (instance, id, why) in planned.delete {
                debug!(instance, message = id, why, "deleting an obsolete message");
                decided.delete.push(self.paths.message(&instance, &id));
            }
        }
        let top = top_state(snapshot, resource);
        let partial = match parts {
            Parts::All => None,
            Parts::Some(_) => Some(partitions.as_slice()),
        };
        self.views.update_external(
            snapshot,
            resource,
            partial,
            model.external_views.get(resource),
            top.as_deref(),
        );
    }

    /// Customized views: the marked partitions of every reported type;
    /// returns the partitions an aggregator plugin must compute.
    fn customized(
        &mut self,
        model: &ClusterModel,
        dirty: &Dirty,
        decided: &BTreeMap<String, ResourceMarks>,
        resources: &BTreeSet<String>,
        bound: &Aggregators,
    ) -> Vec<AggregateJob> {
        let mut jobs = Vec::new();
        let all = dirty.everything || dirty.all_customized;
        if !all && dirty.customized.is_empty() && decided.is_empty() {
            return jobs;
        }
        let snapshot = &model.snapshot;
        let empty = BTreeMap::new();
        for state_type in &model.customized_types {
            let by_resource = model.customized.get(state_type).unwrap_or(&empty);
            // Only states of live instances, for known resources and
            // partitions, count (Helix's CustomizedStateComputationStage).
            let reported = resources.iter().any(|r| {
                by_resource.get(r).is_some_and(|states| {
                    states.iter().any(|(instance, s)| {
                        snapshot.is_live(instance)
                            && s.partitions().any(|p| snapshot.has_partition(r, p))
                    })
                })
            });
            if !reported {
                self.views.customized_type_gone(state_type);
                continue;
            }
            let aggregator = bound.get(state_type);
            let no_states = BTreeMap::new();
            for resource in resources {
                let states = by_resource.get(resource).unwrap_or(&no_states);
                let whole = all
                    || !self
                        .views
                        .customized_resources(state_type)
                        .contains(resource)
                    || decided.get(resource).is_some_and(|m| m.parts == Parts::All)
                    || dirty
                        .customized
                        .get(&(state_type.clone(), resource.clone()))
                        .is_some_and(|p| *p == Parts::All);
                let partitions: Vec<String> = if whole {
                    self.views.reset_customized(state_type, resource);
                    let mut reported: BTreeSet<String> = BTreeSet::new();
                    for state in states.values() {
                        reported.extend(state.partitions().map(str::to_owned));
                    }
                    reported.into_iter().collect()
                } else {
                    let mut marked: BTreeSet<String> = match dirty
                        .customized
                        .get(&(state_type.clone(), resource.clone()))
                    {
                        Some(Parts::Some(set)) => set.clone(),
                        _ => BTreeSet::new(),
                    };
                    // A partition whose liveness or existence changed.
                    if let Some(Parts::Some(set)) = decided.get(resource).map(|m| &m.parts) {
                        marked.extend(set.iter().cloned());
                    }
                    marked.into_iter().collect()
                };
                self.views.ensure_customized(state_type, resource);
                for partition in partitions {
                    let default = rebalance_views::default_customized_partition(
                        snapshot, resource, &partition, states,
                    );
                    if let (Some(aggregator), Some(default)) = (&aggregator, &default) {
                        jobs.push(AggregateJob {
                            state_type: state_type.clone(),
                            resource: resource.clone(),
                            partition: partition.clone(),
                            states: default
                                .iter()
                                .filter_map(|(instance, _)| {
                                    let fields = states.get(instance)?.record().map(&partition)?;
                                    Some((instance.clone(), fields.clone()))
                                })
                                .collect(),
                            aggregator: Arc::clone(aggregator),
                        });
                    }
                    self.views.set_customized_partition(
                        state_type,
                        resource,
                        &partition,
                        default.map(|m| m.into_iter().collect()),
                    );
                }
            }
            for resource in self.views.customized_resources(state_type) {
                if !resources.contains(&resource) {
                    self.views.customized_gone(state_type, &resource);
                }
            }
        }
        for state_type in model.customized_views.keys() {
            if !model.customized_types.contains(state_type) {
                self.views.customized_type_gone(state_type);
            }
        }
        jobs
    }
}

/// The resource's top state, if its state model is known.
fn top_state(snapshot: &Snapshot, resource: &str) -> Option<String> {
    snapshot
        .model_name(resource)
        .and_then(|name| snapshot.models.get(name))
        .and_then(|m| m.top_state().map(str::to_owned))
}

/// Why a resource whose records parse still cannot be rebalanced, if so:
/// an unknown or unsupported rebalance mode, or a state model that does
/// not exist.
fn nonsense(snapshot: &Snapshot, resource: &str) -> Option<String> {
    let model = snapshot.model_name(resource);
    match model {
        None => return Some("it names no state model".to_owned()),
        Some(name) if !snapshot.models.contains_key(name) => {
            return Some(format!("its state model {name} does not exist"));
        }
        Some(_) => {}
    }
    let ideal = snapshot.ideal_states.get(resource)?;
    if let Some(raw) = ideal.record().simple("REBALANCE_MODE")
        && RebalanceMode::parse(raw).is_none()
    {
        return Some(format!("unknown REBALANCE_MODE {raw}"));
    }
    match ideal.rebalance_mode() {
        RebalanceMode::SemiAuto | RebalanceMode::FullAuto | RebalanceMode::Customized => None,
        other => Some(format!(
            "rebalance mode {} is not supported by Strand's controller",
            other.as_str()
        )),
    }
}

/// Whether every replica of one partition is in its best possible state.
fn satisfied(
    snapshot: &Snapshot,
    resource: &str,
    partition: &str,
    desired: &strand_rebalance::PartitionMap,
    initial: Option<&str>,
) -> bool {
    desired.iter().all(|(instance, want)| {
        let have = snapshot.current_state(instance, resource, partition);
        if want == DROPPED {
            have.is_none()
        } else if !snapshot.is_live(instance) {
            true
        } else {
            have.or(initial) == Some(want.as_str())
        }
    })
}
