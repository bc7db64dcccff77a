//! One pipeline run, and what the leader remembers between runs.
//!
//! A run reads the cluster from the cache, computes each resource's best
//! possible state (`strand_rebalance::best_possible`), plans the
//! transitions (`strand_rebalance::messages`), creates the new messages,
//! deletes obsolete and stale ones, and writes the external and customized
//! views that changed — Helix's rebalance, externalView and customizedView
//! pipelines in one pass.
//!
//! Between runs the leader keeps:
//! * the FULL_AUTO preference lists of the previous run, so placement
//!   moves as little as possible;
//! * the messages it sent that the cache does not show yet ("in flight"),
//!   counted as pending so no replica gets a second message while the
//!   cache catches up (Helix caches sent messages the same way);
//! * the views it wrote that the cache does not show yet.
//!
//! # Guarantees
//! * Every write batch is fenced on LEADER ([`crate::dispatch`]).
//! * A pending message is never sent twice and a replica has at most one
//!   pending message, as long as the cache shows a message within
//!   [`IN_FLIGHT_GRACE`] of its creation.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use strand_model::records::DROPPED;
use strand_model::{Message, PropertyPaths, RebalanceMode, SessionId};
use strand_rebalance::{BestPossible, PreferenceLists, Sender, Snapshot, best_possible, messages};
use strand_zk::{TreeCache, Zk};
use tracing::{debug, info, warn};

use crate::aggregate::Aggregators;
use crate::dispatch::Writer;
use crate::error::Result;
use crate::plugin_aggregators::PluginAggregators;
use crate::read;
use crate::views::{self, Written};
use strand_model::time::now_ms;

/// How long a sent message counts as pending while the cache does not
/// show it. The cache normally shows it within milliseconds; after this a
/// message the participant has already taken away is forgotten.
pub const IN_FLIGHT_GRACE: Duration = Duration::from_secs(10);

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunReport {
    /// The Helix event name of the run (`ClusterEventName` of its messages).
    pub event: &'static str,
    /// Value of the on-demand request counter when the run started (see
    /// [`crate::ControllerHandle::wait_converged`]).
    pub requested: u64,
    /// Resources processed.
    pub resources: usize,
    /// Messages created.
    pub sent: usize,
    /// Messages deleted (obsolete or stale).
    pub deleted: usize,
    /// External and customized views written.
    pub views_written: usize,
    /// External and customized views removed.
    pub views_removed: usize,
    /// Every replica is in its best possible state and no message is
    /// pending (nothing left to do until something changes).
    pub converged: bool,
    /// Time spent reading the cache and computing (no I/O).
    pub compute: Duration,
    /// Time of the whole run, writes included.
    pub total: Duration,
}

struct InFlight {
    instance: String,
    message: Message,
    sent: Instant,
}

