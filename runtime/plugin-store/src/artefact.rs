//! Content-addressed, chunked artefacts: a component's bytes stored under
//! `ARTEFACTS/<sha256>` (the SHA-256 of the component itself), compressed,
//! in chunks below ZooKeeper's per-znode limit, the manifest written last.
//!
//! # Compression
//! Artefacts are stored gzip-compressed (manifest `ENCODING` = `gzip`,
//! `STORED_SIZE` the compressed size). Gzip rather than zstd: `flate2` is
//! already a dependency (ZNRecord's GZIP) and pure Rust, and on Strand's
//! Python and JavaScript components gzip's default level keeps 32–34 % of
//! the bytes against zstd's 31–32 % at its default level — not worth a C
//! library in the build. Compression costs seconds once per deployment;
//! every fetch decompresses in well under a second. Artefacts written
//! before compression (no `ENCODING`) are read as they are.
//!
//! # Guarantees
//! * A manifest means every chunk was written; an artefact whose manifest
//!   is missing (a writer died half way) is "incomplete", never served.
//! * [`read`] checks the chunk count, every chunk's size and the stored
//!   size, inflates at most `SIZE` bytes (a damaged or hostile stream
//!   cannot blow up the reader), then checks the size and the SHA-256
//!   before returning a byte.
//! * Writing is idempotent: the same bytes always go to the same znodes, so
//!   two writers of the same artefact cannot damage each other, and writing
//!   over a damaged copy repairs it.

use std::io::{Read, Write};

use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
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
    pub const ENCODING: &str = "ENCODING";
    pub const STORED_SIZE: &str = "STORED_SIZE";
}

/// How an artefact's chunks encode the component.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// The component's bytes as they are (artefacts written before
    /// compression; no `ENCODING` in the manifest).
    Identity,
    /// One gzip stream.
    Gzip,
}

impl Encoding {
    fn as_str(self) -> &'static str {
        match self {
            Self::Identity => "identity",
            Self::Gzip => "gzip",
        }
    }

    fn parse(value: Option<&str>) -> Option<Self> {
        match value {
            None | Some("identity") => Some(Self::Identity),
            Some("gzip") => Some(Self::Gzip),
            Some(_) => None,
        }
    }
}

/// What the manifest says about an artefact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// The SHA-256 of the component, lowercase hex.
    pub sha256: String,
    /// The component's size in bytes.
    pub size: usize,
    /// How many chunks hold it.
    pub chunks: usize,
    /// The size of every chunk but the last.
    pub chunk_size: usize,
    /// How the chunks encode it.
    pub encoding: Encoding,
    /// The bytes in the chunks (what ZooKeeper holds).
    pub stored_size: usize,
}

impl Manifest {
    fn to_record(&self) -> ZNRecord {
        let mut r = ZNRecord::new(self.sha256.as_str());
        r.set_simple(keys::SHA256, self.sha256.as_str());
        r.set_simple(keys::SIZE, self.size.to_string());
        r.set_simple(keys::CHUNKS, self.chunks.to_string());
        r.set_simple(keys::CHUNK_SIZE, self.chunk_size.to_string());
        r.set_simple(keys::CREATED_AT, now_ms().to_string());
        r.set_simple(keys::ENCODING, self.encoding.as_str());
        r.set_simple(keys::STORED_SIZE, self.stored_size.to_string());
        r
    }

    fn from_record(r: &ZNRecord) -> Option<Self> {
        let size = r.simple_parsed(keys::SIZE)?;
        let encoding = Encoding::parse(r.simple(keys::ENCODING))?;
        let stored_size = match encoding {
            Encoding::Identity => size,
            Encoding::Gzip => r.simple_parsed(keys::STORED_SIZE)?,
        };
        Some(Self {
            sha256: r.simple(keys::SHA256)?.to_owned(),
            size,
            chunks: r.simple_parsed(keys::CHUNKS)?,
            chunk_size: r.simple_parsed(keys::CHUNK_SIZE)?,
            encoding,
            stored_size,
        })
    }
}

/// A component ready to store: its hash, its size and its compressed
/// bytes (compress once, then check budgets against the real size).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packed {
    /// The SHA-256 of the component.
    pub sha256: String,
    /// The component's size.
    pub size: usize,
    /// How `data` encodes it.
    pub encoding: Encoding,
    /// What goes into the chunks.
    pub data: Vec<u8>,
}

impl Packed {
    /// Compresses `bytes` (gzip, default level).
    pub fn new(bytes: &[u8]) -> Self {
        let mut encoder =
            GzEncoder::new(Vec::with_capacity(bytes.len() / 3), Compression::default());
        // Writing into a Vec cannot fail.
        let data = match encoder.write_all(bytes).and_then(|()| encoder.finish()) {
            Ok(data) => data,
            Err(_) => {
                return Self {
                    sha256: sha256_hex(bytes),
                    size: bytes.len(),
                    encoding: Encoding::Identity,
                    data: bytes.to_vec(),
                };
            }
        };
        Self {
            sha256: sha256_hex(bytes),
            size: bytes.len(),
            encoding: Encoding::Gzip,
            data,
        }
    }

