//! One pipeline run over what changed, and what the leader keeps between
//! runs.
//!
//! A run takes the marks cache changes left ([`Dirty`]) and, for each
//! marked resource only, computes the best possible state of the marked
//! partitions (`strand_rebalance::best_possible`), plans their transitions
//! (`strand_rebalance::messages`) and updates their views; then it creates
//! the new messages, deletes obsolete and stale ones, and writes the views
//! that are due — Helix's rebalance, externalView and customizedView
//! pipelines in one pass, at a cost proportional to the change.
//!
//! Between runs the leader keeps, per resource, its preference lists (so
//! FULL_AUTO placement moves as little as possible), the best possible
//! state of every partition and the partitions not yet in it; the views as
//! they should be ([`ViewBook`]); and the messages it sent whose creation
//! the cache has not confirmed (see [`InDoubt`]).
//!
//! # Guarantees
//! * Every write batch is fenced on LEADER ([`crate::dispatch`]).
//! * A replica has at most one pending message: a sent message counts as
//!   pending from the moment it is created (the model holds it) until the
//!   cache reports it deleted.
//! * A run that fails leaves nothing half-known: the next run recomputes
//!   everything from the model (see [`Pipeline::run`]).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use strand_model::records::DROPPED;
use strand_model::time::now_ms;
use strand_model::{FieldMap, Message, PropertyPaths, RebalanceMode, SessionId};
use strand_rebalance::{
    PendingTransition, PreferenceLists, ResourceAssignment, Sender, Snapshot, best_possible,
    messages, views as rebalance_views,
};
use strand_zk::{TreeCache, Zk};
use tracing::{debug, info, warn};

use crate::aggregate::{Aggregators, InstanceFields, PartitionInput, ViewAggregator};
use crate::dirty::{Dirty, Parts};
use crate::dispatch::{SendOutcome, Writer};
use crate::error::Result;
use crate::model::{ClusterModel, mark_transition};
use crate::plugin_aggregators::PluginAggregators;
use crate::views::{ViewBook, ViewWrite};

/// How long a message whose creation had an unknown outcome (the
/// connection dropped) counts as pending when the cache neither shows it
/// nor resyncs. A resync after the reconnect settles it sooner.
pub const IN_DOUBT_GRACE: Duration = Duration::from_secs(10);

/// Views are written at most this often per view, unless a change must be
/// seen at once (see [`crate::views`]).
pub const VIEW_WRITE_INTERVAL: Duration = Duration::from_millis(200);

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunReport {
    /// The Helix event name of the run (`ClusterEventName` of its messages).
    pub event: &'static str,
    /// Value of the on-demand request counter when the run started (see
    /// [`crate::ControllerHandle::wait_converged`]).
    pub requested: u64,
    /// Resources whose decisions were recomputed.
    pub resources: usize,
    /// Partitions whose decisions were recomputed.
    pub partitions: usize,
    /// Messages created.
    pub sent: usize,
    /// Messages deleted (obsolete or stale).
    pub deleted: usize,
    /// External and customized views written.
    pub views_written: usize,
    /// External and customized views removed.
    pub views_removed: usize,
    /// Messages pending when the run ended (sent, not yet done).
    pub pending: usize,
    /// Every replica is in its best possible state and no message is
    /// pending (nothing left to do until something changes). Resources
    /// held back (see `held_back`) do not count.
    pub converged: bool,
    /// Resources no transition is sent for, with the reason: a record that
    /// does not parse or makes no sense.
    pub held_back: Vec<(String, String)>,
    /// Time spent computing (no I/O).
    pub compute: Duration,
    /// Time of the whole run, writes included.
    pub total: Duration,
}

/// A message whose create had an unknown outcome.
#[derive(Debug, Clone)]
struct InDoubt {
    instance: String,
    msg_id: String,
    since: Instant,
}

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
struct AggregateJob {
    state_type: String,
    resource: String,
    partition: String,
    states: Vec<(String, FieldMap)>,
    aggregator: Arc<dyn ViewAggregator>,
}

/// The leader's pipeline state for one cluster and one term.
pub(crate) struct Pipeline {
    paths: PropertyPaths,
    writer: Writer,
    sender: Sender,
    decisions: HashMap<String, Decisions>,
    held_back: BTreeMap<String, String>,
    views: ViewBook,
    in_doubt: HashMap<String, InDoubt>,
    /// Stale messages whose delete was sent, and when.
    stale_deleted: HashMap<String, Instant>,
    aggregators: Aggregators,
    plugins: Arc<PluginAggregators>,
    zk: Zk,
}

