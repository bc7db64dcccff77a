//! The controller against a real ZooKeeper (a private server per test),
//! one binary with a module per area.

mod aggregator_plugins;
mod bad_records;
mod common;
mod faults;
mod leadership;
mod pipeline;
mod views;
