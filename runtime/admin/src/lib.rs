//! Cluster administration for Strand: the operations of Helix's
//! `ClusterSetup` / `ZKHelixAdmin`, on the same znodes and records, so
//! clusters made here work with Java Helix and vice versa.
//!
//! Start with [`Admin::connect`]. Every operation validates first and
//! changes ZooKeeper atomically (one multi-op, or one compare-and-set), so
//! a refused or failed operation leaves the cluster exactly as it was.

mod aggregators;
mod cluster;
mod configs;
mod customized;
mod drain;
mod dump;
mod error;
mod info;
mod instance;
pub mod limits;
mod maintenance;
pub mod names;
pub mod placement;
mod reset;
mod resource;
mod resource_edit;
mod scoped_config;
mod state_models;
mod views;

pub use cluster::ClusterAcl;
pub use configs::RecordEdit;
pub use drain::{DrainGoal, DrainStatus, DrainWatch, HeldReplica, describe_left};
pub use dump::DumpedNode;
pub use error::{AdminError, Result};
pub use info::{ClusterInfo, InstanceInfo, ResourceInfo};
pub use instance::instance_config_for;
pub use scoped_config::{ConfigScope, parse_key_values, parse_keys};
pub use strand_model::RebalanceMode;
pub use views::ErrorIndex;

use strand_zk::{Accessor, Zk, ZkConfig};

/// Administration of the clusters on one ZooKeeper.
#[derive(Debug, Clone)]
pub struct Admin {
    accessor: Accessor,
}

impl Admin {
    /// Connects to ZooKeeper (`host:port[,…][/chroot]`) without
    /// credentials.
    pub async fn connect(connect: &str) -> Result<Self> {
        Self::connect_with(ZkConfig::new(connect)).await
    }

    /// Connects with a full configuration (credentials, create ACL, …).
    pub async fn connect_with(config: ZkConfig) -> Result<Self> {
        let zk = Zk::connect(config).await?;
        Ok(Self::new(zk))
    }

    /// Uses an existing session.
    pub fn new(zk: Zk) -> Self {
        Self {
            accessor: Accessor::new(zk),
        }
    }

    /// The session.
    pub fn zk(&self) -> &Zk {
        self.accessor.zk()
    }

    /// Record-level access on the same session.
    pub fn accessor(&self) -> &Accessor {
        &self.accessor
    }
}
