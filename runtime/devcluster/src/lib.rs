//! Strand on one machine, for demos, benchmarks and tests: what
//! `strand quickstart`, `strand bench` and the integration tests share.
//! Product crates (controller, participant, spectator, REST, admin, the
//! ZooKeeper client, model, rebalance, plugin crates) never link it except
//! as a dev-dependency; the `strand` command does, for `quickstart` and
//! `bench`.
//!
//! * [`zookeeper`] — private ZooKeeper servers on loopback (Debian's
//!   `zookeeper` run with `java`), standalone or an ensemble, killed with
//!   their handle.
//! * [`server`] — [`Server`]: the ZooKeeper under a development cluster,
//!   private or given.
//! * [`plugins`] — the plugin components built from `plugins/`.
//! * [`loopback`] — stand-ins for the application a plugin reaches: HTTP,
//!   line and silent servers on loopback ports that record what reached
//!   them.
//! * [`registry`] — a plugin registry with state models installed.
//! * [`routes`] — waits on the routing table's change notifications
//!   (`strand-spectator`), never a polling loop, and the MasterSlave
//!   convergence they wait for.
//! * [`cluster`] — a cluster on one machine: its ZooKeeper, an admin
//!   client, one plugin registry shared by in-process participants, a
//!   routing table every wait is on; the integration tests' cluster.
//! * [`fleet`] — in-process participants kept by name, stopped and started
//!   again, with the ZooKeeper requests of all their sessions.

pub mod cluster;
pub mod fleet;
pub mod loopback;
pub mod plugins;
pub mod registry;
pub mod routes;
pub mod server;
pub mod zookeeper;

pub use server::Server;
