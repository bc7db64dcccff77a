//! Follows each session's state into the process's metrics
//! (`strand_zookeeper_sessions`, `_reconnects_total`,
//! `_session_expiries_total`): one small task per session, ending with it.

use strand_metrics::SessionState;
use zookeeper_client as zk;

/// Counts `client`'s session from now until it ends.
pub(crate) fn follow(client: &zk::Client) {
    let mut watcher = client.state_watcher();
    let metrics = &strand_metrics::global().zookeeper;
    let mut current = counted(watcher.state());
    metrics.session_state(None, current);
    tokio::spawn(async move {
        loop {
            let state = watcher.changed().await;
            let next = counted(state);
            if current == Some(SessionState::Disconnected)
                && matches!(next, Some(SessionState::Connected | SessionState::ReadOnly))
            {
                metrics.reconnected();
            }
            if state == zk::SessionState::Expired {
                metrics.expired();
            }
            metrics.session_state(current, next);
            current = next;
            if state.is_terminated() {
                return;
            }
        }
    });
}

/// The state a session is counted in; `None` once it ended.
fn counted(state: zk::SessionState) -> Option<SessionState> {
    match state {
        zk::SessionState::SyncConnected => Some(SessionState::Connected),
        zk::SessionState::ConnectedReadOnly => Some(SessionState::ReadOnly),
        zk::SessionState::Disconnected => Some(SessionState::Disconnected),
        zk::SessionState::AuthFailed | zk::SessionState::Expired | zk::SessionState::Closed => None,
    }
}
