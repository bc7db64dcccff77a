//! The controller's error type: every variant names the cluster, znode or
//! step that failed, so a log line is actionable on its own.

use strand_zk::ZkError;

/// A failed controller operation.
#[derive(Debug, thiserror::Error)]
pub enum ControllerError {
    /// The cluster's znodes are missing: run `strand admin add-cluster`.
    #[error("cluster {cluster} is not set up in ZooKeeper ({missing} is missing)")]
    ClusterNotSetUp {
        /// The cluster.
        cluster: String,
        /// The first required znode found missing.
        missing: String,
    },
    /// Connecting to ZooKeeper failed.
    #[error("failed to connect the controller to ZooKeeper: {0}")]
    Connect(#[source] ZkError),
    /// Taking part in the leader election failed.
    #[error("leader election for cluster {cluster} failed: {source}")]
    Election {
        /// The cluster.
        cluster: String,
        /// Why.
        #[source]
        source: ZkError,
    },
    /// Starting the cluster cache failed.
    #[error("failed to cache cluster {cluster}: {source}")]
    Cache {
        /// The cluster.
        cluster: String,
        /// Why.
        #[source]
        source: ZkError,
    },
    /// A pipeline write failed.
    #[error("failed to {what}: {source}")]
    Write {
        /// What was being written, e.g. "send 12 messages".
        what: String,
        /// Why.
        #[source]
        source: ZkError,
    },
    /// This controller is no longer the leader (its LEADER znode is gone or
    /// owned by another session); it stopped writing.
    #[error("lost leadership of cluster {cluster}")]
    LostLeadership {
        /// The cluster.
        cluster: String,
    },
    /// The controller task is gone (it panicked or was shut down).
    #[error("the controller of cluster {cluster} has stopped")]
    Stopped {
        /// The cluster.
        cluster: String,
    },
    /// A wait ran out of time.
    #[error("timed out after {0:?} waiting for {1}")]
    Timeout(std::time::Duration, &'static str),
}

impl ControllerError {
    /// True when the session is gone (a new one is needed).
    pub fn is_session_expired(&self) -> bool {
        match self {
            Self::Connect(e) => e.is_session_expired(),
            Self::Election { source, .. }
            | Self::Cache { source, .. }
            | Self::Write { source, .. } => source.is_session_expired(),
            _ => false,
        }
    }
}

/// Result alias of the controller.
pub type Result<T, E = ControllerError> = std::result::Result<T, E>;
