//! Znode bytes ⇄ [`ZNRecord`]: transparent GUNZIP on read, Helix's compression rule
//! and write-size limit on write (`ZNRecordSerializer` + `ZNRecordUtil`).

use std::io::{Read, Write};

use flate2::Compression;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;

use super::ZNRecord;
use crate::error::ModelError;

/// Helix's default write limit, `ZNRecord.SIZE_LIMIT` = 1000 × 1024 bytes: larger
/// serialized records are refused. Also the default auto-compression threshold.
pub const SIZE_LIMIT: usize = 1000 * 1024;

/// Simple field that forces GZIP compression when `"true"` (any case).
pub const ENABLE_COMPRESSION_FIELD: &str = "enableCompression";

/// Simple field bounding the length of every list field when written.
pub const LIST_FIELD_BOUND: &str = "listField.bound";

/// The GZIP magic bytes Helix checks to decide whether to decompress.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Refuse to inflate a record past this size (a corrupt or hostile znode).
const MAX_INFLATED: u64 = 256 * 1024 * 1024;

/// The serializer settings Helix takes from system properties
/// (`zk.serializer.znrecord.*`). [`Default`] is Helix's default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteOptions {
    /// `zk.serializer.znrecord.auto-compress.enabled` (default true).
    pub auto_compress: bool,
    /// `zk.serializer.znrecord.auto-compress.threshold.bytes`; only honoured when it
    /// does not exceed `write_limit` (default: the write limit).
    pub compress_threshold: usize,
    /// `zk.serializer.znrecord.write.size.limit.bytes` (default [`SIZE_LIMIT`]).
    pub write_limit: usize,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            auto_compress: true,
            compress_threshold: SIZE_LIMIT,
            write_limit: SIZE_LIMIT,
        }
    }
}

impl WriteOptions {
    fn effective_threshold(&self) -> usize {
        self.compress_threshold.min(self.write_limit)
    }
}

/// Whether data starts with the GZIP magic bytes.
pub fn is_gzip(data: &[u8]) -> bool {
    data.starts_with(&GZIP_MAGIC)
}

/// GZIP-compress bytes.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::with_capacity(data.len() / 4), Compression::default());
    // Writing into a Vec cannot fail.
    let _ = encoder.write_all(data);
    encoder.finish().unwrap_or_default()
}

/// Decompress GZIP data (all members, like Java's `GZIPInputStream`).
pub fn gunzip(data: &[u8]) -> Result<Vec<u8>, ModelError> {
    let mut out = Vec::with_capacity(data.len() * 4);
    MultiGzDecoder::new(data)
        .take(MAX_INFLATED + 1)
        .read_to_end(&mut out)
        .map_err(ModelError::Gzip)?;
    if out.len() as u64 > MAX_INFLATED {
        return Err(ModelError::Gzip(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("inflates to more than {MAX_INFLATED} bytes"),
        )));
    }
    Ok(out)
}

impl ZNRecord {
    /// Decode znode data. `Ok(None)` for a zero-length znode (a parent node, which
    /// Helix reads as null). Data starting with `1f 8b` is GUNZIPped first.
    pub fn from_bytes(data: &[u8]) -> Result<Option<ZNRecord>, ModelError> {
        if data.is_empty() {
            return Ok(None);
        }
        if is_gzip(data) {
            let json = gunzip(data)?;
            ZNRecord::from_json(&json).map(Some)
        } else {
            ZNRecord::from_json(data).map(Some)
        }
    }

    /// Encode as znode data with Helix's default settings: the pretty JSON, GZIPped
    /// if simple field `enableCompression` is `"true"` or the JSON is over
    /// [`SIZE_LIMIT`]; [`ModelError::SizeLimit`] if the result is still over it.
    pub fn to_bytes(&self) -> Result<Vec<u8>, ModelError> {
        self.to_bytes_with(&WriteOptions::default())
    }

    /// [`ZNRecord::to_bytes`] with explicit serializer settings.
    pub fn to_bytes_with(&self, options: &WriteOptions) -> Result<Vec<u8>, ModelError> {
        let json = self.to_json_bytes();
        let compress = self.simple_bool(ENABLE_COMPRESSION_FIELD) == Some(true)
            || (options.auto_compress && json.len() > options.effective_threshold());
        let bytes = if compress { gzip(&json) } else { json };
        if bytes.len() > options.write_limit {
            return Err(ModelError::SizeLimit {
                id: self.id.clone(),
                size: bytes.len(),
                limit: options.write_limit,
                compressed: compress,
            });
        }
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_znode_is_none() {
        assert!(matches!(ZNRecord::from_bytes(b""), Ok(None)));
    }

    #[test]
    fn compression_flag_and_round_trip() {
        let mut r = ZNRecord::new("big");
        r.set_simple(ENABLE_COMPRESSION_FIELD, "TRUE");
        let bytes = r.to_bytes().expect("fits");
        assert!(is_gzip(&bytes));
        let back = ZNRecord::from_bytes(&bytes)
            .expect("decodes")
            .expect("not empty");
        assert_eq!(back, r);
    }

    #[test]
    fn auto_compression_above_threshold_and_limit() {
        let mut r = ZNRecord::new("r");
        r.set_simple("k", "x".repeat(200));
        let small = WriteOptions {
            compress_threshold: 100,
            ..WriteOptions::default()
        };
        assert!(is_gzip(&r.to_bytes_with(&small).expect("fits")));
        assert!(!is_gzip(&r.to_bytes().expect("fits")));
        let off = WriteOptions {
            auto_compress: false,
            write_limit: 100,
            compress_threshold: 100,
        };
        assert!(matches!(
            r.to_bytes_with(&off),
            Err(ModelError::SizeLimit {
                compressed: false,
                ..
            })
        ));
        // Incompressible-ish content over the default limit is refused even compressed.
        let mut huge = ZNRecord::new("huge");
        let mut seed: u64 = 1;
        for i in 0..100_000 {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            huge.set_simple(format!("k{i}"), format!("{seed:016x}{seed:x}"));
        }
        assert!(matches!(
            huge.to_bytes(),
            Err(ModelError::SizeLimit {
                compressed: true,
                ..
            })
        ));
    }

    #[test]
    fn corrupt_gzip_is_reported() {
        assert!(matches!(
            ZNRecord::from_bytes(&[0x1f, 0x8b, 0x08, 0x00, 0x01]),
            Err(ModelError::Gzip(_))
        ));
    }
}