impl Pipeline {
    pub(crate) fn new(
        zk: Zk,
        paths: PropertyPaths,
        name: &str,
        aggregators: Aggregators,
        plugins: Arc<PluginAggregators>,
        view_interval: Duration,
    ) -> Self {
        let sender = Sender {
            name: name.to_owned(),
            session: SessionId::parse(&zk.session_id()).unwrap_or(SessionId(0)),
        };
        Self {
            writer: Writer::new(zk.clone(), paths.clone()),
            views: ViewBook::new(paths.clone(), view_interval),
            zk,
            plugins,
            paths,
            sender,
            decisions: HashMap::new(),
            held_back: BTreeMap::new(),
            in_doubt: HashMap::new(),
            stale_deleted: HashMap::new(),
            aggregators,
        }
    }

    /// Checks the fence without writing.
    ///
    /// # Errors
    /// [`crate::ControllerError::LostLeadership`] when this session does
    /// not own LEADER.
    pub(crate) fn check_fence(&self, cache: &TreeCache) -> Result<()> {
        self.writer.fence(cache).map(|_| ())
    }

    /// After the cache re-listed its subtree: messages whose create had an
    /// unknown outcome and that the cache does not show were not created.
    pub(crate) fn settle_after_resync(
        &mut self,
        model: &mut ClusterModel,
        cache: &TreeCache,
        dirty: &mut Dirty,
    ) {
        let in_doubt = std::mem::take(&mut self.in_doubt);
        for (path, doubt) in in_doubt {
            if !cache.contains(&path) {
                forget_pending(model, dirty, &doubt.instance, &doubt.msg_id);
            }
        }
        // Anything else the model counts as pending but the cache does not
        // hold was deleted while events could be lost.
        for (path, instance, msg_id) in model.pending_paths() {
            if !cache.contains(&path) {
                forget_pending(model, dirty, &instance, &msg_id);
            }
        }
    }

