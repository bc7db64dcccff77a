//! Read-only lookups of a cluster's records for tools such as the REST
//! API: instances and their live sessions, current states, messages and
//! error records, resources, views and the leading controller. Each checks
//! that the cluster (and instance) exists first, so "unknown cluster" and
//! "no such record" stay distinct.

use std::collections::BTreeMap;

use strand_model::{Message, PropertyPaths, SessionId, ZNRecord};

use crate::Admin;
use crate::error::Result;

/// An instance's error records: session → resource → partitions.
pub type ErrorIndex = BTreeMap<String, BTreeMap<String, Vec<String>>>;

impl Admin {
    /// The cluster's instances (those with an InstanceConfig).
    pub async fn list_instances(&self, cluster: &str) -> Result<Vec<String>> {
        self.require_cluster(cluster).await?;
        self.children(&PropertyPaths::new(cluster).instance_configs())
            .await
    }

    /// The instances with a LiveInstance.
    pub async fn list_live_instances(&self, cluster: &str) -> Result<Vec<String>> {
        self.require_cluster(cluster).await?;
        self.children(&PropertyPaths::new(cluster).live_instances())
            .await
    }

    /// An instance's LiveInstance record and its session, if it is live.
    pub async fn live_instance(
        &self,
        cluster: &str,
        instance: &str,
    ) -> Result<Option<(ZNRecord, SessionId)>> {
        self.require_instance(cluster, instance).await?;
        Ok(self
            .accessor()
            .get(&PropertyPaths::new(cluster).live_instance(instance))
            .await?
            .map(|v| (v.value, SessionId::from_i64(v.stat.ephemeral_owner))))
    }

    /// Resources with a current state under the instance's live session
    /// (none when it is not live).
    pub async fn current_state_resources(
        &self,
        cluster: &str,
        instance: &str,
    ) -> Result<Vec<String>> {
        let Some((_, session)) = self.live_instance(cluster, instance).await? else {
            return Ok(Vec::new());
        };
        self.children(&PropertyPaths::new(cluster).current_states(instance, session))
            .await
    }

    /// The instance's current state of `resource` in its live session.
    pub async fn current_state_record(
        &self,
        cluster: &str,
        instance: &str,
        resource: &str,
    ) -> Result<Option<ZNRecord>> {
        crate::names::validate("resource", resource)?;
        let Some((_, session)) = self.live_instance(cluster, instance).await? else {
            return Ok(None);
        };
        Ok(self
            .accessor()
            .get(&PropertyPaths::new(cluster).current_state(instance, session, resource))
            .await?
            .map(|v| v.value))
    }

    /// The instance's messages (id and record), in id order.
    pub async fn messages(&self, cluster: &str, instance: &str) -> Result<Vec<Message>> {
        self.require_instance(cluster, instance).await?;
        let paths = PropertyPaths::new(cluster);
        let mut found = Vec::new();
        for id in self.children(&paths.messages(instance)).await? {
            // A message deleted between the listing and the read is gone.
            if let Some(v) = self.accessor().get(&paths.message(instance, &id)).await? {
                found.push(Message::from(v.value));
            }
        }
        Ok(found)
    }

    /// One message of the instance.
    pub async fn message(
        &self,
        cluster: &str,
        instance: &str,
        msg_id: &str,
    ) -> Result<Option<ZNRecord>> {
        self.require_instance(cluster, instance).await?;
        crate::names::validate("message", msg_id)?;
        Ok(self
            .accessor()
            .get(&PropertyPaths::new(cluster).message(instance, msg_id))
            .await?
            .map(|v| v.value))
    }

    /// The instance's error records (`ERRORS/<session>/<resource>/<partition>`).
    pub async fn instance_errors(&self, cluster: &str, instance: &str) -> Result<ErrorIndex> {
        self.require_instance(cluster, instance).await?;
        let root = PropertyPaths::new(cluster).errors(instance);
        let mut index = ErrorIndex::new();
        for session in self.children(&root).await? {
            let session_path = strand_zk::join(&root, &session);
            let mut resources = BTreeMap::new();
            for resource in self.children(&session_path).await? {
                let partitions = self
                    .children(&strand_zk::join(&session_path, &resource))
                    .await?;
                resources.insert(resource, partitions);
            }
            index.insert(session, resources);
        }
        Ok(index)
    }

    /// One error record of the instance.
    pub async fn instance_error(
        &self,
        cluster: &str,
        instance: &str,
        session: &str,
        resource: &str,
        partition: &str,
    ) -> Result<Option<ZNRecord>> {
        self.require_instance(cluster, instance).await?;
        crate::names::validate("session", session)?;
        crate::names::validate("resource", resource)?;
        crate::names::validate("partition", partition)?;
        Ok(self
            .accessor()
            .get(&PropertyPaths::new(cluster).error(instance, session, resource, partition))
            .await?
            .map(|v| v.value))
    }

    /// Resources with an IdealState.
    pub async fn list_resources(&self, cluster: &str) -> Result<Vec<String>> {
        self.require_cluster(cluster).await?;
        self.children(&PropertyPaths::new(cluster).ideal_states())
            .await
    }

    /// Resources with an external view.
    pub async fn list_external_views(&self, cluster: &str) -> Result<Vec<String>> {
        self.require_cluster(cluster).await?;
        self.children(&PropertyPaths::new(cluster).external_views())
            .await
    }

    /// A resource's external view, if the controller has written one.
    pub async fn external_view_record(
        &self,
        cluster: &str,
        resource: &str,
    ) -> Result<Option<ZNRecord>> {
        self.require_cluster(cluster).await?;
        crate::names::validate("resource", resource)?;
        Ok(self
            .accessor()
            .get(&PropertyPaths::new(cluster).external_view(resource))
            .await?
            .map(|v| v.value))
    }

    /// A resource's customized view of one customized-state type.
    pub async fn customized_view_record(
        &self,
        cluster: &str,
        customized_type: &str,
        resource: &str,
    ) -> Result<Option<ZNRecord>> {
        self.require_cluster(cluster).await?;
        crate::names::validate("customized-state type", customized_type)?;
        crate::names::validate("resource", resource)?;
        Ok(self
            .accessor()
            .get(&PropertyPaths::new(cluster).customized_view(customized_type, resource))
            .await?
            .map(|v| v.value))
    }

    /// The leading controller's LEADER record, if a controller leads.
    pub async fn controller_leader(&self, cluster: &str) -> Result<Option<ZNRecord>> {
        self.require_cluster(cluster).await?;
        Ok(self
            .accessor()
            .get(&PropertyPaths::new(cluster).controller_leader())
            .await?
            .map(|v| v.value))
    }

    /// Fails unless the instance has a config in the cluster; the same as
    /// the check every instance operation makes.
    pub async fn check_instance(&self, cluster: &str, instance: &str) -> Result<()> {
        self.require_instance(cluster, instance).await
    }

    /// Children of a znode, sorted; none when it is missing.
    async fn children(&self, path: &str) -> Result<Vec<String>> {
        Ok(self.zk().children(path).await?)
    }
}
