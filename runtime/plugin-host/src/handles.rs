//! The handles callers use to run plugins: [`StateModelHandle`] for
//! transitions (participants) and [`AggregatorHandle`] for customized-view
//! aggregation (controllers). A handle follows hot swaps: every call runs
//! entirely on the version current when it started.

use std::sync::Arc;

use strand_model::plugin::{AggregatorInfo, StateModelSpec};

use crate::bindings::aggregator::strand::aggregator::types::AggregateError;
use crate::bindings::state_model::strand::statemodel::types::TransitionError;
use crate::error::{CallError, Rejection};
use crate::kind::{AggregatorKind, StateModelKind};
use crate::options::CallOptions;
use crate::routing::RoutingChange;
use crate::slot::Slot;
use crate::version::VersionInfo;

pub use crate::bindings::aggregator::strand::aggregator::types::{InstanceState, PartitionStates};
pub use crate::bindings::state_model::strand::statemodel::types::TransitionContext;

/// A successful transition.
#[derive(Debug, Clone)]
pub struct TransitionOutcome {
    /// The plugin's note for the status update.
    pub note: String,
    /// The plugin version that ran the whole call.
    pub version: Arc<VersionInfo>,
}

/// A successful aggregation.
#[derive(Debug, Clone)]
pub struct AggregateOutcome {
    /// The partition's customized-view map.
    pub view: Vec<(String, String)>,
    /// The plugin version that ran the whole call.
    pub version: Arc<VersionInfo>,
}

/// Runs one state-model plugin. Cheap to clone; safe to call from many
/// threads at once (each concurrent call gets its own instance).
#[derive(Clone)]
pub struct StateModelHandle {
    pub(crate) slot: Arc<Slot<StateModelKind>>,
}

impl StateModelHandle {
    /// Performs one transition.
    ///
    /// # Errors
    /// [`CallError::Rejected`] for the plugin's `err` result (fatal,
    /// retryable, illegal transition); a fault variant for a trap, timeout or
    /// memory blow-up. The host keeps serving either way.
    pub fn transition(
        &self,
        ctx: &TransitionContext,
        opts: &CallOptions,
    ) -> Result<TransitionOutcome, CallError> {
        let v = self.slot.current();
        let result = v.call(opts, |b, s| {
            b.model.strand_statemodel_model().call_transition(s, ctx)
        })?;
        transition_result(result).map(|note| TransitionOutcome {
            note,
            version: v.info.clone(),
        })
    }

    /// Tells the plugin that the routing of a partition it holds changed
    /// (`strand:routing/watch`); `Ok(false)` without a call when the
    /// version serving does not export it.
    ///
    /// # Errors
    /// [`CallError::Rejected`] ([`Rejection::Failed`]) for the plugin's
    /// `err`; a fault variant as for [`transition`](Self::transition).
    pub fn routing_changed(
        &self,
        change: &RoutingChange,
        opts: &CallOptions,
    ) -> Result<bool, CallError> {
        let v = self.slot.current();
        if !v.pre().watches_routing() {
            return Ok(false);
        }
        let result = v.call(opts, |b, s| match &b.watch {
            Some(watch) => watch.call_routing_changed(s, change),
            None => Ok(Ok(())),
        })?;
        result
            .map(|()| true)
            .map_err(|message| CallError::Rejected {
                kind: Rejection::Failed,
                message,
            })
    }

    /// Whether the version serving exports `strand:routing/watch` (world
    /// `strand:plugins/replicated-state-model`).
    pub fn watches_routing(&self) -> bool {
        self.slot.current().pre().watches_routing()
    }

    /// Whether the version serving uses the routing table (imports
    /// `strand:routing/lookup` or exports `strand:routing/watch`): its calls
    /// should carry [`CallOptions::routing`].
    pub fn uses_routing(&self) -> bool {
        self.slot.current().pre().uses_routing()
    }

    /// The definition of the version currently serving.
    pub fn definition(&self) -> StateModelSpec {
        self.slot.current().descriptor.clone()
    }

    /// The version currently serving.
    pub fn version(&self) -> Arc<VersionInfo> {
        self.slot.current().info.clone()
    }

    /// Idle instances pooled for the current version (for diagnostics).
    pub fn idle_instances(&self) -> usize {
        self.slot.current().idle_instances()
    }
}

/// A transition's `result` as the caller sees it: the note, or the
/// plugin's rejection.
pub(crate) fn transition_result(
    result: Result<String, TransitionError>,
) -> Result<String, CallError> {
    result.map_err(|e| {
        let (kind, message) = match e {
            TransitionError::Fatal(m) => (Rejection::Fatal, m),
            TransitionError::Retryable(m) => (Rejection::Retryable, m),
            TransitionError::IllegalTransition(m) => (Rejection::IllegalTransition, m),
        };
        CallError::Rejected { kind, message }
    })
}

/// Runs one aggregator plugin. Cheap to clone; safe to call concurrently.
#[derive(Clone)]
pub struct AggregatorHandle {
    pub(crate) slot: Arc<Slot<AggregatorKind>>,
}

impl AggregatorHandle {
    /// Aggregates one partition's per-instance states into its view.
    ///
    /// # Errors
    /// As [`StateModelHandle::transition`]; the `err` cases are
    /// [`Rejection::InvalidInput`] and [`Rejection::Failed`].
    pub fn aggregate(
        &self,
        input: &PartitionStates,
        opts: &CallOptions,
    ) -> Result<AggregateOutcome, CallError> {
        let v = self.slot.current();
        let result = v.call(opts, |b, s| {
            b.strand_aggregator_aggregate().call_aggregate(s, input)
        })?;
        match result {
            Ok(view) => Ok(AggregateOutcome {
                view,
                version: v.info.clone(),
            }),
            Err(AggregateError::InvalidInput(m)) => Err(CallError::Rejected {
                kind: Rejection::InvalidInput,
                message: m,
            }),
            Err(AggregateError::Failed(m)) => Err(CallError::Rejected {
                kind: Rejection::Failed,
                message: m,
            }),
        }
    }

    /// The info of the version currently serving.
    pub fn info(&self) -> AggregatorInfo {
        self.slot.current().descriptor.clone()
    }

    /// The version currently serving.
    pub fn version(&self) -> Arc<VersionInfo> {
        self.slot.current().info.clone()
    }
}
