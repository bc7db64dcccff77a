//! Resource operations: add (an IdealState without partitions, as
//! `ZKHelixAdmin.addResource`), drop, `rebalance` (replicas and preference
//! lists, as `ClusterSetup.rebalanceStorageCluster`), and state model
//! definitions.

use std::sync::Arc;

use strand_model::{
    IdealState, PropertyPaths, RebalanceMode, Replicas, StateModelDefinition, ZNRecord,
};
use strand_zk::CreateKind;

use crate::Admin;
use crate::error::{AdminError, Result};
use crate::{limits, placement};

/// How often `rebalance` retries when someone else writes the IdealState
/// between its read and its write.
const REBALANCE_ATTEMPTS: usize = 16;

impl Admin {
    /// Adds a resource with `partitions` partitions of `state_model` in
    /// `mode`. No partition is placed until [`Admin::rebalance`].
    pub async fn add_resource(
        &self,
        cluster: &str,
        resource: &str,
        partitions: u32,
        state_model: &str,
        mode: RebalanceMode,
    ) -> Result<()> {
        self.require_cluster(cluster).await?;
        crate::names::validate("resource", resource)?;
        limits::check_partition_count_off_thread(resource, u64::from(partitions)).await?;
        self.state_model(cluster, state_model).await?;
        let partitions = i32::try_from(partitions)
            .map_err(|_| AdminError::Invalid(format!("too many partitions: {partitions}")))?;
        let ideal =
            IdealState::for_new_resource(resource, partitions, state_model, mode, "DEFAULT");
        self.create_ideal_state(cluster, resource, &ideal).await
    }

    /// Removes a resource's IdealState and ResourceConfig; participants
    /// then drop its replicas.
    pub async fn drop_resource(&self, cluster: &str, resource: &str) -> Result<()> {
        self.ideal_state(cluster, resource).await?;
        self.zk()
            .delete_recursive(&PropertyPaths::new(cluster).ideal_state(resource))
            .await?;
        self.zk()
            .delete_recursive(&PropertyPaths::new(cluster).resource_config(resource))
            .await?;
        Ok(())
    }

    /// Sets `REPLICAS` and writes the partitions `<resource>_<i>`: empty
    /// lists and maps for FULL_AUTO (the controller places them), a
    /// placement over the cluster's instances for SEMI_AUTO and CUSTOMIZED.
    /// Linear in partitions × replicas; a result that would not fit in a
    /// ZooKeeper record is refused before anything is written.
    pub async fn rebalance(&self, cluster: &str, resource: &str, replicas: u32) -> Result<()> {
        let ideal = self.ideal_state(cluster, resource).await?;
        let replicas = limits::replica_count(replicas)?;
        let model_name = ideal
            .state_model_def_ref()
            .ok_or_else(|| {
                AdminError::Invalid(format!("resource {resource} has no STATE_MODEL_DEF_REF"))
            })?
            .to_owned();
        let model = self.state_model(cluster, &model_name).await?;
        let partitions = ideal.num_partitions().unwrap_or(0).max(0);
        limits::check_partition_count_off_thread(resource, partitions as u64).await?;
        let partitions = partitions as usize;
        let mode = ideal.rebalance_mode();
        let instances = if mode == RebalanceMode::FullAuto {
            Vec::new()
        } else {
            let instances = self
                .zk()
                .children(&PropertyPaths::new(cluster).instance_configs())
                .await?;
            if instances.len() < replicas as usize {
                return Err(AdminError::Invalid(format!(
                    "cluster {cluster} has {} instances, fewer than {replicas} replicas",
                    instances.len()
                )));
            }
            instances
        };
        let placements = {
            let resource = resource.to_owned();
            limits::off_thread(move || {
                Ok(Arc::new(if instances.is_empty() {
                    Vec::new()
                } else {
                    placement::place(
                        &resource,
                        partitions as u32,
                        replicas as usize,
                        &instances,
                        &model,
                    )
                }))
            })
            .await?
        };
        // Compare-and-set on the IdealState's version; the record is built
        // and serialised off the async workers.
        let path = PropertyPaths::new(cluster).ideal_state(resource);
        let missing = || AdminError::NoSuchResource {
            cluster: cluster.to_owned(),
            resource: resource.to_owned(),
        };
        for _ in 0..REBALANCE_ATTEMPTS {
            let current = self.accessor().get(&path).await?.ok_or_else(missing)?;
            let version = current.stat.version;
            let bytes = {
                let (resource, placements) = (resource.to_owned(), Arc::clone(&placements));
                limits::off_thread(move || {
                    let mut ideal = IdealState::from(current.value);
                    ideal.set_replicas(Replicas::Count(replicas));
                    limits::write_partitions(&mut ideal, &resource, partitions, mode, &placements);
                    let what = format!(
                        "the IdealState of {resource} with {partitions} partitions × {replicas} replicas"
                    );
                    limits::to_bytes_within_limit(ideal.record(), &what)
                })
                .await?
            };
            match self.zk().set(&path, &bytes, Some(version)).await {
                Ok(_) => return Ok(()),
                Err(strand_zk::ZkError::BadVersion { .. }) => continue,
                Err(strand_zk::ZkError::NoNode { .. }) => return Err(missing()),
                Err(err) => return Err(err.into()),
            }
        }
        Err(AdminError::Refused(format!(
            "the IdealState of {resource} kept changing while it was rebalanced; try again"
        )))
    }

