//! Turning a [`StateModel`] or an [`Aggregator`] into a component's exports.
//!
//! [`export_state_model!`](crate::export_state_model) and
//! [`export_aggregator!`](crate::export_aggregator) put the value in a
//! `static`, give it a type implementing [`ExportedStateModel`] or
//! [`ExportedAggregator`] (whose blanket impls below are the generated
//! `Guest` traits), and expand the world's `export!` macro for that type. The
//! expansion must happen in the plugin crate: only there do the exports and
//! the full world description enter the component.

use crate::aggregator::{Aggregator, Partition};
use crate::bindings::aggregator::exports::strand::aggregator::aggregate;
use crate::bindings::aggregator::strand::aggregator::types as agg_types;
use crate::bindings::routing_watch::exports::strand::routing::watch;
use crate::bindings::state_model::exports::strand::statemodel::model;
use crate::bindings::state_model::strand::routing::lookup::RoutingChange;
use crate::bindings::state_model::strand::statemodel::types as sm_types;
use crate::model::{StateModel, Transition};
use crate::routing::ReplicatedStateModel;

/// The exported state model of a plugin crate (implemented by
/// [`export_state_model!`](crate::export_state_model)).
#[doc(hidden)]
pub trait ExportedStateModel {
    /// The model the component's exports call.
    fn model() -> &'static (dyn StateModel + Sync);
}

impl<T: ExportedStateModel> model::Guest for T {
    fn definition() -> sm_types::ModelDefinition {
        T::model().definition()
    }

    fn transition(ctx: sm_types::TransitionContext) -> Result<String, sm_types::TransitionError> {
        T::model().transition(&Transition::new(ctx))
    }
}

/// The exported replicated state model of a plugin crate (implemented by
/// [`export_replicated_state_model!`](crate::export_replicated_state_model)).
#[doc(hidden)]
pub trait ExportedReplicatedStateModel {
    /// The model the component's exports call.
    fn model() -> &'static (dyn ReplicatedStateModel + Sync);
}

impl<T: ExportedReplicatedStateModel> ExportedStateModel for T {
    fn model() -> &'static (dyn StateModel + Sync) {
        <T as ExportedReplicatedStateModel>::model()
    }
}

impl<T: ExportedReplicatedStateModel> watch::Guest for T {
    fn routing_changed(change: RoutingChange) -> Result<(), String> {
        T::model().routing_changed(&change)
    }
}

/// The exported aggregator of a plugin crate (implemented by
/// [`export_aggregator!`](crate::export_aggregator)).
#[doc(hidden)]
pub trait ExportedAggregator {
    /// The aggregator the component's exports call.
    fn aggregator() -> &'static (dyn Aggregator + Sync);
}

impl<T: ExportedAggregator> aggregate::Guest for T {
    fn info() -> agg_types::AggregatorInfo {
        T::aggregator().info()
    }

    fn aggregate(
        input: agg_types::PartitionStates,
    ) -> Result<Vec<(String, String)>, agg_types::AggregateError> {
        T::aggregator().aggregate(&Partition::new(input))
    }
}

/// Exports a [`StateModel`] as this component's
/// `strand:statemodel/model@0.1.0` (world `strand:plugins/state-model`).
///
/// Call it once, at the root of a `cdylib` crate, with a constant expression
/// of a type that implements [`StateModel`] and is `Sync`: a
/// [`ModelSpec`](crate::ModelSpec) (Helix's usual behaviour, no code) or a
/// value of your own type (often a unit struct). The crate docs show both.
#[macro_export]
macro_rules! export_state_model {
    ($model:expr $(,)?) => {
        const _: () = {
            static __STRAND_STATE_MODEL: &(dyn $crate::StateModel + Sync) = &$model;

            struct __StrandStateModel;

            impl $crate::__private::ExportedStateModel for __StrandStateModel {
                fn model() -> &'static (dyn $crate::StateModel + Sync) {
                    __STRAND_STATE_MODEL
                }
            }

            $crate::bindings::state_model::__export_state_model_world!(
                __StrandStateModel with_types_in $crate::bindings::state_model
            );
        };
    };
}

/// Exports a [`ReplicatedStateModel`] as this component's
/// `strand:statemodel/model@0.1.0` and `strand:routing/watch@0.1.0` (world
/// `strand:plugins/replicated-state-model`).
///
/// Call it once, at the root of a `cdylib` crate, with a constant expression
/// of a type that implements [`ReplicatedStateModel`] and is `Sync`.
///
/// [`ReplicatedStateModel`]: crate::ReplicatedStateModel
#[macro_export]
macro_rules! export_replicated_state_model {
    ($model:expr $(,)?) => {
        const _: () = {
            static __STRAND_STATE_MODEL: &(dyn $crate::ReplicatedStateModel + Sync) = &$model;

            struct __StrandStateModel;

            impl $crate::__private::ExportedReplicatedStateModel for __StrandStateModel {
                fn model() -> &'static (dyn $crate::ReplicatedStateModel + Sync) {
                    __STRAND_STATE_MODEL
                }
            }

            $crate::bindings::state_model::__export_state_model_world!(
                __StrandStateModel with_types_in $crate::bindings::state_model
            );
            $crate::bindings::routing_watch::__export_routing_watch_world!(
                __StrandStateModel with_types_in $crate::bindings::routing_watch
            );
        };
    };
}

/// Exports an [`Aggregator`] as this component's
/// `strand:aggregator/aggregate@0.1.0` (world `strand:plugins/aggregator`).
///
/// Call it once, at the root of a `cdylib` crate, with a constant expression
/// of a type that implements [`Aggregator`] and is `Sync` (often a unit
/// struct).
#[macro_export]
macro_rules! export_aggregator {
    ($aggregator:expr $(,)?) => {
        const _: () = {
            static __STRAND_AGGREGATOR: &(dyn $crate::Aggregator + Sync) = &$aggregator;

            struct __StrandAggregator;

            impl $crate::__private::ExportedAggregator for __StrandAggregator {
                fn aggregator() -> &'static (dyn $crate::Aggregator + Sync) {
                    __STRAND_AGGREGATOR
                }
            }

            $crate::bindings::aggregator::__export_aggregator_world!(
                __StrandAggregator with_types_in $crate::bindings::aggregator
            );
        };
    };
}
