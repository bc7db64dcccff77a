//! Cross-crate end-to-end tests live in `tests/tests/`: a real controller and
//! real participants running real plugin components (Rust, Python,
//! JavaScript), on a private ZooKeeper. This library holds what they share:
//! [`cluster`] (the cluster under test and its external-view polling, from
//! `strand-devcluster`),
//! [`master_watch`] (the never-two-MASTERs watcher, on consistent
//! samples), [`proxy`] (a TCP forwarder in front of ZooKeeper that a test
//! can cut), [`convergence`] (waiting for a MasterSlave resource to settle
//! with no message left) and [`scenarios`] (whole scenarios run against
//! several plugins).

/// The in-process cluster under test lives in `strand-devcluster`.
pub use strand_devcluster::cluster;
pub mod convergence;
pub mod master_watch;
pub mod proxy;
pub mod scenarios;
