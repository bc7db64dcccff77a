//! The admin error type: one variant per refusal, each naming the cluster,
//! instance, resource or file involved, so the CLI can print it as one line.

use strand_zk::ZkError;

/// Why an admin operation was refused or failed. A refused operation
/// changed nothing in ZooKeeper.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The cluster does not exist or is not fully set up.
    #[error("cluster {0} does not exist (or is not set up)")]
    NoSuchCluster(String),
    /// The cluster exists already.
    #[error("cluster {0} already exists")]
    ClusterExists(String),
    /// The instance is not in the cluster.
    #[error("instance {instance} is not in cluster {cluster}")]
    NoSuchInstance {
        /// Cluster name.
        cluster: String,
        /// Instance id.
        instance: String,
    },
    /// The instance is in the cluster already.
    #[error("instance {instance} already exists in cluster {cluster}")]
    InstanceExists {
        /// Cluster name.
        cluster: String,
        /// Instance id.
        instance: String,
    },
    /// The resource is not in the cluster.
    #[error("resource {resource} is not in cluster {cluster}")]
    NoSuchResource {
        /// Cluster name.
        cluster: String,
        /// Resource name.
        resource: String,
    },
    /// The resource is in the cluster already.
    #[error("resource {resource} already exists in cluster {cluster}")]
    ResourceExists {
        /// Cluster name.
        cluster: String,
        /// Resource name.
        resource: String,
    },
    /// The state model definition is not in the cluster.
    #[error("state model {model} is not defined in cluster {cluster}")]
    NoSuchStateModel {
        /// Cluster name.
        cluster: String,
        /// Model name.
        model: String,
    },
    /// The state model definition is in the cluster already.
    #[error("state model {model} already exists in cluster {cluster}")]
    StateModelExists {
        /// Cluster name.
        cluster: String,
        /// Model name.
        model: String,
    },
    /// The operation is unsafe in the cluster's current state.
    #[error("{0}")]
    Refused(String),
    /// An argument or input file makes no sense.
    #[error("{0}")]
    Invalid(String),
    /// A record could not be built or parsed.
    #[error(transparent)]
    Model(#[from] strand_model::ModelError),
    /// ZooKeeper failed.
    #[error(transparent)]
    Zk(#[from] ZkError),
}

/// Result alias of the admin crate.
pub type Result<T, E = AdminError> = std::result::Result<T, E>;
