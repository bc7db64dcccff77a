//! [`ParticipantConfig`]: who the participant is and how it behaves.

use std::sync::Arc;
use std::time::Duration;

use strand_model::InstanceConfig;
use strand_plugin_host::net::InstanceAddress;
use strand_zk::ZkConfig;

/// How many transitions a participant runs at once unless told otherwise:
/// Helix's default (`TaskExecutor.DEFAULT_PARALLEL_TASKS` in
/// `helix-core/src/main/java/org/apache/helix/messaging/handling/`). More at
/// once also means larger group commits: transitions of one resource
/// finishing together share one current-state write.
pub const DEFAULT_MAX_PARALLEL_TRANSITIONS: usize = 40;

/// The `HELIX_VERSION` Strand participants write in their LiveInstance: the
/// Helix release whose protocol they speak, then Strand's own version. A
/// Java controller's compatibility check reads the leading numbers
/// (≥ 0.4 passes).
pub const HELIX_VERSION: &str = concat!("2.0.1-strand-", env!("CARGO_PKG_VERSION"));

/// How a participant joins and serves.
#[derive(Debug, Clone)]
pub struct ParticipantConfig {
    /// How to reach ZooKeeper.
    pub zk: ZkConfig,
    /// The cluster to join.
    pub cluster: String,
    /// The instance name, conventionally `host_port`.
    pub instance: String,
    /// The instance's `HELIX_HOST` and `HELIX_PORT`, which fill in the
    /// `{host}` and `{port}` of its plugins' network grants; by default
    /// what the name says (`host_port`, as `add-instance` splits it; a name
    /// without a port is the host).
    pub address: InstanceAddress,
    /// Create the InstanceConfig if it is missing. Without it the
    /// participant joins only if the instance was added, or the cluster
    /// allows auto-join (`allowParticipantAutoJoin`).
    pub auto_join: bool,
    /// Transitions of different partitions that may run at once (the
    /// slot rule of the README's participant section: one resource holds
    /// at most `N - max(1, N/4)`, failovers have a reserve).
    pub max_parallel_transitions: usize,
    /// How long a plugin call runs before it stops counting against
    /// `max_parallel_transitions` (it still counts for its resource).
    pub straggler_after: Duration,
    /// How long a graceful stop waits for transitions in flight.
    pub shutdown_deadline: Duration,
    /// How often a transition the plugin calls `retryable` is retried
    /// before the partition goes to ERROR.
    pub retry_limit: u32,
    /// Bumped when plugins are installed or swapped (e.g.
    /// [`ClusterPlugins::updates`](crate::ClusterPlugins::updates)): messages
    /// waiting for a state model with no plugin are looked at again.
    pub plugin_updates: Option<tokio::sync::watch::Receiver<u64>>,
    /// Called at each step boundary of every transition; for fault tests
    /// that cut the connection between two steps. `None` in production.
    pub step_hook: Option<StepHook>,
}

/// A step boundary of a transition, as seen by [`StepHook`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransitionStep {
    /// Accepted; next: mark the message read (and create the resource's
    /// current state if this session has none, in the same multi-op).
    BeforeMarkRead,
    /// Marked read; next: the plugin call.
    BeforePlugin,
    /// The plugin ran; next: the current-state write with the message's
    /// delete (one multi-op).
    BeforeRecord,
    /// Recorded and deleted: the transition is over.
    Done,
}

/// What a [`StepHook`] calls: the step reached and the message id.
pub type StepFn = dyn Fn(TransitionStep, &str) + Send + Sync;

/// A test hook called (synchronously, on an async worker: keep it short)
/// at every [`TransitionStep`] with the message id.
#[derive(Clone)]
pub struct StepHook(pub Arc<StepFn>);

impl std::fmt::Debug for StepHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StepHook")
    }
}

impl ParticipantConfig {
    /// A config with defaults: no auto-join, 40 parallel transitions
    /// (stragglers after 5 s), a 30 s shutdown deadline, 2 retries.
    pub fn new(zk: ZkConfig, cluster: impl Into<String>, instance: impl Into<String>) -> Self {
        let instance = instance.into();
        Self {
            zk,
            cluster: cluster.into(),
            address: address_of(&instance),
            instance,
            auto_join: false,
            max_parallel_transitions: DEFAULT_MAX_PARALLEL_TRANSITIONS,
            straggler_after: Duration::from_secs(5),
            shutdown_deadline: Duration::from_secs(30),
            retry_limit: 2,
            plugin_updates: None,
            step_hook: None,
        }
    }
}

/// `HELIX_HOST` and `HELIX_PORT` as the instance's name gives them.
pub fn address_of(instance: &str) -> InstanceAddress {
    match InstanceConfig::from_host_port(instance) {
        Ok(config) => InstanceAddress {
            host: config.host().unwrap_or(instance).to_owned(),
            port: config.port().and_then(|p| p.parse().ok()),
        },
        Err(_) => InstanceAddress {
            host: instance.to_owned(),
            port: None,
        },
    }
}
