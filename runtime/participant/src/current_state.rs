//! [`CurrentStates`]: this session's current states
//! (`INSTANCES/<I>/CURRENTSTATES/<session>/<resource>`), kept in memory with
//! the znode version of each, and written the way the Java participant
//! writes them: created with Helix's simple fields on first use, each
//! finished transition sets the partition's `CURRENT_STATE`,
//! `PREVIOUS_STATE`, `START_TIME`, `END_TIME`, `INFO` and `TRIGGERED_BY`,
//! and DROPPED removes the partition (the record goes with its last one).
//!
//! # Guarantees
//! * The participant is the only writer of these records, so it writes
//!   with the version it knows and never reads them back; it re-reads a
//!   record only when a write finds another version (someone else wrote),
//!   after a reconnect, or when the record was never read.
//! * Transitions of one resource finishing together are written as one
//!   multi-op: the record's versioned set plus the delete of every message
//!   they finish (the current state lands before, or with, the message's
//!   deletion — never after) and the create of every relayed message they
//!   carry ([`crate::relay`]; one the multi-op cannot carry is left out and
//!   handed back to be forwarded on its own). None is lost: a conflict re-reads and
//!   re-applies every edit of the batch; a connection loss retries with
//!   [`Backoff`] until the write lands or the session ends.
//! * Reads and writes of one record take turns: a re-read (after a
//!   reconnect) waits for the write in flight, so what the participant
//!   knows is never older than what it last wrote.
//! * A record that exists but does not parse is never acted on: the last
//!   good copy stays in use (and is written back over the bad one by the
//!   next transition), with an error naming the znode; with no good copy
//!   the resource's messages wait until it parses again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use strand_model::records::DROPPED;
use strand_model::time::now_ms;
use strand_model::{CurrentState, PropertyPaths, SessionId, ZNRecord};
use strand_zk::{Backoff, CreateKind, Zk, ZkError};
use tokio::sync::oneshot;
use tracing::{debug, error, warn};

use crate::relay::Outgoing;

/// A finished transition, as recorded in the current state.
#[derive(Debug, Clone)]
pub(crate) struct Recorded {
    /// The partition.
    pub partition: String,
    /// The new state (`ERROR` on failure; `DROPPED` removes the partition).
    pub state: String,
    /// The state before.
    pub previous: String,
    /// When the transition started (ms).
    pub start_ms: i64,
    /// When it ended (ms).
    pub end_ms: i64,
    /// The plugin's note, or the failure's reason.
    pub info: String,
    /// The message's `SRC_NAME`.
    pub triggered_by: String,
}

/// What the participant knows of one resource's record.
#[derive(Debug, Clone)]
enum Known {
    /// Not read yet (or a write found another version).
    Unread,
    /// No znode.
    Absent,
    /// The record at this znode version.
    Present { record: ZNRecord, version: i32 },
    /// The znode at `version` does not parse; `last_good` is the last
    /// record this session knew.
    Malformed {
        version: i32,
        last_good: Option<ZNRecord>,
    },
}

/// A resource this session holds replicas of (see [`CurrentStates::held`]).
#[derive(Debug, Clone)]
pub(crate) struct Held {
    /// The resource.
    pub resource: String,
    /// Its state model (`STATE_MODEL_DEF`).
    pub model: String,
    /// Each partition and its `CURRENT_STATE`.
    pub partitions: Vec<(String, String)>,
}

/// A replica's state as far as the current state tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ReplicaState {
    /// The record holds this state for the partition.
    Recorded(String),
    /// The record (or the partition in it) does not exist.
    Missing,
    /// The record does not parse and no good copy is known.
    Unknown,
}

/// Answers a queued transition: the relayed messages still to forward.
type Waiter = oneshot::Sender<Result<Vec<Outgoing>, ZkError>>;

struct Queued {
    model: String,
    factory: String,
    entry: Recorded,
    delete: Option<String>,
    /// Relayed messages created in the same multi-op.
    relays: Vec<Outgoing>,
    /// Relayed messages the multi-op could not carry: [`crate::relay::forward`]
    /// creates them after the write.
    unsent: Vec<Outgoing>,
    waiter: Waiter,
}

struct Resource {
    path: String,
    known: Mutex<Known>,
    queue: Mutex<Vec<Queued>>,
    turn: tokio::sync::Mutex<()>,
}

