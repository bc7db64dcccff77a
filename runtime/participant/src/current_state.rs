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
//!   deletion — never after). None is lost: a conflict re-reads and
//!   re-applies every edit of the batch; a connection loss retries with
//!   [`Backoff`] until the write lands or the session ends.
//! * A record that exists but does not parse is never acted on: the last
//!   good copy stays in use (and is written back over the bad one by the
//!   next transition), with an error naming the znode; with no good copy
//!   the resource's messages wait until it parses again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use strand_model::records::DROPPED;
use strand_model::{CurrentState, PropertyPaths, SessionId, ZNRecord};
use strand_zk::{Backoff, CreateKind, Zk, ZkError};
use tokio::sync::oneshot;
use tracing::{error, warn};

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

type Waiter = oneshot::Sender<Result<(), ZkError>>;

struct Queued {
    model: String,
    factory: String,
    entry: Recorded,
    delete: Option<String>,
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

    /// Reads one record again.
    pub(crate) async fn reload(&self, name: &str) -> Result<(), ZkError> {
        let resource = self.resource(name);
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

    /// Records a finished transition and deletes the message it finishes
    /// (`delete`), batched with the other transitions of the resource
    /// finishing at the same time. Retries until it lands or the session
    /// ends.
    pub(crate) async fn commit(
        &self,
        resource: &str,
        model: &str,
        factory: &str,
        entry: Recorded,
        delete: Option<String>,
    ) -> Result<(), ZkError> {
        let shared = self.resource(resource);
        let (tx, rx) = oneshot::channel();
        lock(&shared.queue).push(Queued {
            model: model.to_owned(),
            factory: factory.to_owned(),
            entry,
            delete,
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
                && let Err(err) = self.reload(resource).await
            {
                if err.is_session_expired() {
                    return fail_all(batch, &ZkError::SessionExpired);
                }
                warn!(znode = %shared.path, error = %err, "reading the current state failed; retrying");
                backoff.wait().await;
                continue;
            }
            let (base, version) = match &*lock(&shared.known) {
                Known::Present { record, version } => (Some(record.clone()), Some(*version)),
                Known::Malformed { version, last_good } => (last_good.clone(), Some(*version)),
                Known::Absent | Known::Unread => (None, None),
            };
            let record = apply(resource, base, &batch, self.session);
            let mut multi = self.zk.multi();
            let mut ops = Vec::new();
            match (&record, version) {
                (Some(record), version) => {
                    let bytes = match record.to_bytes() {
                        Ok(bytes) => bytes,
                        Err(err) => {
                            let err = ZkError::Record {
                                path: shared.path.clone(),
                                source: err,
                            };
                            return fail_all(batch, &err);
                        }
                    };
                    match version {
                        Some(v) => multi.set(shared.path.clone(), bytes, Some(v)),
                        None => multi.create(shared.path.clone(), bytes, CreateKind::Persistent),
                    };
                    ops.push(Op::Record);
                }
                (None, Some(v)) => {
                    multi.delete(shared.path.clone(), Some(v));
                    ops.push(Op::Record);
                }
                (None, None) => {}
            }
            for (index, queued) in batch.iter().enumerate() {
                if let Some(path) = &queued.delete {
                    multi.delete(path.clone(), None);
                    ops.push(Op::Delete(index));
                }
            }
            match multi.commit().await {
                Ok(()) => {
                    *lock(&shared.known) = match (record, version) {
                        (Some(record), Some(v)) => Known::Present {
                            record,
                            version: v.wrapping_add(1),
                        },
                        (Some(record), None) => Known::Present { record, version: 0 },
                        (None, _) => Known::Absent,
                    };
                    for queued in batch {
                        let _ = queued.waiter.send(Ok(()));
                    }
                    return;
                }
                Err(ZkError::Multi { index, source, .. }) => match ops.get(index) {
                    Some(Op::Delete(i)) if source.is_no_node() => {
                        // That message is gone already (deleted by an earlier
                        // attempt whose answer was lost, or by the controller).
                        batch[*i].delete = None;
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
                    // retry finds out.
                    warn!(znode = %shared.path, error = %err, "current-state write failed; retrying");
                    backoff.wait().await;
                }
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
