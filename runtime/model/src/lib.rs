//! Strand's record model: the Apache Helix 2.x znode records, with no I/O.
//!
//! * [`znrecord`] — [`ZNRecord`], Helix's generic record: byte-exact JSON, GZIP,
//!   size limits, and the `update` / `merge` / `subtract` operations.
//! * [`error`] — [`ModelError`].
//! * [`java`] — the bits of Java behaviour that show up in Helix's bytes.

pub mod error;
pub mod java;
pub mod znrecord;

pub use error::ModelError;
pub use znrecord::{
    FieldMap, KeyOrder, MergeOperation, SIZE_LIMIT, WriteOptions, ZNRecord, ZNRecordDelta,
};