/// The current states of one instance in one session.
pub(crate) struct CurrentStates {
    zk: Zk,
    paths: PropertyPaths,
    instance: String,
    session: SessionId,
    resources: Mutex<HashMap<String, Arc<Resource>>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// What one write op of a commit is for.
enum Op {
    Record,
    Delete(usize),
    /// Relayed message `.1` of queued transition `.0`.
    Relay(usize, usize),
}

impl CurrentStates {
    /// The current states of `instance` under `session` (nothing read yet).
    pub(crate) fn new(zk: Zk, paths: PropertyPaths, instance: &str, session: SessionId) -> Self {
        Self {
            zk,
            paths,
            instance: instance.to_owned(),
            session,
            resources: Mutex::default(),
        }
    }

    fn resource(&self, name: &str) -> Arc<Resource> {
        let mut resources = lock(&self.resources);
        if let Some(known) = resources.get(name) {
            return Arc::clone(known);
        }
        Arc::clone(resources.entry(name.to_owned()).or_insert_with(|| {
            Arc::new(Resource {
                path: self.paths.current_state(&self.instance, self.session, name),
                known: Mutex::new(Known::Unread),
                queue: Mutex::default(),
                turn: tokio::sync::Mutex::new(()),
            })
        }))
    }

    /// Reads every record of the session (at start; after a reconnect).
    pub(crate) async fn load_all(&self) -> Result<(), ZkError> {
        let root = self.paths.current_states(&self.instance, self.session);
        let names = self.zk.children(&root).await?;
        for name in &names {
            self.reload(name).await?;
        }
        // Records this session knew that are gone now.
        let known: Vec<String> = lock(&self.resources).keys().cloned().collect();
        for name in known.iter().filter(|n| !names.contains(n)) {
            self.reload(name).await?;
        }
        Ok(())
    }

    /// Reads one record again — never while a write of it is in flight, so
    /// that a read answered before the write landed cannot replace what the
    /// write made known (a stale copy would make the participant discard
    /// valid messages as stale until the record is written again).
    pub(crate) async fn reload(&self, name: &str) -> Result<(), ZkError> {
        let resource = self.resource(name);
        let _turn = resource.turn.lock().await;
        self.read_record(name, &resource).await
    }

    /// Reads one record; the caller holds the resource's turn.
    async fn read_record(&self, name: &str, resource: &Resource) -> Result<(), ZkError> {
        let read = self.zk.get(&resource.path).await?;
        let mut known = lock(&resource.known);
        let last_good = match &*known {
            Known::Present { record, .. } => Some(record.clone()),
            Known::Malformed { last_good, .. } => last_good.clone(),
            Known::Unread | Known::Absent => None,
        };
        *known = match read {
            None => Known::Absent,
            Some((data, stat)) => match ZNRecord::from_bytes(&data) {
                Ok(Some(record)) => Known::Present {
                    record,
                    version: stat.version,
                },
                Ok(None) => Known::Malformed {
                    version: stat.version,
                    last_good,
                },
                Err(err) => {
                    error!(
                        znode = %resource.path, resource = name, error = %err,
                        "current state does not parse; keeping the last good one{}",
                        if last_good.is_some() { "" } else { " (none known: its messages wait)" }
                    );
                    Known::Malformed {
                        version: stat.version,
                        last_good,
                    }
                }
            },
        };
        Ok(())
    }

    /// Makes the next use read the record again.
    pub(crate) fn forget(&self, resource: &str) {
        *lock(&self.resource(resource).known) = Known::Unread;
    }

    /// Whether the record has to be read before it can be used.
    pub(crate) fn needs_read(&self, resource: &str) -> bool {
        matches!(*lock(&self.resource(resource).known), Known::Unread)
    }

    /// Every resource this session has a record of: its state model and
    /// each partition's `CURRENT_STATE` (from the last good copy).
    pub(crate) fn held(&self) -> Vec<Held> {
        let resources: Vec<(String, Arc<Resource>)> = lock(&self.resources)
            .iter()
            .map(|(name, r)| (name.clone(), Arc::clone(r)))
            .collect();
        resources
            .into_iter()
            .filter_map(|(name, resource)| {
                let known = lock(&resource.known);
                let record = match &*known {
                    Known::Present { record, .. }
                    | Known::Malformed {
                        last_good: Some(record),
                        ..
                    } => record,
                    _ => return None,
                };
                let model = record.simple("STATE_MODEL_DEF")?.to_owned();
                let partitions = record
                    .map_fields
                    .iter()
                    .filter_map(|(p, fields)| {
                        Some((p.clone(), fields.get("CURRENT_STATE")?.clone()))
                    })
                    .collect();
                Some(Held {
                    resource: name,
                    model,
                    partitions,
                })
            })
            .collect()
    }

