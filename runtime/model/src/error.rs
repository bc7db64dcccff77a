//! The crate's one error type, [`ModelError`]: what went wrong turning bytes into
//! records, records into bytes, or a record's fields into typed values.

use thiserror::Error;

/// Everything that can fail in the record model. Each variant names what failed.
#[derive(Debug, Error)]
pub enum ModelError {
    /// The znode data is not valid JSON (the message is serde_json's).
    #[error("malformed ZNRecord JSON: {0}")]
    MalformedJson(#[from] serde_json::Error),

    /// The data is valid JSON but not shaped like a ZNRecord.
    #[error("JSON is not a ZNRecord: {0}")]
    NotAZnRecord(String),

    /// The data starts with the GZIP magic bytes but does not decompress.
    #[error("corrupt GZIP-compressed ZNRecord: {0}")]
    Gzip(#[source] std::io::Error),

    /// The serialized record exceeds the write limit (Helix refuses such writes).
    #[error(
        "ZNRecord '{id}' is {size} bytes{}, over the {limit}-byte write limit",
        if *.compressed { " after GZIP compression" } else { "" }
    )]
    SizeLimit {
        /// The record's id.
        id: String,
        /// Size of the bytes that would have been written.
        size: usize,
        /// The write limit in effect.
        limit: usize,
        /// Whether `size` is the compressed size.
        compressed: bool,
    },

    /// A field that a typed record requires is absent.
    #[error("{record} '{id}' has no {field}")]
    MissingField {
        /// Record kind, e.g. `StateModelDefinition`.
        record: &'static str,
        /// The record's id.
        id: String,
        /// The missing key.
        field: String,
    },

    /// A field holds a value that does not parse as what Helix expects.
    #[error("{field} has invalid value '{value}': expected {expected}")]
    InvalidValue {
        /// The key whose value is wrong.
        field: String,
        /// The value found.
        value: String,
        /// What was expected instead.
        expected: &'static str,
    },
}