    /// When a run is next due without any change: a delayed view write,
    /// or a message in doubt reaching its grace.
    pub(crate) fn next_due(&mut self, model: &ClusterModel) -> Option<Instant> {
        let doubt = self
            .in_doubt
            .values()
            .map(|d| d.since + IN_DOUBT_GRACE)
            .min();
        let views = self
            .views
            .next_due(&model.external_views, &model.customized_views);
        match (doubt, views) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Runs the pipeline once over what `dirty` marks.
    ///
    /// # Errors
    /// [`crate::ControllerError::LostLeadership`] when the fence fails; a
    /// write error otherwise. After an error the caller must mark
    /// everything for the retry: some writes may have landed.
    pub(crate) async fn run(
        &mut self,
        model: &mut ClusterModel,
        cache: &TreeCache,
        dirty: Dirty,
        requested: u64,
    ) -> Result<RunReport> {
        let started = Instant::now();
        self.writer.fence(cache)?;
        let event = dirty.event.unwrap_or(crate::trigger::PERIODICAL_REBALANCE);
        self.expire_in_doubt(model, cache);
        let now = now_ms();
        let mut plan = Plan::default();
        let resources = self.resources_to_decide(model, &dirty);
        for (resource, marks) in &resources {
            self.decide(model, resource, marks, &mut plan, event, now);
        }
        let all_resources = model.snapshot.resources();
        if dirty.everything {
            for resource in model.external_views.keys() {
                if !all_resources.contains(resource) && !self.views.has_external(resource) {
                    self.views.external_gone(resource);
                }
            }
        }
        for resource in &dirty.external_views {
            if !resources.contains_key(resource) {
                let top = top_state(&model.snapshot, resource);
                if all_resources.contains(resource) && !self.held_back.contains_key(resource) {
                    self.views.update_external(
                        &model.snapshot,
                        resource,
                        Some(&[]),
                        model.external_views.get(resource),
                        top.as_deref(),
                    );
                } else if !all_resources.contains(resource) {
                    self.views.external_gone(resource);
                }
            }
        }
        let stale_now = Instant::now();
        self.stale_deleted
            .retain(|path, _| model.stale.contains(path));
        for path in &model.stale {
            let recently = self
                .stale_deleted
                .get(path)
                .is_some_and(|at| stale_now.duration_since(*at) < IN_DOUBT_GRACE);
            if !recently {
                debug!(message = path, "deleting a message for an old session");
                plan.delete.push(path.clone());
                self.stale_deleted.insert(path.clone(), stale_now);
            }
        }
        let jobs = self.customized(model, &dirty, &resources, &all_resources, cache);
        let compute = started.elapsed();

        // Writes: messages first (they are what moves the cluster), then
        // views.
        let sent = self.send(model, cache, plan.send).await?;
        let deleted = plan.delete.len();
        self.writer.delete(cache, plan.delete).await?;
        if !jobs.is_empty() {
            self.aggregate(jobs).await;
        }
        let converged = !model.paused
            && model.snapshot.pending.is_empty()
            && self.decisions.values().all(|d| d.unsatisfied.is_empty());
        let (views_written, views_removed) = self.write_views(model, cache, converged).await?;
        let report = RunReport {
            event,
            requested,
            resources: resources.len(),
            partitions: plan.partitions,
            sent,
            deleted,
            views_written,
            views_removed,
            pending: model.snapshot.pending.len(),
            converged,
            held_back: self
                .held_back
                .iter()
                .map(|(r, why)| (r.clone(), why.clone()))
                .collect(),
            compute,
            total: started.elapsed(),
        };
        if sent + deleted + views_written + views_removed > 0 {
            info!(
                cluster = self.paths.cluster_name(),
                event,
                resources = report.resources,
                partitions = report.partitions,
                sent,
                deleted,
                views_written,
                views_removed,
                pending = report.pending,
                compute_ms = compute.as_secs_f64() * 1e3,
                total_ms = report.total.as_secs_f64() * 1e3,
                "pipeline run"
            );
        }
        Ok(report)
    }

    /// After a failed run: forget view writes whose outcome is unknown.
    pub(crate) fn after_failure(&mut self) {
        self.views.forget_writes();
    }

    /// The resources this run decides, with what to recompute of each.
    fn resources_to_decide(
        &self,
        model: &ClusterModel,
        dirty: &Dirty,
    ) -> BTreeMap<String, crate::dirty::ResourceMarks> {
        let mut resources = dirty.resources.clone();
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
    fn decide(
        &mut self,
        model: &ClusterModel,
        resource: &str,
        marks: &crate::dirty::ResourceMarks,
        plan: &mut Plan,
        event: &'static str,
        now: i64,
    ) {
        let snapshot = &model.snapshot;
        let exists = snapshot.ideal_states.contains_key(resource)
            || snapshot
                .current_records(resource)
                .any(|(_, cs)| cs.partitions().next().is_some());
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
            let previous = if decisions.placed {
                decisions.lists.clone()
            } else {
                PreferenceLists::new()
            };
            let Some(lists) = best_possible::preference_lists(snapshot, resource, &previous) else {
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
        plan.partitions += partitions.len();
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
            let planned = messages::plan(
                snapshot,
                resource,
                &assignment,
                &self.sender,
                now,
                event,
                &mut new_id,
            );
            plan.send.extend(planned.send);
            for (instance, id, why) in planned.delete {
                debug!(instance, message = id, why, "deleting an obsolete message");
                plan.delete.push(self.paths.message(&instance, &id));
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
        decided: &BTreeMap<String, crate::dirty::ResourceMarks>,
        resources: &BTreeSet<String>,
        cache: &TreeCache,
    ) -> Vec<AggregateJob> {
        let mut jobs = Vec::new();
        let all = dirty.everything || dirty.all_customized;
        if !all && dirty.customized.is_empty() && decided.is_empty() {
            return jobs;
        }
        let snapshot = &model.snapshot;
        let bound = if model.customized_types.is_empty() {
            Aggregators::default()
        } else {
            let plugins = self.plugins.resolve(cache, &self.paths, &self.zk);
            self.aggregators.with_fallbacks(plugins)
        };
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

    /// Runs aggregator plugins off the async workers (plugin calls block,
    /// and WASI's blocking streams must not run on a runtime thread), then
    /// puts their results in the views; a failure keeps the default view
    /// of that partition.
    async fn aggregate(&mut self, jobs: Vec<AggregateJob>) {
        let cluster = self.paths.cluster_name().to_owned();
        let results = tokio::task::spawn_blocking(move || {
            jobs.into_iter()
                .map(|job| {
                    let input = PartitionInput {
                        cluster: &cluster,
                        customized_type: &job.state_type,
                        resource: &job.resource,
                        partition: &job.partition,
                        states: job
                            .states
                            .iter()
                            .map(|(instance, fields)| InstanceFields { instance, fields })
                            .collect(),
                    };
                    let result = job.aggregator.aggregate(&input);
                    (job.state_type, job.resource, job.partition, result)
                })
                .collect::<Vec<_>>()
        })
        .await;
        let results = match results {
            Ok(results) => results,
            Err(err) => {
                warn!(error = %err, "customized-view aggregation failed; default views kept");
                return;
            }
        };
        for (state_type, resource, partition, result) in results {
            match result {
                Ok(map) => {
                    self.views.set_customized_partition(
                        &state_type,
                        &resource,
                        &partition,
                        Some(map),
                    );
                }
                Err(reason) => warn!(
                    customized_type = state_type,
                    resource,
                    partition,
                    reason,
                    "aggregator failed; using the default view for this partition"
                ),
            }
        }
    }

    /// Creates the planned messages; every created one counts as pending
    /// at once. Returns how many were created.
    async fn send(
        &mut self,
        model: &mut ClusterModel,
        cache: &TreeCache,
        messages: Vec<Message>,
    ) -> Result<usize> {
        if messages.is_empty() {
            return Ok(0);
        }
        let (outcome, result): (SendOutcome, Result<()>) = self.writer.send(cache, messages).await;
        let created = outcome.created.len();
        for message in &outcome.created {
            if let Some(target) = message.tgt_name() {
                model.snapshot.pending.insert(target, message);
            }
        }
        let since = Instant::now();
        for message in outcome.in_doubt {
            let Some(target) = message.tgt_name() else {
                continue;
            };
            model.snapshot.pending.insert(target, &message);
            self.in_doubt.insert(
                self.paths.message(target, message.msg_id()),
                InDoubt {
                    instance: target.to_owned(),
                    msg_id: message.msg_id().to_owned(),
                    since,
                },
            );
        }
        result.map(|()| created)
    }

    /// Settles messages in doubt: confirmed once the cache shows them (or
    /// their deletion), forgotten past their grace.
    fn expire_in_doubt(&mut self, model: &mut ClusterModel, cache: &TreeCache) {
        let now = Instant::now();
        let mut dirty = Dirty::default();
        self.in_doubt.retain(|path, doubt| {
            let settled = cache.contains(path)
                || model
                    .snapshot
                    .pending
                    .by_id(&doubt.instance, &doubt.msg_id)
                    .is_none();
            if settled {
                return false;
            }
            if now.duration_since(doubt.since) > IN_DOUBT_GRACE {
                forget_pending(model, &mut dirty, &doubt.instance, &doubt.msg_id);
                return false;
            }
            true
        });
    }

    /// Writes the views that are due; (written, removed).
    async fn write_views(
        &mut self,
        model: &ClusterModel,
        cache: &TreeCache,
        flush: bool,
    ) -> Result<(usize, usize)> {
        let types_in_zk: BTreeSet<String> = model.customized_views.keys().cloned().collect();
        let writes = self.views.due(
            Instant::now(),
            flush,
            &model.external_views,
            &model.customized_views,
            &types_in_zk,
        );
        if writes.is_empty() {
            return Ok((0, 0));
        }
        let removed = writes
            .iter()
            .filter(|(_, w)| matches!(w, ViewWrite::Delete(_)))
            .count();
        let written = writes.len() - removed;
        let results = self
            .writer
            .write_views(cache, writes.iter().map(|(_, w)| w.clone()).collect())
            .await?;
        let now = Instant::now();
        for ((key, _), version) in writes.iter().zip(results) {
            self.views.written(key, version, now);
        }
        Ok((written, removed))
    }
}

/// What one run decided to write.
#[derive(Debug, Default)]
struct Plan {
    send: Vec<Message>,
    delete: Vec<String>,
    partitions: usize,
}

/// Drops a message the model counted as pending; marks its partitions.
fn forget_pending(model: &mut ClusterModel, dirty: &mut Dirty, instance: &str, msg_id: &str) {
    let removed: Option<PendingTransition> = model.snapshot.pending.remove(instance, msg_id);
    if let Some(removed) = removed {
        mark_transition(dirty, &removed);
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
