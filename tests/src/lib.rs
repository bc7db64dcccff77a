//! Cross-crate end-to-end tests live in `tests/tests/`: a real controller and
//! real participants running real plugin components (Rust, Python,
//! JavaScript), on a private ZooKeeper. This library holds what they share:
//! [`cluster`] (the cluster under test and its external-view polling),
//! [`master_watch`] (the never-two-MASTERs watcher) and [`scenarios`]
//! (whole scenarios run against several plugins).

pub mod cluster;
pub mod master_watch;
pub mod scenarios;
