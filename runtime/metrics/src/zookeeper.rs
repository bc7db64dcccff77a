//! What ZooKeeper sessions record: how many sessions are in each state,
//! reconnects and expiries, and requests by kind.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// A session's state as the client sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    /// Connected to a server.
    Connected,
    /// Connected to a server that only serves reads.
    ReadOnly,
    /// The connection dropped; the session may still be alive.
    Disconnected,
}

impl SessionState {
    fn label(self) -> &'static str {
        match self {
            Self::Connected => "connected",
            Self::ReadOnly => "read_only",
            Self::Disconnected => "disconnected",
        }
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: &'static str,
}

/// The ZooKeeper client's families.
#[derive(Debug, Clone, Default)]
pub struct ZooKeeperMetrics {
    sessions: Family<StateLabels, Gauge>,
    reconnects: Counter,
    expiries: Counter,
    requests: Family<KindLabels, Counter>,
}

impl ZooKeeperMetrics {
    pub(crate) fn register(&self, registry: &mut Registry) {
        for state in [
            SessionState::Connected,
            SessionState::Disconnected,
            SessionState::ReadOnly,
        ] {
            // Every state shows, at 0 when no session is in it.
            let _ = self.sessions.get_or_create(&StateLabels {
                state: state.label(),
            });
        }
        registry.register(
            "zookeeper_sessions",
            "ZooKeeper sessions of this process by state (a session that expired, was closed or failed authentication is no longer counted)",
            self.sessions.clone(),
        );
        registry.register(
            "zookeeper_reconnects",
            "Connections re-established to a live session after a drop",
            self.reconnects.clone(),
        );
        registry.register(
            "zookeeper_session_expiries",
            "Sessions the server expired",
            self.expiries.clone(),
        );
        registry.register(
            "zookeeper_requests",
            "Requests sent, by kind (read, write, multi)",
            self.requests.clone(),
        );
    }

    /// A session moved from `from` to `to` (`None`: not counted, i.e.
    /// before it was established or after it ended).
    pub fn session_state(&self, from: Option<SessionState>, to: Option<SessionState>) {
        if from == to {
            return;
        }
        if let Some(from) = from {
            self.sessions
                .get_or_create(&StateLabels {
                    state: from.label(),
                })
                .dec();
        }
        if let Some(to) = to {
            self.sessions
                .get_or_create(&StateLabels { state: to.label() })
                .inc();
        }
    }

    /// A dropped connection of a live session came back.
    pub fn reconnected(&self) {
        self.reconnects.inc();
    }

    /// The server expired a session.
    pub fn expired(&self) {
        self.expiries.inc();
    }

    /// One request of `kind` (`read`, `write`, `multi`) was sent.
    pub fn request(&self, kind: &'static str) {
        self.requests.get_or_create(&KindLabels { kind }).inc();
    }
}

#[cfg(test)]
mod tests {
    use crate::{Format, Metrics, SessionState};

    #[test]
    fn sessions_move_between_states() {
        let metrics = Metrics::new();
        let zk = &metrics.zookeeper;
        zk.session_state(None, Some(SessionState::Connected));
        zk.session_state(
            Some(SessionState::Connected),
            Some(SessionState::Disconnected),
        );
        zk.session_state(
            Some(SessionState::Disconnected),
            Some(SessionState::Connected),
        );
        zk.reconnected();
        zk.request("read");
        let text = metrics.encode(Format::Text);
        assert!(text.contains("strand_zookeeper_sessions{state=\"connected\"} 1\n"));
        assert!(text.contains("strand_zookeeper_sessions{state=\"disconnected\"} 0\n"));
        assert!(text.contains("strand_zookeeper_requests_total{kind=\"read\"} 1\n"));
        zk.session_state(Some(SessionState::Connected), None);
        zk.expired();
        let text = metrics.encode(Format::Text);
        assert!(text.contains("strand_zookeeper_sessions{state=\"connected\"} 0\n"));
        assert!(text.contains("strand_zookeeper_session_expiries_total 1\n"));
    }
}