    /// `bytes` stored as they are (how artefacts were stored before
    /// compression; for tests of old clusters).
    pub fn identity(bytes: &[u8]) -> Self {
        Self {
            sha256: sha256_hex(bytes),
            size: bytes.len(),
            encoding: Encoding::Identity,
            data: bytes.to_vec(),
        }
    }
}

/// Compresses and stores `bytes` under `sha256` (the caller's word for
/// their hash: readers check it); see [`write_packed`].
///
/// # Errors
/// As [`write_packed`].
pub async fn write(
    zk: &Zk,
    paths: &StorePaths,
    sha256: &str,
    bytes: &[u8],
    chunk_size: usize,
) -> Result<Manifest, StoreError> {
    let mut packed = Packed::new(bytes);
    packed.sha256 = sha256.to_owned();
    write_packed(zk, paths, &packed, chunk_size).await
}

/// Stores a packed component in chunks of `chunk_size`, then the
/// manifest. Returns the manifest.
///
/// # Errors
/// [`StoreError::Zk`] when a write fails; what was written stays
/// incomplete (no manifest) and a later write completes it.
pub async fn write_packed(
    zk: &Zk,
    paths: &StorePaths,
    packed: &Packed,
    chunk_size: usize,
) -> Result<Manifest, StoreError> {
    let sha256 = packed.sha256.as_str();
    let bytes = packed.data.as_slice();
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
        size: packed.size,
        chunks: chunks.len(),
        chunk_size,
        encoding: packed.encoding,
        stored_size: bytes.len(),
    };
    Accessor::new(zk.clone())
        .set(&root, &manifest.to_record(), None)
        .await?;
    tracing::debug!(
        sha256,
        size = packed.size,
        stored = bytes.len(),
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
    let mut stored = Vec::with_capacity(m.stored_size);
    for (index, chunk) in chunks.iter().enumerate() {
        let expected = if index + 1 == m.chunks {
            m.chunk_size
                .checked_mul(m.chunks - 1)
                .and_then(|before| m.stored_size.checked_sub(before))
        } else {
            Some(m.chunk_size)
        };
        if expected != Some(chunk.len()) {
            return Err(StoreError::Corrupt(format!(
                "artefact {sha256}: chunk {index} has {} bytes, the manifest ({} bytes in {} chunks of {}) disagrees",
                chunk.len(),
                m.stored_size,
                m.chunks,
                m.chunk_size
            )));
        }
        stored.extend_from_slice(chunk);
    }
    if stored.len() != m.stored_size {
        return Err(StoreError::Corrupt(format!(
            "artefact {sha256}: {} bytes stored, the manifest says {}",
            stored.len(),
            m.stored_size
        )));
    }
    let bytes = match m.encoding {
        Encoding::Identity => stored,
        Encoding::Gzip => inflate(&stored, m.size)
            .map_err(|e| StoreError::Corrupt(format!("artefact {sha256}: {e}")))?,
    };
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

/// Inflates a gzip stream of `size` bytes, reading at most one byte more.
fn inflate(data: &[u8], size: usize) -> Result<Vec<u8>, String> {
    let limit = u64::try_from(size).unwrap_or(u64::MAX).saturating_add(1);
    let mut out = Vec::with_capacity(size);
    GzDecoder::new(data)
        .take(limit)
        .read_to_end(&mut out)
        .map_err(|e| format!("cannot inflate: {e}"))?;
    if out.len() > size {
        return Err(format!(
            "inflates to more than the {size} bytes its manifest says"
        ));
    }
    Ok(out)
}

/// Every artefact znode: its hash, its manifest (`None` while incomplete)
/// and when the znode was created (ms since the epoch).
///
/// # Errors
/// [`StoreError::Zk`]; a manifest that cannot be read counts as
/// incomplete.
pub async fn list(zk: &Zk, paths: &StorePaths) -> Result<Vec<Stored>, StoreError> {
    let mut out = Vec::new();
    for sha256 in zk.children(&paths.artefacts()).await? {
        let path = paths.artefact(&sha256);
        let Some((data, stat)) = zk.get(&path).await? else {
            continue;
        };
        let manifest = (!data.is_empty())
            .then(|| ZNRecord::from_bytes(&data).ok().flatten())
            .flatten()
            .and_then(|r| Manifest::from_record(&r));
        out.push(Stored {
            sha256,
            manifest,
            created_at_ms: stat.ctime,
        });
    }
    Ok(out)
}

/// One artefact znode, as [`list`] finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// Its name (the component's SHA-256).
    pub sha256: String,
    /// Its manifest; `None` while incomplete (or unreadable).
    pub manifest: Option<Manifest>,
    /// When its znode was created (ms since the epoch).
    pub created_at_ms: i64,
}

impl Stored {
    /// The bytes its chunks hold (0 while the size is unknown).
    pub fn stored_size(&self) -> usize {
        self.manifest.as_ref().map_or(0, |m| m.stored_size)
    }
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