/// The leader's pipeline state for one cluster and one session.
pub(crate) struct Pipeline {
    paths: PropertyPaths,
    writer: Writer,
    sender: Sender,
    previous: BTreeMap<String, PreferenceLists>,
    in_flight: HashMap<String, InFlight>,
    own_deletes: HashSet<String>,
    written: Written,
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
    ) -> Self {
        let sender = Sender {
            name: name.to_owned(),
            session: SessionId::parse(&zk.session_id()).unwrap_or(SessionId(0)),
        };
        Self {
            writer: Writer::new(zk.clone(), paths.clone()),
            zk,
            plugins,
            paths,
            sender,
            previous: BTreeMap::new(),
            in_flight: HashMap::new(),
            own_deletes: HashSet::new(),
            written: Written::default(),
            aggregators,
        }
    }

    /// True when a deleted message znode was deleted by this controller
    /// (its deletion needs no new run). Forgets it.
    pub(crate) fn take_own_delete(&mut self, path: &str) -> bool {
        self.own_deletes.remove(path)
    }

    /// Runs the pipeline once.
    ///
    /// # Errors
    /// [`crate::ControllerError::LostLeadership`] when the fence fails;
    /// a write error otherwise (the caller retries).
    pub(crate) async fn run(
        &mut self,
        cache: &TreeCache,
        event: &'static str,
        requested: u64,
    ) -> Result<RunReport> {
        let started = Instant::now();
        self.writer.fence(cache)?;
        // Deletions the cache has applied need no more filtering.
        self.own_deletes.retain(|path| cache.contains(path));
        let mut state = read::read(cache, &self.paths);
        merge_in_flight(&mut self.in_flight, &mut state.snapshot);
        let now = now_ms();
        let resources = state.snapshot.resources();
        self.previous.retain(|r, _| resources.contains(r));

        let mut converged = !state.paused;
        let mut send = Vec::new();
        let mut delete = Vec::new();
        let mut new_id = || uuid::Uuid::new_v4().to_string();
        for resource in &resources {
            let previous = self.previous.remove(resource).unwrap_or_default();
            let Some(best) = best_possible::compute(&state.snapshot, resource, &previous) else {
                continue;
            };
            let full_auto = state
                .snapshot
                .ideal_states
                .get(resource)
                .is_some_and(|i| i.rebalance_mode() == RebalanceMode::FullAuto);
            if full_auto {
                self.previous
                    .insert(resource.clone(), best.preference_lists.clone());
            }
            converged &= satisfied(&state.snapshot, resource, &best);
            if state.paused {
                continue;
            }
            let plan = messages::plan(
                &state.snapshot,
                resource,
                &best,
                &self.sender,
                now,
                event,
                &mut new_id,
            );
            send.extend(plan.send);
            for (instance, id, why) in plan.delete {
                debug!(instance, message = id, why, "deleting an obsolete message");
                delete.push(self.paths.message(&instance, &id));
            }
        }
        for (instance, id) in &state.stale {
            debug!(
                instance,
                message = id,
                "deleting a message for an old session"
            );
            delete.push(self.paths.message(instance, id));
        }
        converged &= send.is_empty() && state.snapshot.pending.is_empty();
        let compute = started.elapsed();

        let sent = send.len();
        let by_path: HashMap<String, (String, Message)> = send
            .into_iter()
            .filter_map(|m| {
                let instance = m.tgt_name()?.to_owned();
                Some((self.paths.message(&instance, m.msg_id()), (instance, m)))
            })
            .collect();
        let created = self
            .writer
            .send(cache, by_path.values().map(|(_, m)| m.clone()).collect())
            .await?;
        let mut by_path = by_path;
        let sent_at = Instant::now();
        for path in created {
            if let Some((instance, message)) = by_path.remove(&path) {
                self.in_flight.insert(
                    path,
                    InFlight {
                        instance,
                        message,
                        sent: sent_at,
                    },
                );
            }
        }
        let deleted = delete.len();
        self.own_deletes.extend(delete.iter().cloned());
        self.writer.delete(cache, delete).await?;

        self.written
            .settle(|path| cache.record(path).map(|r| (*r).clone()));
        let mut writes = views::external_views(&state, &resources, &self.paths, &self.written);
        let plugin_bound = self.plugins.resolve(cache, &self.paths, &self.zk);
        let any_plugin = !plugin_bound.is_empty();
        let aggregators = self.aggregators.with_fallbacks(plugin_bound);
        let aggregate = || {
            views::customized_views(&state, &resources, &self.paths, &self.written, &aggregators)
        };
        // Plugin calls block (wasmtime, WASI streams): run them on a plain
        // thread, outside the async runtime.
        let customized = if any_plugin {
            std::thread::scope(|scope| scope.spawn(aggregate).join()).unwrap_or_else(|_| {
                warn!("customized-view aggregation panicked; no customized view written this run");
                views::ViewWrites::default()
            })
        } else {
            aggregate()
        };
        writes.put.extend(customized.put);
        writes.delete.extend(customized.delete);
        let views_written = writes.put.len();
        let views_removed = writes.delete.len();
        for (path, record) in &writes.put {
            self.written.record(path, record);
        }
        for path in &writes.delete {
            self.written.forget_under(path);
        }
        self.writer.put(cache, writes.put).await?;
        self.writer.delete(cache, writes.delete).await?;

        let report = RunReport {
            event,
            requested,
            resources: resources.len(),
            sent,
            deleted,
            views_written,
            views_removed,
            converged,
            compute,
            total: started.elapsed(),
        };
        if sent + deleted + views_written + views_removed > 0 {
            info!(
                cluster = self.paths.cluster_name(),
                event,
                sent,
                deleted,
                views_written,
                views_removed,
                compute_ms = compute.as_secs_f64() * 1e3,
                total_ms = report.total.as_secs_f64() * 1e3,
                "pipeline run"
            );
        }
        Ok(report)
    }
}

