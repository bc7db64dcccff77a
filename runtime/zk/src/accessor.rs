//! [`Accessor`]: ZNRecord-level reads and writes on top of [`Zk`] — what
//! Helix's `BaseDataAccessor` does: typed get, create, versioned set, and
//! the read-modify-write `update` loop.
//!
//! # Guarantees
//! [`Accessor::update`] is compare-and-set on the znode version: the
//! updater sees the latest record and its result is written only if
//! nobody wrote in between; otherwise it runs again on the newer record.
//! Fields the updater does not touch — including ones Strand does not
//! know — are written back unchanged.

use strand_model::ZNRecord;

use crate::client::{CreateKind, Stat, Zk};
use crate::error::{Result, ZkError};

/// How many times [`Accessor::update`] retries after a version conflict
/// before giving up (Helix retries without bound; a bound turns a livelock
/// into an error).
const MAX_UPDATE_ATTEMPTS: usize = 64;

/// A record together with the znode version it was read at.
#[derive(Debug, Clone)]
pub struct Versioned<T> {
    /// The record.
    pub value: T,
    /// The znode's stat when it was read.
    pub stat: Stat,
}

/// What an updater decides.
// Short-lived and returned by value once per attempt: boxing the record
// would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Update {
    /// Write this record (creating the znode if it was missing).
    Write(ZNRecord),
    /// Delete the znode.
    Delete,
    /// Leave the znode as it is.
    Keep,
}

/// ZNRecord-level access to ZooKeeper.
#[derive(Debug, Clone)]
pub struct Accessor {
    zk: Zk,
}

impl Accessor {
    /// Wraps a session.
    pub fn new(zk: Zk) -> Self {
        Self { zk }
    }

    /// The session.
    pub fn zk(&self) -> &Zk {
        &self.zk
    }

    /// Reads the record at `path`; `None` when the znode is missing or empty.
    ///
    /// # Errors
    /// [`ZkError::Record`] when the data is not a ZNRecord.
    pub async fn get(&self, path: &str) -> Result<Option<Versioned<ZNRecord>>> {
        let Some((data, stat)) = self.zk.get(path).await? else {
            return Ok(None);
        };
        let record = parse(path, &data)?;
        Ok(record.map(|value| Versioned { value, stat }))
    }

    /// Creates a znode holding `record` (its parent must exist).
    pub async fn create(&self, path: &str, record: &ZNRecord, kind: CreateKind) -> Result<Stat> {
        let bytes = serialize(path, record)?;
        self.zk.create(path, &bytes, kind).await
    }

    /// Writes `record`, only if the znode is still at `version` when given.
    pub async fn set(&self, path: &str, record: &ZNRecord, version: Option<i32>) -> Result<Stat> {
        let bytes = serialize(path, record)?;
        self.zk.set(path, &bytes, version).await
    }

    /// Writes `record`, creating the znode (and its parents) if missing.
    pub async fn put(&self, path: &str, record: &ZNRecord) -> Result<()> {
        let bytes = serialize(path, record)?;
        match self.zk.set(path, &bytes, None).await {
            Ok(_) => Ok(()),
            Err(ZkError::NoNode { .. }) => {
                if let Some((parent, _)) = path.rsplit_once('/')
                    && !parent.is_empty()
                {
                    self.zk.create_all(parent).await?;
                }
                match self.zk.create(path, &bytes, CreateKind::Persistent).await {
                    Ok(_) => Ok(()),
                    Err(ZkError::NodeExists { .. }) => {
                        self.zk.set(path, &bytes, None).await.map(|_| ())
                    }
                    Err(err) => Err(err),
                }
            }
            Err(err) => Err(err),
        }
    }

    /// Read-modify-write with compare-and-set, retried on conflicts.
    /// `updater` gets the current record (`None` if the znode is missing)
    /// and returns what to do; it may run several times. Returns the
    /// record finally written, if any.
    ///
    /// The znode is created when missing only if `create_missing` is true
    /// (its parent must exist); otherwise a missing znode is left alone and
    /// the updater's decision is ignored.
    pub async fn update<F>(
        &self,
        path: &str,
        create_missing: bool,
        mut updater: F,
    ) -> Result<Option<ZNRecord>>
    where
        F: FnMut(Option<ZNRecord>) -> Update,
    {
        for _ in 0..MAX_UPDATE_ATTEMPTS {
            let (record, version) = match self.zk.get(path).await? {
                Some((data, stat)) => (parse(path, &data)?, Some(stat.version)),
                None => (None, None),
            };
            let outcome = match (updater(record), version) {
                (Update::Keep, _) | (Update::Delete, None) => return Ok(None),
                (Update::Write(_), None) if !create_missing => return Ok(None),
                (Update::Write(new), Some(version)) => {
                    self.set(path, &new, Some(version)).await.map(|_| Some(new))
                }
                (Update::Write(new), None) => {
                    match self.create(path, &new, CreateKind::Persistent).await {
                        // The parent is missing: retrying cannot help.
                        Err(ZkError::NoNode { path }) => return Err(ZkError::NoNode { path }),
                        other => other.map(|_| Some(new)),
                    }
                }
                (Update::Delete, Some(version)) => {
                    self.zk.delete(path, Some(version)).await.map(|_| None)
                }
            };
            match outcome {
                // Someone wrote, created or deleted in between: start over
                // from what is there now.
                Err(ZkError::BadVersion { .. })
                | Err(ZkError::NodeExists { .. })
                | Err(ZkError::NoNode { .. }) => continue,
                other => return other,
            }
        }
        Err(ZkError::BadVersion {
            path: path.to_owned(),
        })
    }
}

fn parse(path: &str, data: &[u8]) -> Result<Option<ZNRecord>> {
    ZNRecord::from_bytes(data).map_err(|source| ZkError::Record {
        path: path.to_owned(),
        source,
    })
}

fn serialize(path: &str, record: &ZNRecord) -> Result<Vec<u8>> {
    record.to_bytes().map_err(|source| ZkError::Record {
        path: path.to_owned(),
        source,
    })
}
