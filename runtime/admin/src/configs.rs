//! Config records edited as ZNRecords, as Helix's REST `configs` endpoints
//! do: the ClusterConfig, an InstanceConfig and a ResourceConfig, read whole
//! and changed by a top-level update or by removing the keys listed.

use strand_model::{PropertyPaths, ZNRecord};
use strand_zk::Update;

use crate::Admin;
use crate::error::{AdminError, Result};

/// How an edit record is applied to a stored record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordEdit {
    /// Helix `update`: every simple field, and every list and map field
    /// named in the edit, replaces the stored one.
    Update,
    /// Helix `subtract`: every simple and list key named in the edit is
    /// removed; for map fields, the inner keys listed (all of it when the
    /// edit's inner map is empty).
    Delete,
}

impl RecordEdit {
    /// Parses Helix's `command` value (`update` or `delete`).
    pub fn parse(command: &str) -> Option<Self> {
        match command {
            "update" => Some(Self::Update),
            "delete" => Some(Self::Delete),
            _ => None,
        }
    }

    /// Applies `edit` to `record`.
    pub fn apply(self, record: &mut ZNRecord, edit: &ZNRecord) {
        match self {
            Self::Update => record.update(edit),
            Self::Delete => record.subtract(edit),
        }
    }
}

/// Refuses an edit record whose id is not the record it is meant for.
pub(crate) fn require_id(edit: &ZNRecord, expected: &str, what: &str) -> Result<()> {
    if edit.id == expected {
        Ok(())
    } else {
        Err(AdminError::Invalid(format!(
            "the record's id {:?} does not match {what} {expected:?}",
            edit.id
        )))
    }
}

impl Admin {
    /// The cluster's ClusterConfig record.
    pub async fn cluster_config(&self, cluster: &str) -> Result<ZNRecord> {
        self.require_cluster(cluster).await?;
        self.accessor()
            .get(&PropertyPaths::new(cluster).cluster_config())
            .await?
            .map(|v| v.value)
            .ok_or_else(|| AdminError::NoSuchCluster(cluster.to_owned()))
    }

    /// Edits the ClusterConfig; `edit.id` must be the cluster name.
    pub async fn edit_cluster_config(
        &self,
        cluster: &str,
        how: RecordEdit,
        edit: &ZNRecord,
    ) -> Result<()> {
        self.require_cluster(cluster).await?;
        require_id(edit, cluster, "cluster")?;
        self.edit_existing(&PropertyPaths::new(cluster).cluster_config(), how, edit)
            .await?
            .ok_or_else(|| AdminError::NoSuchCluster(cluster.to_owned()))
    }

    /// An instance's InstanceConfig record.
    pub async fn instance_config(&self, cluster: &str, instance: &str) -> Result<ZNRecord> {
        self.require_cluster(cluster).await?;
        self.accessor()
            .get(&PropertyPaths::new(cluster).instance_config(instance))
            .await?
            .map(|v| v.value)
            .ok_or_else(|| no_such_instance(cluster, instance))
    }

    /// Edits an InstanceConfig; `edit.id` must be the instance id.
    pub async fn edit_instance_config(
        &self,
        cluster: &str,
        instance: &str,
        how: RecordEdit,
        edit: &ZNRecord,
    ) -> Result<()> {
        self.require_instance(cluster, instance).await?;
        require_id(edit, instance, "instance")?;
        self.edit_existing(
            &PropertyPaths::new(cluster).instance_config(instance),
            how,
            edit,
        )
        .await?
        .ok_or_else(|| no_such_instance(cluster, instance))
    }

    /// A resource's ResourceConfig record, if it has one.
    pub async fn resource_config(&self, cluster: &str, resource: &str) -> Result<Option<ZNRecord>> {
        self.require_cluster(cluster).await?;
        crate::names::validate("resource", resource)?;
        Ok(self
            .accessor()
            .get(&PropertyPaths::new(cluster).resource_config(resource))
            .await?
            .map(|v| v.value))
    }

    /// Edits a resource's ResourceConfig (an update creates it when
    /// missing); `edit.id` must be the resource name, and the resource must
    /// have an IdealState.
    pub async fn edit_resource_config(
        &self,
        cluster: &str,
        resource: &str,
        how: RecordEdit,
        edit: &ZNRecord,
    ) -> Result<()> {
        self.ideal_state(cluster, resource).await?;
        require_id(edit, resource, "resource")?;
        let path = PropertyPaths::new(cluster).resource_config(resource);
        self.accessor()
            .update(&path, how == RecordEdit::Update, |current| {
                let mut record = current.unwrap_or_else(|| ZNRecord::new(resource));
                how.apply(&mut record, edit);
                Update::Write(record)
            })
            .await?;
        Ok(())
    }

    /// Applies an edit to an existing record with compare-and-set; `None`
    /// when the znode is missing (nothing is created).
    pub(crate) async fn edit_existing(
        &self,
        path: &str,
        how: RecordEdit,
        edit: &ZNRecord,
    ) -> Result<Option<()>> {
        let mut found = false;
        self.accessor()
            .update(path, false, |current| {
                let Some(mut record) = current else {
                    found = false;
                    return Update::Keep;
                };
                found = true;
                how.apply(&mut record, edit);
                Update::Write(record)
            })
            .await?;
        Ok(found.then_some(()))
    }
}

pub(crate) fn no_such_instance(cluster: &str, instance: &str) -> AdminError {
    AdminError::NoSuchInstance {
        cluster: cluster.to_owned(),
        instance: instance.to_owned(),
    }
}
