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
//! * `trigger` — what a changed znode is, and the Helix event it raises.
//! * `model` — the leader's typed mirror of its cache, updated change by
//!   change, with the marks (`dirty`) of what each change affects.
//! * `decide` — the pure half of a run: from the model and the marks to
//!   messages and views (best possible states, transitions).
//! * [`pipeline`] — one run over what is marked: decide, then write.
//! * `offline_history` — offline reports a crashed participant did not
//!   make in its history.
//! * `dispatch` — fenced writes: messages, deletes, views.
//! * `views` — the views as they should be, and when to write them.
//! * [`aggregate`] — customized-view aggregation, default or bound
//!   aggregators.
//! * `status_record` — the leader's status record in the property store
//!   (`PROPERTYSTORE/STRAND/CONTROLLER`: leader, last run, held-back
//!   resources), for readers outside the process.
//! * `plugin_aggregators` — aggregator plugins bound by the cluster config
//!   (`strand admin set-aggregator`), loaded from the cluster's plugin store.
//!
//! The decisions themselves are pure functions in `strand_rebalance`.

pub mod aggregate;
#[doc(hidden)]
pub mod bench;
pub mod controller;
mod decide;
mod dirty;
mod dispatch;
mod election;
mod error;
mod model;
mod offline_history;
pub mod pipeline;
mod plugin_aggregators;
mod status_record;
mod trigger;
mod views;

pub use aggregate::{Aggregators, InstanceFields, PartitionInput, ViewAggregator};
pub use controller::{Controller, ControllerConfig, ControllerHandle, Role, Status};
pub use election::HELIX_VERSION;
pub use error::{ControllerError, Result};
pub use pipeline::RunReport;
pub use status_record::STATUS_RECORD;
