//! Strand's Prometheus metrics: the metric families of every part of a
//! Strand process — participant, plugin host, controller, ZooKeeper
//! sessions, routing table, HTTP API — and their exposition in Prometheus'
//! text format (or OpenMetrics, when the scraper asks for it).
//!
//! A process has one set of families, [`global`]; every part records into
//! it, and `strand`'s long-running commands serve it on `/metrics`
//! (`--metrics-listen`). Several participants or controllers in one
//! process add up (their labels say cluster, resource or state model,
//! never partition or instance names, so label sets stay bounded).
//! Recording is an atomic add (a label lookup first, for families), so the
//! parts record whether or not anything scrapes.
//!
//! Built on `prometheus-client`, the Prometheus project's own Rust client:
//! typed label sets (a struct per family, so a label cannot be misspelt or
//! forgotten at a call site), an explicit registry instead of macros over
//! a global recorder, both text formats, and no HTTP server of its own
//! (the command serves it with the axum the REST API already uses).
//!
//! Names follow Prometheus' conventions: the `strand_` prefix, base units
//! (`_seconds`), `_total` for counters.

mod controller;
mod exposition;
mod http;
mod participant;
mod plugins;
mod routing;
mod zookeeper;

use std::sync::OnceLock;

use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

pub use controller::{ControllerMetrics, ResourceGap, RunOutcome, RunWrites};
pub use exposition::{Format, OPENMETRICS_CONTENT_TYPE, TEXT_CONTENT_TYPE};
pub use http::{HttpMetrics, method_label};
pub use participant::{ParticipantMetrics, TransitionOutcome};
pub use plugins::{PluginCallOutcome, PluginMetrics};
pub use routing::RoutingMetrics;
pub use zookeeper::{SessionState, ZooKeeperMetrics};

/// Every metric family of a process, registered under the `strand_` prefix.
#[derive(Debug)]
pub struct Metrics {
    /// Transitions and messages of participants.
    pub participant: ParticipantMetrics,
    /// Plugin calls and active versions.
    pub plugins: PluginMetrics,
    /// Pipeline runs, writes, leadership and convergence of controllers.
    pub controller: ControllerMetrics,
    /// ZooKeeper sessions and requests.
    pub zookeeper: ZooKeeperMetrics,
    /// Routing tables (spectators).
    pub routing: RoutingMetrics,
    /// The HTTP API.
    pub http: HttpMetrics,
    registry: Registry,
}

impl Metrics {
    /// A fresh set of families, registered (for tests; a process records
    /// into [`global`]).
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("strand");
        let participant = ParticipantMetrics::default();
        participant.register(&mut registry);
        let plugins = PluginMetrics::default();
        plugins.register(&mut registry);
        let controller = ControllerMetrics::default();
        controller.register(&mut registry);
        let zookeeper = ZooKeeperMetrics::default();
        zookeeper.register(&mut registry);
        let routing = RoutingMetrics::default();
        routing.register(&mut registry);
        let http = HttpMetrics::default();
        http.register(&mut registry);
        Self {
            participant,
            plugins,
            controller,
            zookeeper,
            routing,
            http,
            registry,
        }
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// The process's metrics, created on first use.
pub fn global() -> &'static Metrics {
    static GLOBAL: OnceLock<Metrics> = OnceLock::new();
    GLOBAL.get_or_init(Metrics::new)
}

/// Buckets for durations, in seconds: 0.25 ms to about 33 s, doubling (a
/// transition's record write is a few ms, a hung plugin call its deadline).
pub(crate) fn seconds_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.000_25, 2.0, 18))
}