/// Adds the messages still in flight to the snapshot's pending ones, and
/// forgets those the cache now shows or that are done.
fn merge_in_flight(in_flight: &mut HashMap<String, InFlight>, snapshot: &mut Snapshot) {
    let now = Instant::now();
    let cached: HashSet<String> = snapshot
        .pending
        .iter()
        .map(|(_, m)| m.msg_id().to_owned())
        .collect();
    in_flight.retain(|_, f| {
        let m = &f.message;
        let shown = cached.contains(m.msg_id());
        let live_session = snapshot.live.get(&f.instance).map(|l| l.session.as_str());
        let same_session = live_session
            .is_some_and(|s| SessionId::parse(s).is_ok_and(|session| m.is_for_session(session)));
        if shown || !same_session || now.duration_since(f.sent) > IN_FLIGHT_GRACE {
            return false;
        }
        let (Some(resource), Some(partition)) = (m.resource_name(), m.partition_name()) else {
            return false;
        };
        let current = snapshot.current_state(&f.instance, resource, partition);
        if m.to_state() == Some(DROPPED) && current.is_none() {
            return false;
        }
        let initial = m
            .state_model_def()
            .and_then(|name| snapshot.models.get(name))
            .and_then(|model| model.initial_state());
        // Still in its FROM state: not applied yet.
        current.or(initial) == m.from_state()
    });
    for f in in_flight.values() {
        snapshot.pending.insert(&f.instance, f.message.clone());
    }
}

/// Whether every replica of `resource` is in its best possible state.
fn satisfied(snapshot: &Snapshot, resource: &str, best: &BestPossible) -> bool {
    let initial = snapshot
        .model_name(resource)
        .and_then(|name| snapshot.models.get(name))
        .and_then(|model| model.initial_state());
    best.assignment.iter().all(|(partition, desired)| {
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
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use strand_model::{CurrentState, IdealState, InstanceConfig, Replicas, builtin};
    use strand_rebalance::LiveParticipant;

    fn snapshot() -> Snapshot {
        let mut s = Snapshot::default();
        for m in builtin::all() {
            s.models.insert(m.id().to_owned(), m);
        }
        for (i, name) in ["a", "b"].into_iter().enumerate() {
            s.live.insert(
                name.into(),
                LiveParticipant {
                    session: format!("{:x}", 0x10 + i),
                },
            );
            s.configs.insert(name.into(), InstanceConfig::new(name));
        }
        let mut ideal = IdealState::for_new_resource(
            "db",
            1,
            "MasterSlave",
            RebalanceMode::SemiAuto,
            "DEFAULT",
        );
        ideal.set_replicas(Replicas::Count(2));
        ideal.set_preference_list("db_0", ["a", "b"]);
        s.ideal_states.insert("db".into(), ideal);
        s
    }

    fn set(s: &mut Snapshot, instance: &str, state: &str) {
        let session = SessionId::parse(&s.live[instance].session).unwrap_or(SessionId(0));
        s.current
            .entry(instance.into())
            .or_default()
            .entry("db".into())
            .or_insert_with(|| CurrentState::new("db", session, "MasterSlave", "DEFAULT"))
            .set_state("db_0", state);
    }

    #[test]
    fn satisfied_only_when_every_replica_matches() {
        let mut s = snapshot();
        let best = best_possible::compute(&s, "db", &PreferenceLists::new()).unwrap_or_default();
        assert!(!satisfied(&s, "db", &best));
        set(&mut s, "a", "MASTER");
        set(&mut s, "b", "SLAVE");
        let best = best_possible::compute(&s, "db", &PreferenceLists::new()).unwrap_or_default();
        assert!(satisfied(&s, "db", &best));
    }

    #[test]
    fn in_flight_messages_count_until_applied() {
        let s = snapshot();
        let best = best_possible::compute(&s, "db", &PreferenceLists::new()).unwrap_or_default();
        let sender = Sender {
            name: "ctl".into(),
            session: SessionId(1),
        };
        let mut n = 0;
        let plan = messages::plan(&s, "db", &best, &sender, 0, "Test", &mut || {
            n += 1;
            format!("m{n}")
        });
        assert_eq!(plan.send.len(), 2);
        let mut in_flight = HashMap::new();
        for m in plan.send {
            let instance = m.tgt_name().unwrap_or_default().to_owned();
            in_flight.insert(
                m.msg_id().to_owned(),
                InFlight {
                    instance,
                    message: m,
                    sent: Instant::now(),
                },
            );
        }
        let mut pipeline_in_flight = in_flight;
        // Not applied: both stay pending, so no new message is planned.
        let mut s1 = snapshot();
        merge(&mut pipeline_in_flight, &mut s1);
        assert_eq!(s1.pending.len(), 2);
        let best = best_possible::compute(&s1, "db", &PreferenceLists::new()).unwrap_or_default();
        let again = messages::plan(&s1, "db", &best, &sender, 0, "Test", &mut || "x".into());
        assert!(again.send.is_empty());
        // Applied on "a": its message is forgotten.
        let mut s2 = snapshot();
        set(&mut s2, "a", "SLAVE");
        merge(&mut pipeline_in_flight, &mut s2);
        assert_eq!(pipeline_in_flight.len(), 1);
    }

    fn merge(in_flight: &mut HashMap<String, InFlight>, snapshot: &mut Snapshot) {
        merge_in_flight(in_flight, snapshot);
    }
}