    /// Adds a state model definition given as ZNRecord JSON. Returns its
    /// name (the record id, as Helix names the znode).
    pub async fn add_state_model_def(&self, cluster: &str, json: &[u8]) -> Result<String> {
        self.require_cluster(cluster).await?;
        let record = ZNRecord::from_json(json)
            .map_err(|e| AdminError::Invalid(format!("not a state model definition: {e}")))?;
        let model = StateModelDefinition::from(record);
        model.validate().map_err(|e| {
            AdminError::Invalid(format!(
                "invalid state model definition {}: {e}",
                model.id()
            ))
        })?;
        crate::names::validate("state model", model.id())?;
        let name = model.id().to_owned();
        match self
            .accessor()
            .create(
                &PropertyPaths::new(cluster).state_model_def(&name),
                model.record(),
                CreateKind::Persistent,
            )
            .await
        {
            Ok(_) => Ok(name),
            Err(err) if err.is_node_exists() => Err(AdminError::StateModelExists {
                cluster: cluster.to_owned(),
                model: name,
            }),
            Err(err) => Err(err.into()),
        }
    }

    /// Reads a resource's IdealState.
    pub async fn ideal_state(&self, cluster: &str, resource: &str) -> Result<IdealState> {
        self.require_cluster(cluster).await?;
        crate::names::validate("resource", resource)?;
        self.accessor()
            .get(&PropertyPaths::new(cluster).ideal_state(resource))
            .await?
            .map(|v| IdealState::from(v.value))
            .ok_or_else(|| AdminError::NoSuchResource {
                cluster: cluster.to_owned(),
                resource: resource.to_owned(),
            })
    }

    /// Reads a state model definition.
    pub async fn state_model(&self, cluster: &str, name: &str) -> Result<StateModelDefinition> {
        crate::names::validate("state model", name)?;
        self.accessor()
            .get(&PropertyPaths::new(cluster).state_model_def(name))
            .await?
            .map(|v| StateModelDefinition::from(v.value))
            .ok_or_else(|| AdminError::NoSuchStateModel {
                cluster: cluster.to_owned(),
                model: name.to_owned(),
            })
    }
}

impl Admin {
    /// Creates `IDEALSTATES/<resource>`; an existing one is
    /// [`AdminError::ResourceExists`] and is left as it is.
    pub(crate) async fn create_ideal_state(
        &self,
        cluster: &str,
        resource: &str,
        ideal: &IdealState,
    ) -> Result<()> {
        match self
            .accessor()
            .create(
                &PropertyPaths::new(cluster).ideal_state(resource),
                ideal.record(),
                CreateKind::Persistent,
            )
            .await
        {
            Ok(_) => Ok(()),
            Err(err) if err.is_node_exists() => Err(AdminError::ResourceExists {
                cluster: cluster.to_owned(),
                resource: resource.to_owned(),
            }),
            Err(err) => Err(err.into()),
        }
    }
}
