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
//!   version, so a batch never lands after LEADER was deleted. (Writes on
//!   an expired session fail in ZooKeeper itself.)
//! * A message is created at most once: creates are never retried after
//!   an unknown outcome.

use futures::StreamExt;
use strand_model::{Message, PropertyPaths, ZNRecord};
use strand_zk::{Accessor, CreateKind, TreeCache, Zk, ZkError};
use tracing::warn;

use crate::error::{ControllerError, Result};

/// Messages per multi-op: ~700 bytes each keeps a batch far below
/// ZooKeeper's 1 MB request limit.
const MESSAGES_PER_MULTI: usize = 200;
/// Write requests in flight at once.
const WRITE_CONCURRENCY: usize = 32;

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

    /// Creates messages; returns the paths created. A batch that fails
    /// for another reason than the fence is retried one message at a
    /// time, so one bad target (e.g. an instance dropped meanwhile) does
    /// not hold up the rest.
    pub(crate) async fn send(
        &self,
        cache: &TreeCache,
        messages: Vec<Message>,
    ) -> Result<Vec<String>> {
        if messages.is_empty() {
            return Ok(Vec::new());
        }
        let leader_version = self.fence(cache)?;
        let mut batches = Vec::new();
        let mut batch = Vec::new();
        for message in messages {
            let Some(target) = message.tgt_name() else {
                continue;
            };
            let path = self.paths.message(target, message.msg_id());
            match message.to_bytes() {
                Ok(bytes) => batch.push((path, bytes)),
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
        let mut created = Vec::new();
        for result in results {
            created.extend(result?);
        }
        Ok(created)
    }

    async fn send_batch(
        &self,
        leader_version: i32,
        batch: Vec<(String, Vec<u8>)>,
    ) -> Result<Vec<String>> {
        let mut multi = self.zk.multi();
        multi.check(self.paths.controller_leader(), leader_version);
        for (path, bytes) in &batch {
            multi.create(path.clone(), bytes.clone(), CreateKind::Persistent);
        }
        match multi.commit().await {
            Ok(()) => Ok(batch.into_iter().map(|(path, _)| path).collect()),
            Err(ZkError::Multi { index: 0, .. }) => Err(self.lost()),
            Err(ZkError::Multi { path, source, .. }) => {
                warn!(path, error = %source, "message batch refused; sending one by one");
                let mut created = Vec::new();
                for (path, bytes) in batch {
                    match self.zk.create(&path, &bytes, CreateKind::Persistent).await {
                        Ok(_) => created.push(path),
                        Err(err) if err.is_session_expired() => {
                            return Err(write_error("send a message", err));
                        }
                        Err(err) => warn!(path, error = %err, "message not sent"),
                    }
                }
                Ok(created)
            }
            Err(err) => Err(write_error(format!("send {} messages", batch.len()), err)),
        }
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

    /// Writes records (views), creating missing znodes and parents.
    pub(crate) async fn put(
        &self,
        cache: &TreeCache,
        records: Vec<(String, ZNRecord)>,
    ) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        self.fence(cache)?;
        let accessor = Accessor::new(self.zk.clone());
        let accessor = &accessor;
        let results = futures::stream::iter(records.into_iter().map(|(path, record)| async move {
            accessor
                .put(&path, &record)
                .await
                .map_err(|err| write_error(format!("write {path}"), err))
        }))
        .buffer_unordered(WRITE_CONCURRENCY)
        .collect::<Vec<_>>()
        .await;
        results.into_iter().collect()
    }
}

fn write_error(what: impl Into<String>, source: ZkError) -> ControllerError {
    ControllerError::Write {
        what: what.into(),
        source,
    }
}
