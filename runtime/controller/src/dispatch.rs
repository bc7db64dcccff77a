//! Every write the leader makes, behind a fence — Helix's
//! `ResourceMessageDispatchStage` (create messages at
//! `INSTANCES/<TGT_NAME>/MESSAGES/<MSG_ID>`), message cleanup, and the
//! view writers' puts and deletes.
//!
//! # Guarantees
//! * Before each batch the cached `CONTROLLER/LEADER` must be owned by our
//!   session; otherwise nothing is written and
//!   [`ControllerError::LostLeadership`] is returned.
//! * Messages are created in atomic multi-ops that also check LEADER's
//!   version, so a message never lands after LEADER was deleted — also
//!   when a refused batch is retried one message at a time. (Writes on an
//!   expired session fail in ZooKeeper itself.)
//! * A message is created at most once: creates are never retried after
//!   an unknown outcome; such messages are reported as in doubt.

use futures::StreamExt;
use strand_model::{Message, PropertyPaths};
use strand_zk::{CreateKind, TreeCache, Zk, ZkError};
use tracing::warn;

use crate::error::{ControllerError, Result};
use crate::views::ViewWrite;

/// Messages per multi-op: ~700 bytes each keeps a batch far below
/// ZooKeeper's 1 MB request limit.
const MESSAGES_PER_MULTI: usize = 200;
/// Write requests in flight at once.
const WRITE_CONCURRENCY: usize = 32;

/// What became of a batch of messages.
#[derive(Debug, Default)]
pub(crate) struct SendOutcome {
    /// Created.
    pub created: Vec<Message>,
    /// Perhaps created: the connection dropped before the answer.
    pub in_doubt: Vec<Message>,
}

/// The leader's write access to one cluster.
#[derive(Debug, Clone)]
pub(crate) struct Writer {
    zk: Zk,
    paths: PropertyPaths,
    session: String,
}

impl Writer {
    pub(crate) fn new(zk: Zk, paths: PropertyPaths) -> Self {
        let session = zk.session_id();
        Self { zk, paths, session }
    }

    /// Checks that the cache shows LEADER owned by our session; returns
    /// LEADER's version for multi-op checks.
    pub(crate) fn fence(&self, cache: &TreeCache) -> Result<i32> {
        match cache.get(&self.paths.controller_leader()) {
            Some(node) if node.ephemeral_owner().as_deref() == Some(self.session.as_str()) => {
                Ok(node.version())
            }
            _ => Err(self.lost()),
        }
    }

    fn lost(&self) -> ControllerError {
        ControllerError::LostLeadership {
            cluster: self.paths.cluster_name().to_owned(),
        }
    }

    /// Creates messages. A batch refused for another reason than the fence
    /// is retried one message at a time (each still fenced), so one bad
    /// target (e.g. an instance dropped meanwhile) does not hold up the
    /// rest. What was created (or may have been) is reported even when
    /// the call also fails.
    pub(crate) async fn send(
        &self,
        cache: &TreeCache,
        messages: Vec<Message>,
    ) -> (SendOutcome, Result<()>) {
        if messages.is_empty() {
            return (SendOutcome::default(), Ok(()));
        }
        let leader_version = match self.fence(cache) {
            Ok(version) => version,
            Err(err) => return (SendOutcome::default(), Err(err)),
        };
        let mut batches = Vec::new();
        let mut batch = Vec::new();
        for message in messages {
            let Some(target) = message.tgt_name() else {
                continue;
            };
            let path = self.paths.message(target, message.msg_id());
            match message.to_bytes() {
                Ok(bytes) => batch.push((path, bytes, message)),
                Err(err) => warn!(path, error = %err, "cannot serialise a message; not sent"),
            }
            if batch.len() == MESSAGES_PER_MULTI {
                batches.push(std::mem::take(&mut batch));
            }
        }
        if !batch.is_empty() {
            batches.push(batch);
        }
        let results = futures::stream::iter(
            batches
                .into_iter()
                .map(|batch| self.send_batch(leader_version, batch)),
        )
        .buffer_unordered(WRITE_CONCURRENCY)
        .collect::<Vec<_>>()
        .await;
        let mut outcome = SendOutcome::default();
        let mut failure = None;
        for result in results {
            match result {
                Ok(batch) => {
                    outcome.created.extend(batch.created);
                    outcome.in_doubt.extend(batch.in_doubt);
                }
                Err(err) => failure = failure.or(Some(err)),
            }
        }
        (outcome, failure.map_or(Ok(()), Err))
    }

