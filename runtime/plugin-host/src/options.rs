//! Options of a plugin (set when it is installed) and of a single call.

use std::sync::Arc;
use std::time::Duration;

use crate::customized::CustomizedStateStore;
use crate::grants::Grants;
use crate::limits::Limits;
use crate::net::InstanceAddress;
use crate::routing::RoutingLookup;
use crate::swap::SwapPolicy;

/// How one plugin runs: its limits, WASI grants, the customized-state store
/// its calls use by default, and which definition changes a swap accepts.
#[derive(Clone, Default)]
pub struct PluginOptions {
    /// Deadline per call and memory cap per instance.
    pub limits: Limits,
    /// WASI capabilities (none by default).
    pub grants: Grants,
    /// The participant's customized state; a call may override it. Without
    /// one, the plugin's customized-state calls fail as `unavailable`.
    pub customized_state: Option<Arc<dyn CustomizedStateStore>>,
    /// Which definition changes a hot swap accepts.
    pub swap_policy: SwapPolicy,
}

impl std::fmt::Debug for PluginOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginOptions")
            .field("limits", &self.limits)
            .field("grants", &self.grants)
            .field("customized_state", &self.customized_state.is_some())
            .field("swap_policy", &self.swap_policy)
            .finish()
    }
}

/// Overrides for one call.
#[derive(Clone, Default)]
pub struct CallOptions {
    /// The call's deadline instead of the plugin's.
    pub deadline: Option<Duration>,
    /// The customized-state store instead of the plugin's.
    pub customized_state: Option<Arc<dyn CustomizedStateStore>>,
    /// The instance the call runs for: its `HELIX_HOST` and `HELIX_PORT`
    /// fill in the `{host}` and `{port}` of the plugin's network grants
    /// (without it, rules naming them grant nothing).
    pub instance: Option<InstanceAddress>,
    /// The participant's routing table, for `strand:routing/lookup`
    /// (without it, lookups answer nothing).
    pub routing: Option<Arc<dyn RoutingLookup>>,
}

impl CallOptions {
    /// Options with only a deadline.
    pub fn with_deadline(deadline: Duration) -> Self {
        Self {
            deadline: Some(deadline),
            ..Self::default()
        }
    }
}

impl std::fmt::Debug for CallOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallOptions")
            .field("deadline", &self.deadline)
            .field("customized_state", &self.customized_state.is_some())
            .field("instance", &self.instance)
            .field("routing", &self.routing.is_some())
            .finish()
    }
}
