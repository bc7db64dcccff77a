//! The Strand controller: makes a set of participants a cluster, speaking
//! Apache Helix 2.x's protocol over ZooKeeper.
//!
//! Start with [`Controller::start`]; it returns a [`ControllerHandle`] to
//! follow ([`ControllerHandle::status`], [`ControllerHandle::wait_converged`])
//! and stop ([`ControllerHandle::shutdown`]) it.
//!
//! * [`controller`] — life cycle: sessions, election, leadership, runs
//!   driven by cache changes.
//! * `election` — the `CONTROLLER/LEADER` ephemeral and `HISTORY`.
//! * `trigger` — which changes call for a run, under which event name.
//! * `read` — one run's view of the cluster, from the cache.
//! * [`pipeline`] — one run: best possible states, messages, views.
//! * `dispatch` — fenced writes: messages, deletes, views.
//! * `views` — which external and customized views change.
//! * [`aggregate`] — customized-view aggregation, default or bound
//!   aggregators.
//! * `plugin_aggregators` — aggregator plugins bound by the cluster config
//!   (`strand admin set-aggregator`), loaded from the cluster's plugin store.
//!
//! The decisions themselves are pure functions in `strand_rebalance`.

pub mod aggregate;
pub mod controller;
mod dispatch;
mod election;
mod error;
pub mod pipeline;
mod plugin_aggregators;
mod read;
mod trigger;
mod views;

pub use aggregate::{Aggregators, InstanceFields, PartitionInput, ViewAggregator};
pub use controller::{Controller, ControllerConfig, ControllerHandle, Role, Status};
pub use election::HELIX_VERSION;
pub use error::{ControllerError, Result};
pub use pipeline::RunReport;
