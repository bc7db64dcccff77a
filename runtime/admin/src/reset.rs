//! `reset-partition`: take replicas out of ERROR, as Helix's
//! `ZKHelixAdmin.resetPartition` does — one `ERROR → <initial state>`
//! state-transition message per partition, written straight into the
//! instance's MESSAGES; `resetInstance` and `resetResource` do it for every
//! partition in ERROR on an instance, or of a resource on every live
//! instance.

use strand_model::{CurrentState, Message, PropertyPaths, SessionId, StateTransitionSpec};
use strand_zk::CreateKind;

use crate::Admin;
use crate::error::{AdminError, Result};
use strand_model::time::now_ms;

impl Admin {
    /// Resets `partitions` of `resource` on `instance` from ERROR to the
    /// state model's initial state. Refused (changing nothing) unless the
    /// instance is live, every partition is in ERROR there, and none has a
    /// transition pending.
    pub async fn reset_partitions(
        &self,
        cluster: &str,
        instance: &str,
        resource: &str,
        partitions: &[String],
    ) -> Result<()> {
        self.require_instance(cluster, instance).await?;
        crate::names::validate("resource", resource)?;
        if partitions.is_empty() {
            return Err(AdminError::Invalid(
                "name at least one partition to reset".into(),
            ));
        }
        let paths = PropertyPaths::new(cluster);
        let session = match self.zk().exists(&paths.live_instance(instance)).await? {
            Some(stat) => SessionId::from_i64(stat.ephemeral_owner),
            None => {
                return Err(AdminError::Refused(format!(
                    "instance {instance} is not live; only a live instance can be reset"
                )));
            }
        };
        let current = self
            .accessor()
            .get(&paths.current_state(instance, session, resource))
            .await?
            .map(|v| CurrentState::from(v.value))
            .ok_or_else(|| {
                AdminError::Refused(format!("{instance} holds no replica of {resource}"))
            })?;
        for partition in partitions {
            match current.state(partition) {
                Some("ERROR") => {}
                Some(state) => {
                    return Err(AdminError::Refused(format!(
                        "{resource} {partition} on {instance} is {state}, not ERROR"
                    )));
                }
                None => {
                    return Err(AdminError::Refused(format!(
                        "{instance} holds no replica of {resource} {partition}"
                    )));
                }
            }
        }
        let model_name = current
            .state_model_def()
            .ok_or_else(|| {
                AdminError::Invalid(format!(
                    "the current state of {resource} names no state model"
                ))
            })?
            .to_owned();
        let model = self.state_model(cluster, &model_name).await?;
        let initial = model
            .initial_state()
            .ok_or_else(|| {
                AdminError::Invalid(format!("state model {model_name} has no initial state"))
            })?
            .to_owned();
        for (_, record) in self.pending_messages(&paths, instance).await? {
            if record.resource_name() == Some(resource)
                && record
                    .partition_names()
                    .iter()
                    .any(|p| partitions.iter().any(|q| q == p))
            {
                return Err(AdminError::Refused(format!(
                    "a transition is pending for {resource} on {instance} (message {})",
                    record.msg_id()
                )));
            }
        }
        let source = format!("{}-ADMIN", strand_model::host::local_hostname());
        let admin_session = SessionId::parse(&self.zk().session_id())?;
        let now = now_ms();
        let mut multi = self.zk().multi();
        for partition in partitions {
            let id = uuid::Uuid::new_v4().to_string();
            let message = Message::state_transition(&StateTransitionSpec {
                msg_id: id.clone(),
                create_timestamp: now,
                src_name: source.clone(),
                src_session_id: admin_session,
                tgt_name: instance.to_owned(),
                tgt_session_id: session,
                resource: resource.to_owned(),
                partition: partition.clone(),
                from_state: "ERROR".into(),
                to_state: initial.clone(),
                state_model_def: model_name.clone(),
                state_model_factory_name: current
                    .state_model_factory_name()
                    .unwrap_or("DEFAULT")
                    .to_owned(),
                current_active_replica_number: -1,
                cluster_event_name: "ResetPartition".into(),
                retry_count: 3,
                rebalance_type: None,
                bucket_size: 0,
                resource_group_name: None,
                resource_tag: None,
                timeout: None,
            });
            multi.create(
                paths.message(instance, &id),
                message.record().to_bytes()?,
                CreateKind::Persistent,
            );
        }
        multi.commit().await?;
        Ok(())
    }

    /// Helix's `resetInstance`: resets every partition in ERROR in the
    /// instance's live session, resource by resource (each resource's reset
    /// is one multi-op); returns what was reset. Refused when the instance
    /// is not live.
    pub async fn reset_instance(
        &self,
        cluster: &str,
        instance: &str,
    ) -> Result<Vec<(String, Vec<String>)>> {
        self.require_instance(cluster, instance).await?;
        if self.live_instance(cluster, instance).await?.is_none() {
            return Err(AdminError::Refused(format!(
                "instance {instance} is not live; only a live instance can be reset"
            )));
        }
        let mut reset = Vec::new();
        for resource in self.current_state_resources(cluster, instance).await? {
            let errors = self.error_partitions(cluster, instance, &resource).await?;
            if !errors.is_empty() {
                self.reset_partitions(cluster, instance, &resource, &errors)
                    .await?;
                reset.push((resource, errors));
            }
        }
        Ok(reset)
    }

    /// Helix's `resetResource`: resets every partition of `resource` in
    /// ERROR on every live instance (each instance's reset is one
    /// multi-op); returns what was reset, by instance.
    pub async fn reset_resource(
        &self,
        cluster: &str,
        resource: &str,
    ) -> Result<Vec<(String, Vec<String>)>> {
        self.ideal_state(cluster, resource).await?;
        let mut reset = Vec::new();
        for instance in self.list_live_instances(cluster).await? {
            let errors = self.error_partitions(cluster, &instance, resource).await?;
            if !errors.is_empty() {
                self.reset_partitions(cluster, &instance, resource, &errors)
                    .await?;
                reset.push((instance, errors));
            }
        }
        Ok(reset)
    }

    /// Partitions of `resource` in ERROR in the instance's live session.
    async fn error_partitions(
        &self,
        cluster: &str,
        instance: &str,
        resource: &str,
    ) -> Result<Vec<String>> {
        let Some(record) = self
            .current_state_record(cluster, instance, resource)
            .await?
        else {
            return Ok(Vec::new());
        };
        Ok(CurrentState::from(record)
            .partition_states()
            .filter(|(_, state)| *state == "ERROR")
            .map(|(partition, _)| partition.to_owned())
            .collect())
    }

    async fn pending_messages(
        &self,
        paths: &PropertyPaths,
        instance: &str,
    ) -> Result<Vec<(String, Message)>> {
        let mut found = Vec::new();
        for id in self.zk().children(&paths.messages(instance)).await? {
            if let Ok(Some(v)) = self.accessor().get(&paths.message(instance, &id)).await {
                found.push((id, Message::from(v.value)));
            }
        }
        Ok(found)
    }
}
