//! [`SpectatorError`]: why a routing table provider could not start or answer.

use strand_zk::ZkError;

/// Why the spectator failed.
#[derive(Debug, thiserror::Error)]
pub enum SpectatorError {
    /// The cluster is not set up in this ZooKeeper.
    #[error("cluster {0} is not set up (no /{0}/EXTERNALVIEW)")]
    ClusterNotSetUp(String),
    /// A source was configured wrongly (e.g. an empty customized type).
    #[error("invalid routing source: {0}")]
    InvalidSource(String),
    /// The provider has no table for this source.
    #[error("no routing table for {0}; add it to the provider's sources")]
    UnknownSource(String),
    /// ZooKeeper failed.
    #[error(transparent)]
    Zk(#[from] ZkError),
}

/// Results of this crate.
pub type Result<T, E = SpectatorError> = std::result::Result<T, E>;
