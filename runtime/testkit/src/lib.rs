//! Test support for Strand: private ZooKeeper servers on loopback and the
//! paths of the plugin components built from `plugins/`.
//!
//! Integration tests use real parts only: [`zookeeper`] starts Debian's
//! ZooKeeper server in a temp dir, and [`plugins`] locates the real
//! `.wasm` components.

pub mod plugins;
pub mod zookeeper;