    async fn send_batch(
        &self,
        leader_version: i32,
        batch: Vec<(String, Vec<u8>, Message)>,
    ) -> Result<SendOutcome> {
        let mut multi = self.zk.multi();
        multi.check(self.paths.controller_leader(), leader_version);
        for (path, bytes, _) in &batch {
            multi.create(path.clone(), bytes.clone(), CreateKind::Persistent);
        }
        match multi.commit().await {
            Ok(()) => Ok(SendOutcome {
                created: batch.into_iter().map(|(_, _, m)| m).collect(),
                in_doubt: Vec::new(),
            }),
            Err(ZkError::Multi { index: 0, .. }) => Err(self.lost()),
            Err(ZkError::Multi { path, source, .. }) => {
                warn!(path, error = %source, "message batch refused; sending one by one");
                self.send_one_by_one(leader_version, batch).await
            }
            Err(err) if err.is_session_expired() => Err(write_error("send messages", err)),
            Err(err) => {
                warn!(error = %err, messages = batch.len(), "message batch outcome unknown");
                Ok(SendOutcome {
                    created: Vec::new(),
                    in_doubt: batch.into_iter().map(|(_, _, m)| m).collect(),
                })
            }
        }
    }

    /// Each message in its own fenced multi-op.
    async fn send_one_by_one(
        &self,
        leader_version: i32,
        batch: Vec<(String, Vec<u8>, Message)>,
    ) -> Result<SendOutcome> {
        let mut outcome = SendOutcome::default();
        for (path, bytes, message) in batch {
            let mut multi = self.zk.multi();
            multi
                .check(self.paths.controller_leader(), leader_version)
                .create(path.clone(), bytes, CreateKind::Persistent);
            match multi.commit().await {
                Ok(()) => outcome.created.push(message),
                Err(ZkError::Multi { index: 0, .. }) => return Err(self.lost()),
                Err(ZkError::Multi { source, .. }) => {
                    warn!(path, error = %source, "message not sent");
                }
                Err(err) if err.is_session_expired() => {
                    return Err(write_error("send a message", err));
                }
                Err(err) => {
                    warn!(path, error = %err, "message outcome unknown");
                    outcome.in_doubt.push(message);
                }
            }
        }
        Ok(outcome)
    }

    /// Deletes znodes (messages, views), each with everything below it;
    /// missing ones are fine.
    pub(crate) async fn delete(&self, cache: &TreeCache, paths: Vec<String>) -> Result<()> {
        if paths.is_empty() {
            return Ok(());
        }
        self.fence(cache)?;
        let results = futures::stream::iter(paths.into_iter().map(|path| async move {
            match self.zk.delete_recursive(&path).await {
                Ok(()) => Ok(()),
                Err(err) if err.is_no_node() => Ok(()),
                Err(err) => Err(write_error(format!("delete {path}"), err)),
            }
        }))
        .buffer_unordered(WRITE_CONCURRENCY)
        .collect::<Vec<_>>()
        .await;
        results.into_iter().collect()
    }

    /// Writes and deletes views, creating missing znodes and parents;
    /// returns the znode version each put produced (`None` for deletes),
    /// in the order given.
    pub(crate) async fn write_views(
        &self,
        cache: &TreeCache,
        writes: Vec<ViewWrite>,
    ) -> Result<Vec<Option<i32>>> {
        if writes.is_empty() {
            return Ok(Vec::new());
        }
        self.fence(cache)?;
        let results = futures::stream::iter(writes.into_iter().map(|write| async move {
            match write {
                ViewWrite::Put(path, record) => {
                    let bytes = record.to_bytes().map_err(|source| {
                        write_error(
                            format!("write {path}"),
                            ZkError::Record {
                                path: path.clone(),
                                source,
                            },
                        )
                    })?;
                    self.put(&path, &bytes)
                        .await
                        .map(Some)
                        .map_err(|err| write_error(format!("write {path}"), err))
                }
                ViewWrite::Delete(path) => match self.zk.delete_recursive(&path).await {
                    Ok(()) => Ok(None),
                    Err(err) if err.is_no_node() => Ok(None),
                    Err(err) => Err(write_error(format!("delete {path}"), err)),
                },
            }
        }))
        .buffered(WRITE_CONCURRENCY)
        .collect::<Vec<_>>()
        .await;
        results.into_iter().collect()
    }

    /// Sets `path`'s data, creating it (and its parents) when missing;
    /// the resulting version.
    async fn put(&self, path: &str, bytes: &[u8]) -> Result<i32, ZkError> {
        match self.zk.set(path, bytes, None).await {
            Ok(stat) => Ok(stat.version),
            Err(ZkError::NoNode { .. }) => {
                if let Some((parent, _)) = path.rsplit_once('/')
                    && !parent.is_empty()
                {
                    self.zk.create_all(parent).await?;
                }
                match self.zk.create(path, bytes, CreateKind::Persistent).await {
                    Ok(stat) => Ok(stat.version),
                    Err(ZkError::NodeExists { .. }) => {
                        self.zk.set(path, bytes, None).await.map(|s| s.version)
                    }
                    Err(err) => Err(err),
                }
            }
            Err(err) => Err(err),
        }
    }
}

fn write_error(what: impl Into<String>, source: ZkError) -> ControllerError {
    ControllerError::Write {
        what: what.into(),
        source,
    }
}
