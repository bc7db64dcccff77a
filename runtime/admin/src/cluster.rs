//! Cluster-level operations: create (as `ClusterSetup.addCluster` does,
//! with the built-in state models), drop, list, and the setup check.

use strand_model::{ClusterConfig, ControllerHistory, PropertyPaths, builtin};
use strand_zk::{AclEntry, CreateKind};

use crate::Admin;
use crate::error::{AdminError, Result};

/// Who may change a cluster created with [`Admin::add_cluster_with_acl`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterAcl {
    /// Principals besides the creating session's own (which always has
    /// every permission): `digest:user:HASH:cdrwa`, `sasl:name:cdrwa`, …
    pub principals: Vec<AclEntry>,
    /// Whether everyone may read and list the cluster (`world:anyone:r`),
    /// as Helix spectators and tools without credentials need.
    pub public_reads: bool,
}

impl Default for ClusterAcl {
    fn default() -> Self {
        Self {
            principals: Vec::new(),
            public_reads: true,
        }
    }
}

impl ClusterAcl {
    /// The ACL entries every znode of the cluster carries.
    pub fn entries(&self) -> Vec<AclEntry> {
        let mut entries = vec![AclEntry::creator_all()];
        entries.extend(self.principals.iter().cloned());
        if self.public_reads && !entries.iter().any(|e| e.scheme() == "world") {
            entries.push(AclEntry::world_read());
        }
        entries
    }
}

impl Admin {
    /// Creates a cluster: every znode `ZKHelixAdmin.addCluster` creates plus
    /// the built-in state model definitions `ClusterSetup.addCluster`
    /// installs — in one atomic multi-op, so a failure leaves nothing.
    ///
    /// # Errors
    /// [`AdminError::ClusterExists`] if `/<cluster>` exists.
    pub async fn add_cluster(&self, cluster: &str) -> Result<()> {
        self.create_cluster(cluster, None).await
    }

    /// [`Admin::add_cluster`] with an ACL on every znode of the cluster:
    /// only this session's principal (and `acl`'s others) may change it;
    /// everyone may read unless `acl` says otherwise. Strand sessions with
    /// credentials then give everything they create there the same ACL.
    ///
    /// # Errors
    /// [`AdminError::Invalid`] when this session has no credentials (no one
    /// could change the cluster afterwards).
    pub async fn add_cluster_with_acl(&self, cluster: &str, acl: &ClusterAcl) -> Result<()> {
        if self.zk().config().credentials.is_none() {
            return Err(AdminError::Invalid(
                "a cluster with an ACL needs ZooKeeper credentials (--zk-auth-file or \
                 STRAND_ZK_AUTH_FILE): without them no one could change it afterwards"
                    .into(),
            ));
        }
        self.create_cluster(cluster, Some(acl.entries())).await
    }

    async fn create_cluster(&self, cluster: &str, acl: Option<Vec<AclEntry>>) -> Result<()> {
        crate::names::validate("cluster", cluster)?;
        let root = PropertyPaths::new(cluster).cluster();
        if self.zk().exists(&root).await?.is_some() {
            return Err(AdminError::ClusterExists(cluster.to_owned()));
        }
        let paths = PropertyPaths::new(cluster);
        let mut multi = self.zk().multi();
        if let Some(entries) = acl {
            multi.with_acl(entries);
        }
        for path in paths.cluster_creation_paths() {
            let data = if path == paths.cluster_config() {
                ClusterConfig::new(cluster).record().to_bytes()?
            } else if path == paths.controller_history() {
                ControllerHistory::new(cluster).record().to_bytes()?
            } else {
                Vec::new()
            };
            multi.create(path, data, CreateKind::Persistent);
        }
        for model in builtin::all() {
            let path = paths.state_model_def(model.id());
            multi.create(path, model.record().to_bytes()?, CreateKind::Persistent);
        }
        multi.commit().await.map_err(|err| match err {
            strand_zk::ZkError::Multi { ref source, .. } if source.is_node_exists() => {
                AdminError::ClusterExists(cluster.to_owned())
            }
            other => other.into(),
        })
    }

    /// Deletes a cluster and everything in it. Refused while any instance
    /// is live or a controller leads it (as Helix's `dropCluster`).
    pub async fn drop_cluster(&self, cluster: &str) -> Result<()> {
        self.require_cluster(cluster).await?;
        let live = self
            .zk()
            .children(&PropertyPaths::new(cluster).live_instances())
            .await?;
        if !live.is_empty() {
            return Err(AdminError::Refused(format!(
                "cluster {cluster} still has live instances: {}",
                live.join(", ")
            )));
        }
        if self
            .zk()
            .exists(&PropertyPaths::new(cluster).controller_leader())
            .await?
            .is_some()
        {
            return Err(AdminError::Refused(format!(
                "cluster {cluster} still has a leading controller; stop it first"
            )));
        }
        self.zk()
            .delete_recursive(&PropertyPaths::new(cluster).cluster())
            .await?;
        Ok(())
    }

    /// The clusters on this ZooKeeper: top-level znodes that pass Helix's
    /// `isClusterSetup` check.
    pub async fn list_clusters(&self) -> Result<Vec<String>> {
        let mut clusters = Vec::new();
        for name in self.zk().children("/").await? {
            if name != "zookeeper" && self.is_cluster_setup(&name).await? {
                clusters.push(name);
            }
        }
        Ok(clusters)
    }

    /// Helix's `ZKUtil.isClusterSetup`: the 14 required paths exist (a
    /// name no cluster can have is [`AdminError::Invalid`]).
    pub async fn is_cluster_setup(&self, cluster: &str) -> Result<bool> {
        crate::names::validate("cluster", cluster)?;
        for path in PropertyPaths::new(cluster).cluster_setup_required_paths() {
            if self.zk().exists(&path).await?.is_none() {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Fails with [`AdminError::NoSuchCluster`] unless the cluster is set
    /// up ([`AdminError::Invalid`] for a name no cluster can have).
    pub(crate) async fn require_cluster(&self, cluster: &str) -> Result<()> {
        crate::names::validate("cluster", cluster)?;
        if self.is_cluster_setup(cluster).await? {
            Ok(())
        } else {
            Err(AdminError::NoSuchCluster(cluster.to_owned()))
        }
    }
}
