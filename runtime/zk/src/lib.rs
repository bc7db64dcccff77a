//! ZooKeeper access for Strand, on `zookeeper-client`.
//!
//! Start with [`Zk::connect`] (one session), wrap it in an [`Accessor`] to
//! read and write ZNRecords with compare-and-set, and keep a subtree in
//! memory with a [`TreeCache`] so nothing polls ZooKeeper in a loop.
//! Session changes arrive as a stream from [`Zk::session_events`].
//! Digest credentials and the ACL creates carry are part of [`ZkConfig`]
//! ([`DigestCredentials`], [`CreateAcl`]).
//!
//! This crate does not depend on wasmtime: spectators and admin tools stay
//! light. The private ZooKeeper servers the quickstart and the tests run
//! live in `strand-devcluster`.

mod accessor;
mod auth;
mod backoff;
mod cache;
mod client;
mod error;
mod feed;
mod group_commit;
mod session_metrics;
mod watch;

pub use accessor::{Accessor, Update, Versioned};
pub use auth::{AclEntry, AuthError, CreateAcl, DigestCredentials};
pub use backoff::Backoff;
pub use cache::{CacheEvent, CacheOptions, CachedNode, PathFilter, StaticData, TreeCache};
pub use client::{CreateKind, Multi, RequestCounts, Stat, Zk, ZkConfig, join};
pub use error::{Result, ZkError};
pub use feed::{CacheFeed, FeedBatch};
pub use group_commit::{Edit, GroupCommit};
pub use watch::{NodeEvent, SessionEvent};
