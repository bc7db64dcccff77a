//! [`StoreError`]: why a store operation failed. The variants map onto HTTP
//! status codes (noted on each) so a REST layer can pass them through.

use strand_zk::ZkError;

/// A failed plugin-store operation. Nothing was changed unless the variant
/// says otherwise.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No such plugin, version or artefact (404).
    #[error("not found: {0}")]
    NotFound(String),
    /// The request or the component is not acceptable (400): not a
    /// component, a wrong world, a bad definition, a failed canary, a bad
    /// name.
    #[error("invalid: {0}")]
    Invalid(String),
    /// The component is larger than the size cap (413).
    #[error("the component is {size} bytes, over the limit of {max} bytes")]
    TooLarge {
        /// Its size.
        size: usize,
        /// The cap.
        max: usize,
    },
    /// The request conflicts with what is deployed (409): another kind
    /// under the name, a version string taken by other bytes, a definition
    /// change that resources in use would not survive, removing the active
    /// version.
    #[error("conflict: {0}")]
    Conflict(String),
    /// A stored artefact or record is damaged (500): a missing or short
    /// chunk, a SHA-256 mismatch, an unreadable record.
    #[error("corrupt: {0}")]
    Corrupt(String),
    /// The plugin host needed to validate components could not start (500).
    #[error("plugin host: {0}")]
    Host(String),
    /// ZooKeeper failed (503).
    #[error(transparent)]
    Zk(#[from] ZkError),
}

impl StoreError {
    /// The HTTP status code this error maps to.
    pub fn http_status(&self) -> u16 {
        match self {
            Self::NotFound(_) => 404,
            Self::Invalid(_) => 400,
            Self::TooLarge { .. } => 413,
            Self::Conflict(_) => 409,
            Self::Corrupt(_) | Self::Host(_) => 500,
            Self::Zk(_) => 503,
        }
    }
}
