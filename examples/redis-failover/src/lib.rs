//! Strand keeping real Redis servers highly available: one resource of
//! several partitions × 3 replicas, each replica a `redis-server` on its
//! node, the `RedisMasterSlave` plugin (`plugins/redis-master-slave`)
//! turning Helix transitions into `REPLICAOF`, a client writing through the
//! routing table, and an independent watcher asking every server its
//! `ROLE`.
//!
//! * [`cluster`] — the Strand side set up and running: ZooKeeper, the
//!   controller, three nodes, the routing table.
//! * [`layout`] — the cluster's shape: nodes, their Helix and Redis ports.
//! * [`node`] — one node: `strand participant … -- <launcher>` in its own
//!   processes, the launcher running the node's redis-servers; graceful
//!   stop, kill -9 of one redis-server or of the whole node.
//! * [`redis_io`] — the few Redis calls the example makes from outside.
//! * [`watcher`] — never two Redis masters: `ROLE` of every server, counted
//!   only when two reads in a row agree.
//! * [`writer`] — writes through the routing table, remembers every
//!   acknowledged write, and checks afterwards that each is readable.
//! * [`scenario`] — the whole run: set up, converge, a graceful stop, a
//!   kill -9 of a MASTER's redis-server, a kill -9 of a node, each followed
//!   by the node's return; its [`Report`](scenario::Report).
//! * [`bench`] — the same servers under Strand and under Redis Sentinel:
//!   the time from each fault to a writable new master, side by side.

pub mod bench;
pub mod cluster;
pub mod layout;
pub mod node;
pub mod redis_io;
pub mod scenario;
pub mod watcher;
pub mod writer;
