//! [`Server`]: the ZooKeeper under a development cluster — one private
//! server, a private three-node ensemble, or one the user gave
//! (`--zk HOST:PORT`).

use crate::zookeeper::{LocalEnsemble, LocalZk, ServerError};

/// The ZooKeeper under a development cluster. Private servers stop when
/// this is dropped.
pub enum Server {
    /// One private standalone server.
    Single(LocalZk),
    /// A private ensemble.
    Ensemble(LocalEnsemble),
    /// A server the user runs: its connect string.
    External(String),
}

impl Server {
    /// `given` when there is one, else a private server started off the
    /// async workers (start-up waits for the server to answer).
    ///
    /// # Errors
    /// Why the private server could not be started.
    pub async fn given_or_private(given: Option<&str>) -> Result<Self, ServerError> {
        match given {
            Some(connect) => Ok(Self::External(connect.to_owned())),
            None => tokio::task::spawn_blocking(LocalZk::start)
                .await
                .map_err(|e| ServerError::Io(std::io::Error::other(e)))?
                .map(Self::Single),
        }
    }

    /// The connect string (every server of an ensemble).
    pub fn connect_string(&self) -> String {
        match self {
            Self::Single(zk) => zk.connect_string(),
            Self::Ensemble(ensemble) => ensemble.connect_string(),
            Self::External(connect) => connect.clone(),
        }
    }

    /// Whether the server was started here (and stops with this value).
    pub fn is_private(&self) -> bool {
        !matches!(self, Self::External(_))
    }
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self {
            Self::Single(_) => "Single",
            Self::Ensemble(_) => "Ensemble",
            Self::External(_) => "External",
        };
        f.debug_struct("Server")
            .field("kind", &kind)
            .field("connect", &self.connect_string())
            .finish()
    }
}
