//! The participant's error type.

use strand_zk::ZkError;

/// Why a participant could not join or keep serving.
#[derive(Debug, thiserror::Error)]
pub enum ParticipantError {
    /// The cluster does not exist or is not fully set up.
    #[error("cluster {0} is not set up (run `strand admin add-cluster {0}`)")]
    ClusterNotSetUp(String),
    /// The instance is unknown and may not add itself.
    #[error(
        "instance {instance} is not in cluster {cluster}: add it with `strand admin add-instance`, \
         or start with --auto-join"
    )]
    NotAnInstance {
        /// Cluster name.
        cluster: String,
        /// Instance name.
        instance: String,
    },
    /// Another process holds this instance's LiveInstance.
    #[error("instance {instance} is already live in cluster {cluster} (session {session})")]
    AlreadyLive {
        /// Cluster name.
        cluster: String,
        /// Instance name.
        instance: String,
        /// The other process's session.
        session: String,
    },
    /// The instance name cannot be used.
    #[error("invalid instance name {0:?}")]
    InvalidInstance(String),
    /// An admin step (adding the instance) failed.
    #[error(transparent)]
    Admin(#[from] strand_admin::AdminError),
    /// A record could not be built.
    #[error(transparent)]
    Model(#[from] strand_model::ModelError),
    /// ZooKeeper failed.
    #[error(transparent)]
    Zk(#[from] ZkError),
}

/// Result alias of the participant crate.
pub type Result<T, E = ParticipantError> = std::result::Result<T, E>;
