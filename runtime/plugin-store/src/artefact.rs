//! Content-addressed, chunked artefacts: a component's bytes stored under
//! `ARTEFACTS/<sha256>` as raw chunks below ZooKeeper's per-znode limit,
//! the manifest written last.
//!
//! # Guarantees
//! * A manifest means every chunk was written; an artefact whose manifest
//!   is missing (a writer died half way) is "incomplete", never served.
//! * [`read`] checks the chunk count, every chunk's size, the total size
//!   and the SHA-256 before returning a byte.
//! * Writing is idempotent: the same bytes always go to the same znodes, so
//!   two writers of the same artefact cannot damage each other, and writing
//!   over a damaged copy repairs it.

use futures::{StreamExt, TryStreamExt};
use strand_model::ZNRecord;
use strand_zk::{Accessor, CreateKind, Zk, ZkError};

use crate::error::StoreError;
use crate::layout::StorePaths;
use crate::sha256_hex;
use strand_model::time::now_ms;

/// The default chunk size: 512 KiB, half of ZooKeeper's default
/// `jute.maxbuffer` (1 MiB), which bounds a znode and its request.
pub const DEFAULT_CHUNK_SIZE: usize = 512 * 1024;

/// Chunks written or read at once.
const CONCURRENCY: usize = 8;

/// Manifest keys.
mod keys {
    pub const SHA256: &str = "SHA256";
    pub const SIZE: &str = "SIZE";
    pub const CHUNKS: &str = "CHUNKS";
    pub const CHUNK_SIZE: &str = "CHUNK_SIZE";
    pub const CREATED_AT: &str = "CREATED_AT";
}

/// What the manifest says about an artefact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// The SHA-256 of the whole artefact, lowercase hex.
    pub sha256: String,
    /// Its size in bytes.
    pub size: usize,
    /// How many chunks hold it.
    pub chunks: usize,
    /// The size of every chunk but the last.
    pub chunk_size: usize,
}

impl Manifest {
    fn to_record(&self) -> ZNRecord {
        let mut r = ZNRecord::new(self.sha256.as_str());
        r.set_simple(keys::SHA256, self.sha256.as_str());
        r.set_simple(keys::SIZE, self.size.to_string());
        r.set_simple(keys::CHUNKS, self.chunks.to_string());
        r.set_simple(keys::CHUNK_SIZE, self.chunk_size.to_string());
        r.set_simple(keys::CREATED_AT, now_ms().to_string());
        r
    }

    fn from_record(r: &ZNRecord) -> Option<Self> {
        Some(Self {
            sha256: r.simple(keys::SHA256)?.to_owned(),
            size: r.simple_parsed(keys::SIZE)?,
            chunks: r.simple_parsed(keys::CHUNKS)?,
            chunk_size: r.simple_parsed(keys::CHUNK_SIZE)?,
        })
    }
}

