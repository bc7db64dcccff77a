//! One pipeline run over what changed: Helix's rebalance, externalView and
//! customizedView pipelines in one pass, at a cost proportional to the
//! change.
//!
//! A run takes the marks cache changes left ([`Dirty`]), lets the
//! [`Decider`] compute what they call for (no I/O), runs aggregator
//! plugins off the async workers, then creates the new messages, deletes
//! obsolete and stale ones, and writes the views that are due.
//!
//! Between runs the pipeline keeps the decider's state (lists, best
//! possible states, views) and the messages whose creation had an unknown
//! outcome (see [`InDoubt`]).
//!
//! # Guarantees
//! * Every write batch is fenced on LEADER ([`crate::dispatch`]).
//! * A replica has at most one pending message: a sent message counts as
//!   pending from the moment it is created (the model holds it) until the
//!   cache reports it deleted.
//! * A run that fails leaves nothing half-known: the next run recomputes
//!   everything from the model (see [`Pipeline::run`]).

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use strand_metrics::ResourceGap;
use strand_model::time::now_ms;
use strand_model::{Message, PropertyPaths, SessionId};
use strand_rebalance::{PendingTransition, Sender};
use strand_zk::{TreeCache, Zk};
use tracing::{info, warn};

use crate::aggregate::{Aggregators, InstanceFields, PartitionInput};
use crate::decide::{AggregateJob, Decider};
use crate::dirty::Dirty;
use crate::dispatch::{SendOutcome, Writer};
use crate::error::Result;
use crate::model::{ClusterModel, mark_transition};
use crate::plugin_aggregators::PluginAggregators;
use crate::views::ViewWrite;

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

/// The leader's pipeline state for one cluster and one term.
pub(crate) struct Pipeline {
    paths: PropertyPaths,
    writer: Writer,
    decider: Decider,
    in_doubt: HashMap<String, InDoubt>,
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
            decider: Decider::new(paths.clone(), sender, view_interval),
            zk,
            plugins,
            paths,
            in_doubt: HashMap::new(),
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
            .decider
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
        crate::offline_history::report(&self.zk, &self.paths, model).await;
        self.expire_in_doubt(model, cache);
        let customized_work = dirty.everything
            || dirty.all_customized
            || !dirty.customized.is_empty()
            || !dirty.resources.is_empty();
        let bound = if customized_work && !model.customized_types.is_empty() {
            let plugins = self.plugins.resolve(cache, &self.paths, &self.zk);
            self.aggregators.with_fallbacks(plugins)
        } else {
            Aggregators::default()
        };
        let now = now_ms();
        // Delayed rebalance compares offline times with the run's time.
        model.snapshot.now_ms = now;
        let decided = self.decider.decide(model, &dirty, &bound, now);
        let compute = started.elapsed();
        let event = decided.event;

        // Writes: messages first (they are what moves the cluster), then
        // views.
        let sent = self.send(model, cache, decided.send).await?;
        let deleted = decided.delete.len();
        self.writer.delete(cache, decided.delete).await?;
        if !decided.jobs.is_empty() {
            self.aggregate(decided.jobs).await;
        }
        let converged =
            !model.paused && model.snapshot.pending.is_empty() && self.decider.all_satisfied();
        let (views_written, views_removed) = self.write_views(model, cache, converged).await?;
        let report = RunReport {
            event,
            requested,
            resources: decided.resources,
            partitions: decided.partitions,
            sent,
            deleted,
            views_written,
            views_removed,
            pending: model.snapshot.pending.len(),
            converged,
            held_back: self.decider.held_back(),
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

    /// Every resource's distance from converged as of the last run: its
    /// pending messages and partitions not in their best possible state.
    pub(crate) fn resource_gaps(&self, model: &ClusterModel) -> Vec<ResourceGap> {
        let mut pending: HashMap<&str, usize> = HashMap::new();
        for (_, message) in model.snapshot.pending.iter() {
            *pending.entry(message.resource_name()).or_default() += 1;
        }
        self.decider.gaps(&pending)
    }

    /// After a failed run: forget view writes whose outcome is unknown.
    pub(crate) fn after_failure(&mut self) {
        self.decider.views.forget_writes();
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
                    self.decider.views.set_customized_partition(
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
            info!(
                msg_id = message.msg_id(),
                instance = message.tgt_name().unwrap_or(""),
                resource = message.resource_name().unwrap_or(""),
                partition = message.partition_name().unwrap_or(""),
                from = message.from_state().unwrap_or(""),
                to = message.to_state().unwrap_or(""),
                "message sent"
            );
            if let Some(target) = message.tgt_name() {
                model.snapshot.pending.insert(target, message);
                model.sent_relays(target, message);
            }
        }
        let since = Instant::now();
        for message in outcome.in_doubt {
            let Some(target) = message.tgt_name() else {
                continue;
            };
            model.snapshot.pending.insert(target, &message);
            model.sent_relays(target, &message);
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
        let writes = self.decider.views.due(
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
            self.decider.views.written(key, version, now);
        }
        Ok((written, removed))
    }
}

/// Drops a message the model counted as pending; marks its partitions.
fn forget_pending(model: &mut ClusterModel, dirty: &mut Dirty, instance: &str, msg_id: &str) {
    let removed: Option<PendingTransition> = model.snapshot.pending.remove(instance, msg_id);
    if let Some(removed) = removed {
        mark_transition(dirty, &removed);
    }
}