    /// The replica's state according to the record.
    pub(crate) fn replica(&self, resource: &str, partition: &str) -> ReplicaState {
        let resource = self.resource(resource);
        let known = lock(&resource.known);
        let record = match &*known {
            Known::Present { record, .. } => record,
            Known::Malformed {
                last_good: Some(record),
                ..
            } => record,
            Known::Absent => return ReplicaState::Missing,
            Known::Unread | Known::Malformed { .. } => return ReplicaState::Unknown,
        };
        record
            .map(partition)
            .and_then(|fields| fields.get("CURRENT_STATE"))
            .map_or(ReplicaState::Missing, |state| {
                ReplicaState::Recorded(state.clone())
            })
    }

    /// The record to create with the first write of a resource this session
    /// has no record of (folded into the mark-read multi-op), or `None`
    /// when it exists.
    pub(crate) fn creation(
        &self,
        resource: &str,
        model: &str,
        factory: &str,
    ) -> Option<(String, ZNRecord)> {
        let entry = self.resource(resource);
        let known = lock(&entry.known);
        matches!(*known, Known::Absent).then(|| {
            let record = CurrentState::new(resource, self.session, model, factory).into_record();
            (entry.path.clone(), record)
        })
    }

    /// A creation folded into another write landed (or failed: `None`
    /// makes the next use read the record).
    pub(crate) fn created(&self, resource: &str, record: Option<ZNRecord>) {
        let entry = self.resource(resource);
        let mut known = lock(&entry.known);
        *known = match (record, &*known) {
            (Some(record), Known::Absent) => Known::Present { record, version: 0 },
            // Written meanwhile by a commit, or the create failed: read it.
            _ => Known::Unread,
        };
    }

    /// Records a finished transition, deletes the message it finishes
    /// (`delete`) and creates the relayed messages it carries (`relays`),
    /// batched with the other transitions of the resource finishing at the
    /// same time. Retries until it lands or the session ends; returns the
    /// relayed messages the write could not carry (for
    /// [`crate::relay::forward`]).
    pub(crate) async fn commit(
        &self,
        resource: &str,
        model: &str,
        factory: &str,
        entry: Recorded,
        delete: Option<String>,
        relays: Vec<Outgoing>,
    ) -> Result<Vec<Outgoing>, ZkError> {
        let shared = self.resource(resource);
        let (tx, rx) = oneshot::channel();
        lock(&shared.queue).push(Queued {
            model: model.to_owned(),
            factory: factory.to_owned(),
            entry,
            delete,
            relays,
            unsent: Vec::new(),
            waiter: tx,
        });
        {
            let _turn = shared.turn.lock().await;
            let batch: Vec<Queued> = std::mem::take(&mut *lock(&shared.queue));
            if !batch.is_empty() {
                self.write_batch(resource, &shared, batch).await;
            }
        }
        rx.await.unwrap_or(Err(ZkError::GroupCommit {
            path: shared.path.clone(),
            reason: "the batch's writer went away".into(),
        }))
    }