/// Stores `bytes` (whose SHA-256 is `sha256`) in chunks of `chunk_size`,
/// then the manifest. Returns the manifest.
///
/// # Errors
/// [`StoreError::Zk`] when a write fails; what was written stays
/// incomplete (no manifest) and a later write completes it.
pub async fn write(
    zk: &Zk,
    paths: &StorePaths,
    sha256: &str,
    bytes: &[u8],
    chunk_size: usize,
) -> Result<Manifest, StoreError> {
    let chunk_size = chunk_size.max(1);
    let root = paths.artefact(sha256);
    zk.create_all(&paths.artefacts()).await?;
    match zk.create(&root, &[], CreateKind::Persistent).await {
        Ok(_) | Err(ZkError::NodeExists { .. }) => {}
        Err(e) => return Err(e.into()),
    }
    let chunks: Vec<&[u8]> = bytes.chunks(chunk_size).collect();
    futures::stream::iter(chunks.iter().enumerate().map(|(index, chunk)| {
        let path = paths.chunk(sha256, index);
        async move { put(zk, &path, chunk).await }
    }))
    .buffer_unordered(CONCURRENCY)
    .try_collect::<Vec<()>>()
    .await?;
    // Chunks left over from an older, differently chunked copy.
    for stale in zk.children(&root).await?.into_iter().skip(chunks.len()) {
        match zk.delete(&strand_zk::join(&root, &stale), None).await {
            Ok(()) | Err(ZkError::NoNode { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let manifest = Manifest {
        sha256: sha256.to_owned(),
        size: bytes.len(),
        chunks: chunks.len(),
        chunk_size,
    };
    Accessor::new(zk.clone())
        .set(&root, &manifest.to_record(), None)
        .await?;
    tracing::debug!(
        sha256,
        size = bytes.len(),
        chunks = chunks.len(),
        "artefact stored"
    );
    Ok(manifest)
}

async fn put(zk: &Zk, path: &str, data: &[u8]) -> Result<(), ZkError> {
    match zk.create(path, data, CreateKind::Persistent).await {
        Ok(_) => Ok(()),
        Err(ZkError::NodeExists { .. }) => zk.set(path, data, None).await.map(drop),
        Err(e) => Err(e),
    }
}

/// The manifest of `sha256`; `None` when the artefact is missing or
/// incomplete.
///
/// # Errors
/// [`StoreError::Corrupt`] for a manifest that cannot be read.
pub async fn manifest(
    zk: &Zk,
    paths: &StorePaths,
    sha256: &str,
) -> Result<Option<Manifest>, StoreError> {
    let path = paths.artefact(sha256);
    let Some((data, _)) = zk.get(&path).await? else {
        return Ok(None);
    };
    if data.is_empty() {
        return Ok(None);
    }
    let record = ZNRecord::from_bytes(&data)
        .map_err(|e| StoreError::Corrupt(format!("manifest {path}: {e}")))?
        .ok_or_else(|| StoreError::Corrupt(format!("manifest {path} is empty")))?;
    Manifest::from_record(&record)
        .map(Some)
        .ok_or_else(|| StoreError::Corrupt(format!("manifest {path} lacks a field")))
}

/// Reads and verifies the artefact `sha256`.
///
/// # Errors
/// [`StoreError::NotFound`] when there is no complete artefact;
/// [`StoreError::Corrupt`] when a chunk is missing or the wrong size, or
/// the bytes do not hash to `sha256`.
pub async fn read(zk: &Zk, paths: &StorePaths, sha256: &str) -> Result<Vec<u8>, StoreError> {
    let Some(m) = manifest(zk, paths, sha256).await? else {
        return Err(StoreError::NotFound(format!("artefact {sha256}")));
    };
    if m.sha256 != sha256 {
        return Err(StoreError::Corrupt(format!(
            "artefact {sha256}: its manifest names {}",
            m.sha256
        )));
    }
    let chunks: Vec<Vec<u8>> = futures::stream::iter((0..m.chunks).map(|index| {
        let path = paths.chunk(sha256, index);
        async move {
            match zk.get(&path).await? {
                Some((data, _)) => Ok(data),
                None => Err(StoreError::Corrupt(format!(
                    "artefact {sha256}: chunk {index} of {} is missing",
                    m.chunks
                ))),
            }
        }
    }))
    .buffered(CONCURRENCY)
    .try_collect()
    .await?;
    let mut bytes = Vec::with_capacity(m.size);
    for (index, chunk) in chunks.iter().enumerate() {
        let expected = if index + 1 == m.chunks {
            m.chunk_size
                .checked_mul(m.chunks - 1)
                .and_then(|before| m.size.checked_sub(before))
        } else {
            Some(m.chunk_size)
        };
        if expected != Some(chunk.len()) {
            return Err(StoreError::Corrupt(format!(
                "artefact {sha256}: chunk {index} has {} bytes, the manifest ({} bytes in {} chunks of {}) disagrees",
                chunk.len(),
                m.size,
                m.chunks,
                m.chunk_size
            )));
        }
        bytes.extend_from_slice(chunk);
    }
    if bytes.len() != m.size {
        return Err(StoreError::Corrupt(format!(
            "artefact {sha256}: {} bytes, the manifest says {}",
            bytes.len(),
            m.size
        )));
    }
    let actual = sha256_hex(&bytes);
    if actual != sha256 {
        return Err(StoreError::Corrupt(format!(
            "artefact {sha256}: the stored bytes hash to {actual}"
        )));
    }
    Ok(bytes)
}

/// Deletes the artefact `sha256` (manifest first, so no reader trusts a
/// half-deleted artefact). Missing artefacts are fine.
///
/// # Errors
/// [`StoreError::Zk`].
pub async fn delete(zk: &Zk, paths: &StorePaths, sha256: &str) -> Result<(), StoreError> {
    let root = paths.artefact(sha256);
    match zk.set(&root, &[], None).await {
        Ok(_) | Err(ZkError::NoNode { .. }) => {}
        Err(e) => return Err(e.into()),
    }
    zk.delete_recursive(&root).await?;
    Ok(())
}
