//! The error type of the ZooKeeper layer: every variant names the path (or
//! connect string) involved, so a message is actionable on its own.

use zookeeper_client as zk;

/// A failed ZooKeeper operation.
#[derive(Debug, thiserror::Error)]
pub enum ZkError {
    /// No session could be established before the deadline.
    #[error("cannot reach ZooKeeper at {connect}: {reason}")]
    Connect {
        /// The connect string that was tried.
        connect: String,
        /// Why it failed.
        reason: String,
    },
    /// The znode does not exist.
    #[error("{path} does not exist")]
    NoNode {
        /// The znode.
        path: String,
    },
    /// The znode exists already.
    #[error("{path} already exists")]
    NodeExists {
        /// The znode.
        path: String,
    },
    /// A versioned write found another version: someone else wrote first.
    #[error("{path} was changed concurrently (version mismatch)")]
    BadVersion {
        /// The znode.
        path: String,
    },
    /// A delete found children under the znode.
    #[error("{path} has children")]
    NotEmpty {
        /// The znode.
        path: String,
    },
    /// The session ended; a new connection (and session) is needed.
    #[error("ZooKeeper session expired")]
    SessionExpired,
    /// The connection dropped while the request was in flight; the outcome
    /// of a write is unknown.
    #[error("lost the connection to ZooKeeper during {op} {path}")]
    ConnectionLoss {
        /// The operation.
        op: &'static str,
        /// The znode.
        path: String,
    },
    /// The record stored at the znode could not be parsed or serialised.
    #[error("bad record at {path}: {source}")]
    Record {
        /// The znode.
        path: String,
        /// What was wrong with it.
        #[source]
        source: strand_model::ModelError,
    },
    /// One operation of an atomic multi-op failed; nothing was applied.
    #[error("atomic update failed at {path} (operation {index}): {source}")]
    Multi {
        /// Index of the failing operation.
        index: usize,
        /// Its znode.
        path: String,
        /// Why it failed.
        #[source]
        source: Box<ZkError>,
    },
    /// A batched write of several edits failed.
    #[error("batched update of {path} failed: {reason}")]
    GroupCommit {
        /// The znode.
        path: String,
        /// Why.
        reason: String,
    },
    /// The znode's ACL does not let this session do this: it has no
    /// credentials, or not ones the ACL names.
    #[error(
        "ZooKeeper refused {op} {path}: the znode's ACL does not allow this session \
         (give credentials with --zk-auth-file or STRAND_ZK_AUTH_FILE)"
    )]
    NoAuth {
        /// The operation.
        op: &'static str,
        /// The znode.
        path: String,
    },
    /// The server refused the ACL a create carried (an `auth` entry from a
    /// session without credentials, a malformed id).
    #[error(
        "ZooKeeper refused the ACL of {op} {path} (an unauthenticated session, or a malformed entry)"
    )]
    InvalidAcl {
        /// The operation.
        op: &'static str,
        /// The znode.
        path: String,
    },
    /// The server refused the session's credentials; the session is closed.
    #[error("ZooKeeper refused the credentials of this session")]
    AuthFailed,
    /// The request's arguments were refused, by the client or the server:
    /// mostly a path ZooKeeper does not accept (a character it refuses,
    /// `.`/`..`, an empty name).
    #[error("ZooKeeper refused {op} {path:?}: {reason} (is every name in the path valid?)")]
    BadArguments {
        /// The operation.
        op: &'static str,
        /// The path.
        path: String,
        /// What was wrong.
        reason: String,
    },
    /// Any other failure reported by the client or the server.
    #[error("ZooKeeper {op} {path} failed: {source}")]
    Other {
        /// The operation.
        op: &'static str,
        /// The znode.
        path: String,
        /// The client's error.
        #[source]
        source: zk::Error,
    },
}

impl ZkError {
    /// Maps a client error for operation `op` on `path`.
    pub(crate) fn from_client(op: &'static str, path: &str, err: zk::Error) -> Self {
        let path = path.to_owned();
        match err {
            zk::Error::NoNode => Self::NoNode { path },
            zk::Error::NodeExists => Self::NodeExists { path },
            zk::Error::BadVersion => Self::BadVersion { path },
            zk::Error::NotEmpty => Self::NotEmpty { path },
            zk::Error::SessionExpired | zk::Error::ClientClosed => Self::SessionExpired,
            zk::Error::ConnectionLoss => Self::ConnectionLoss { op, path },
            zk::Error::NoAuth => Self::NoAuth { op, path },
            zk::Error::InvalidAcl => Self::InvalidAcl { op, path },
            zk::Error::AuthFailed => Self::AuthFailed,
            zk::Error::BadArguments(reason) => Self::BadArguments {
                op,
                path,
                reason: (*reason).to_owned(),
            },
            source => Self::Other { op, path, source },
        }
    }

    /// True when the session is gone and only a new session can help.
    pub fn is_session_expired(&self) -> bool {
        matches!(self, Self::SessionExpired)
    }

    /// True for a transient connection problem worth retrying.
    pub fn is_connection_loss(&self) -> bool {
        matches!(self, Self::ConnectionLoss { .. })
    }

    /// True when the znode was missing.
    pub fn is_no_node(&self) -> bool {
        matches!(self, Self::NoNode { .. })
    }

    /// True when the znode's ACL refused this session.
    pub fn is_no_auth(&self) -> bool {
        match self {
            Self::NoAuth { .. } => true,
            Self::Multi { source, .. } => source.is_no_auth(),
            _ => false,
        }
    }

    /// True when the znode existed already.
    pub fn is_node_exists(&self) -> bool {
        matches!(self, Self::NodeExists { .. })
    }
}

/// Result alias of the ZooKeeper layer.
pub type Result<T, E = ZkError> = std::result::Result<T, E>;