    /// One batch, written until it lands (or the session ends).
    async fn write_batch(&self, resource: &str, shared: &Resource, mut batch: Vec<Queued>) {
        let mut backoff = Backoff::new(Duration::from_millis(20), Duration::from_secs(5));
        loop {
            if matches!(*lock(&shared.known), Known::Unread)
                && let Err(err) = self.read_record(resource, shared).await
            {
                if err.is_session_expired() {
                    return fail_all(batch, &ZkError::SessionExpired);
                }
                warn!(znode = %shared.path, error = %err, "reading the current state failed; retrying");
                backoff.wait().await;
                continue;
            }
            let mut plan = match self.plan(resource, shared, &batch) {
                Ok(plan) => plan,
                Err(err) => return fail_all(batch, &err),
            };
            let mut multi = self.zk.multi();
            let mut ops = Vec::new();
            match &mut plan.write {
                Write::Set { bytes, version } => {
                    let bytes = std::mem::take(bytes);
                    match version {
                        Some(v) => multi.set(shared.path.clone(), bytes, Some(*v)),
                        None => multi.create(shared.path.clone(), bytes, CreateKind::Persistent),
                    };
                    ops.push(Op::Record);
                }
                Write::Delete { version } => {
                    multi.delete(shared.path.clone(), Some(*version));
                    ops.push(Op::Record);
                }
                Write::Nothing => {}
            }
            for (index, queued) in batch.iter().enumerate() {
                if let Some(path) = &queued.delete {
                    multi.delete(path.clone(), None);
                    ops.push(Op::Delete(index));
                }
            }
            let now = now_ms();
            for (index, queued) in batch.iter_mut().enumerate() {
                // One that expired while the write was retried is not sent.
                queued.relays.retain(|relay| !relay.expired(now));
                for (r, relay) in queued.relays.iter().enumerate() {
                    multi.create(
                        relay.path.clone(),
                        relay.data.clone(),
                        CreateKind::Persistent,
                    );
                    ops.push(Op::Relay(index, r));
                }
            }
            match multi.commit().await {
                Ok(()) => {
                    plan.landed(&mut lock(&shared.known));
                    for queued in batch {
                        for relay in &queued.relays {
                            debug!(message = relay.message.id(), instance = %relay.instance, "relay message sent with the current state");
                        }
                        let _ = queued.waiter.send(Ok(queued.unsent));
                    }
                    return;
                }
                Err(ZkError::Multi { index, source, .. }) => match ops.get(index) {
                    Some(Op::Delete(i)) if source.is_no_node() => {
                        // That message is gone already (deleted by an earlier
                        // attempt whose answer was lost, or by the controller).
                        batch[*i].delete = None;
                    }
                    Some(Op::Relay(i, r)) => {
                        // Left out of the next attempt: there already (an
                        // earlier attempt landed), or for `relay::forward`
                        // to try on its own (it logs a target that left).
                        let relay = batch[*i].relays.remove(*r);
                        if !matches!(*source, ZkError::NodeExists { .. }) {
                            batch[*i].unsent.push(relay);
                        }
                    }
                    Some(Op::Record)
                        if matches!(
                            *source,
                            ZkError::BadVersion { .. }
                                | ZkError::NoNode { .. }
                                | ZkError::NodeExists { .. }
                        ) =>
                    {
                        // Someone else wrote (or an earlier attempt landed):
                        // read it and re-apply the batch.
                        *lock(&shared.known) = Known::Unread;
                    }
                    _ => {
                        warn!(znode = %shared.path, error = %source, "current-state write failed; retrying");
                        *lock(&shared.known) = Known::Unread;
                        backoff.wait().await;
                    }
                },
                Err(err) if err.is_session_expired() => return fail_all(batch, &err),
                Err(err) => {
                    // Connection loss: the outcome is unknown; the versioned
                    // retry finds out (a record deleted in memory is read
                    // again: whether the delete landed is unknown).
                    warn!(znode = %shared.path, error = %err, "current-state write failed; retrying");
                    if matches!(plan.write, Write::Delete { .. }) {
                        *lock(&shared.known) = Known::Unread;
                    }
                    backoff.wait().await;
                }
            }
        }
    }
}

/// The write that lands a batch, and what the participant knows after it.
struct Plan {
    write: Write,
    /// The record after the batch when it was not edited in place (the
    /// record was absent, or malformed and replaced by the last good one
    /// edited).
    replaced: Option<Option<ZNRecord>>,
}

enum Write {
    /// Set (`Some(version)`) or create (`None`) the record.
    Set {
        bytes: Vec<u8>,
        version: Option<i32>,
    },
    /// No partition is left: delete the record at this version.
    Delete { version: i32 },
    /// Nothing to write (no record, and none is needed).
    Nothing,
}

impl Plan {
    /// The write landed: the record in memory is the one in ZooKeeper.
    fn landed(self, known: &mut Known) {
        let version = match (&*known, &self.write) {
            (_, Write::Delete { .. } | Write::Nothing) => {
                *known = Known::Absent;
                return;
            }
            (_, Write::Set { version: None, .. }) => 0,
            (
                _,
                Write::Set {
                    version: Some(v), ..
                },
            ) => v.wrapping_add(1),
        };
        match (self.replaced, known) {
            (Some(Some(record)), known) => *known = Known::Present { record, version },
            (None, Known::Present { version: v, .. }) => *v = version,
            (_, known) => *known = Known::Unread,
        }
    }
}

impl CurrentStates {
    /// Applies the batch to the record in memory (in place when it is
    /// present, so a transition's cost does not include a copy of the
    /// record) and encodes the write that lands it.
    fn plan(&self, resource: &str, shared: &Resource, batch: &[Queued]) -> Result<Plan, ZkError> {
        let encode = |record: &ZNRecord| {
            record.to_bytes().map_err(|source| ZkError::Record {
                path: shared.path.clone(),
                source,
            })
        };
        let mut known = lock(&shared.known);
        match &mut *known {
            Known::Present { record, version } => {
                let base = std::mem::take(record);
                let write = match apply(resource, Some(base), batch, self.session) {
                    Some(edited) => {
                        *record = edited;
                        Write::Set {
                            bytes: encode(record)?,
                            version: Some(*version),
                        }
                    }
                    // `record` stays empty: no partition is left in it.
                    None => Write::Delete { version: *version },
                };
                Ok(Plan {
                    write,
                    replaced: None,
                })
            }
            Known::Malformed { version, last_good } => {
                let edited = apply(resource, last_good.clone(), batch, self.session);
                let write = match &edited {
                    Some(record) => Write::Set {
                        bytes: encode(record)?,
                        version: Some(*version),
                    },
                    None => Write::Delete { version: *version },
                };
                Ok(Plan {
                    write,
                    replaced: Some(edited),
                })
            }
            Known::Absent | Known::Unread => {
                let edited = apply(resource, None, batch, self.session);
                let write = match &edited {
                    Some(record) => Write::Set {
                        bytes: encode(record)?,
                        version: None,
                    },
                    None => Write::Nothing,
                };
                Ok(Plan {
                    write,
                    replaced: Some(edited),
                })
            }
        }
    }
}

fn fail_all(batch: Vec<Queued>, err: &ZkError) {
    for queued in batch {
        let outcome = if err.is_session_expired() {
            ZkError::SessionExpired
        } else {
            ZkError::GroupCommit {
                path: String::new(),
                reason: err.to_string(),
            }
        };
        let _ = queued.waiter.send(Err(outcome));
    }
}

/// The record after the batch's edits; `None` when no partition is left.
fn apply(
    resource: &str,
    base: Option<ZNRecord>,
    batch: &[Queued],
    session: SessionId,
) -> Option<ZNRecord> {
    let mut record = base;
    for queued in batch {
        let entry = &queued.entry;
        let mut cs = CurrentState::from(record.take().unwrap_or_else(|| {
            CurrentState::new(resource, session, &queued.model, &queued.factory).into_record()
        }));
        if entry.state == DROPPED {
            cs.remove_partition(&entry.partition);
            if cs.partitions().next().is_none() {
                record = None;
                continue;
            }
        } else {
            cs.set_session_id(session);
            cs.set_state(&entry.partition, &entry.state);
            cs.set_previous_state(&entry.partition, &entry.previous);
            cs.set_start_time(&entry.partition, entry.start_ms);
            cs.set_end_time(&entry.partition, entry.end_ms);
            cs.set_info(&entry.partition, &entry.info);
            cs.set_triggered_by(&entry.partition, &entry.triggered_by);
        }
        record = Some(cs.into_record());
    }
    record
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queued(partition: &str, state: &str) -> Queued {
        let (waiter, _) = oneshot::channel();
        Queued {
            model: "MasterSlave".into(),
            factory: "DEFAULT".into(),
            entry: Recorded {
                partition: partition.into(),
                state: state.into(),
                previous: "OFFLINE".into(),
                start_ms: 1,
                end_ms: 2,
                info: "note".into(),
                triggered_by: "controller".into(),
            },
            delete: None,
            relays: Vec::new(),
            unsent: Vec::new(),
            waiter,
        }
    }

    #[test]
    fn a_batch_creates_the_record_with_helix_fields_and_applies_in_order() {
        let session = SessionId(0x1234);
        let batch = [
            queued("db_0", "SLAVE"),
            queued("db_1", "SLAVE"),
            queued("db_0", "MASTER"),
        ];
        let record = apply("db", None, &batch, session).expect("record");
        let cs = CurrentState::from(record);
        assert_eq!(cs.record().id, "db");
        assert_eq!(cs.state_model_def(), Some("MasterSlave"));
        assert_eq!(cs.session_id(), Some(session));
        assert_eq!(cs.state("db_0"), Some("MASTER"));
        assert_eq!(cs.state("db_1"), Some("SLAVE"));
        assert_eq!(cs.info("db_1"), Some("note"));
    }

    #[test]
    fn dropping_the_last_partition_leaves_no_record() {
        let session = SessionId(0x1234);
        let base = apply("db", None, &[queued("db_0", "OFFLINE")], session);
        assert!(apply("db", base.clone(), &[queued("db_0", DROPPED)], session).is_none());
        let two = apply("db", base, &[queued("db_1", "OFFLINE")], session);
        let left = apply("db", two, &[queued("db_0", DROPPED)], session).expect("record");
        let cs = CurrentState::from(left);
        assert_eq!(cs.partitions().collect::<Vec<_>>(), ["db_1"]);
    }
}
