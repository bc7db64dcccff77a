//! Watches as async streams: session events of a [`Zk`], and node events
//! of a subtree (a persistent recursive watch, ZooKeeper 3.6+).
//!
//! # Guarantees
//! A stream ends after the session's terminal event (expired or closed),
//! which it yields first; it never panics on a dead session.
//!
//! # Caveats
//! ZooKeeper may drop node events that happen while the client is
//! disconnected (ZOOKEEPER-4698). [`NodeEvent::Reconnected`] marks that
//! point: a consumer that keeps state must re-read it then, as
//! [`crate::TreeCache`] does.

use futures::Stream;
use zookeeper_client as zk;

use crate::client::Zk;
use crate::error::{Result, ZkError};

/// A change of a session's connection state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEvent {
    /// The connection dropped; the client is reconnecting and the session
    /// (with its ephemerals and watches) lives on until its timeout.
    Disconnected,
    /// The connection is back within the same session.
    Reconnected,
    /// The session ended on the server: ephemerals are gone, a new session
    /// is needed.
    Expired,
    /// The client was closed locally.
    Closed,
    /// Authentication failed; terminal.
    AuthFailed,
}

impl SessionEvent {
    fn from_state(state: zk::SessionState) -> Self {
        match state {
            zk::SessionState::Disconnected => Self::Disconnected,
            zk::SessionState::SyncConnected | zk::SessionState::ConnectedReadOnly => {
                Self::Reconnected
            }
            zk::SessionState::Expired => Self::Expired,
            zk::SessionState::Closed => Self::Closed,
            zk::SessionState::AuthFailed => Self::AuthFailed,
        }
    }

    /// True for events after which the session is gone for good.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Expired | Self::Closed | Self::AuthFailed)
    }
}

/// A change below a watched path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeEvent {
    /// A znode was created.
    Created(String),
    /// A znode's data changed.
    DataChanged(String),
    /// A znode was deleted.
    Deleted(String),
    /// The connection dropped; events may be lost until [`Self::Reconnected`].
    Disconnected,
    /// Connected again: re-read whatever state depends on this watch.
    Reconnected,
    /// The session is gone; the stream ends after this.
    SessionEnded(SessionEvent),
}

impl Zk {
    /// The session's connection state changes, from now on.
    pub fn session_events(&self) -> impl Stream<Item = SessionEvent> + Send + 'static {
        let watcher = self.client().state_watcher();
        futures::stream::unfold(Some(watcher), |watcher| async move {
            let mut watcher = watcher?;
            let event = SessionEvent::from_state(watcher.changed().await);
            let next = if event.is_terminal() {
                None
            } else {
                Some(watcher)
            };
            Some((event, next))
        })
    }

    /// Every create, data change and delete at or below `path` (the path
    /// need not exist yet), plus the session's connection changes.
    pub async fn watch_subtree(
        &self,
        path: &str,
    ) -> Result<impl Stream<Item = NodeEvent> + Send + 'static> {
        let watcher = self
            .client()
            .watch(path, zk::AddWatchMode::PersistentRecursive)
            .await
            .map_err(|e| ZkError::from_client("watch", path, e))?;
        Ok(futures::stream::unfold(
            Some(watcher),
            |watcher| async move {
                let mut watcher = watcher?;
                let event = watcher.changed().await;
                let node_event = match event.event_type {
                    zk::EventType::NodeCreated => NodeEvent::Created(event.path),
                    zk::EventType::NodeDataChanged => NodeEvent::DataChanged(event.path),
                    zk::EventType::NodeDeleted => NodeEvent::Deleted(event.path),
                    // Children changes are not reported by recursive watches;
                    // creates and deletes of the children are.
                    zk::EventType::NodeChildrenChanged => NodeEvent::DataChanged(event.path),
                    zk::EventType::Session => match SessionEvent::from_state(event.session_state) {
                        SessionEvent::Disconnected => NodeEvent::Disconnected,
                        SessionEvent::Reconnected => NodeEvent::Reconnected,
                        terminal => {
                            return Some((NodeEvent::SessionEnded(terminal), None));
                        }
                    },
                };
                Some((node_event, Some(watcher)))
            },
        ))
    }
}
