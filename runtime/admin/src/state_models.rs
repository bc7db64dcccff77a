//! State model definitions as whole records: list, create (refusing an
//! existing name), overwrite and remove — Helix REST's `statemodeldefs`.

use strand_model::{IdealState, PropertyPaths, StateModelDefinition, ZNRecord};
use strand_zk::{CreateKind, Update};

use crate::Admin;
use crate::configs::require_id;
use crate::error::{AdminError, Result};

impl Admin {
    /// The names of the cluster's state model definitions.
    pub async fn list_state_models(&self, cluster: &str) -> Result<Vec<String>> {
        self.require_cluster(cluster).await?;
        Ok(self
            .zk()
            .children(&PropertyPaths::new(cluster).state_model_defs())
            .await?)
    }

    /// Creates the definition `name` from a record whose id is `name`.
    ///
    /// # Errors
    /// [`AdminError::StateModelExists`] if `name` is defined already.
    pub async fn create_state_model(
        &self,
        cluster: &str,
        name: &str,
        record: ZNRecord,
    ) -> Result<()> {
        let model = self.checked_state_model(cluster, name, record).await?;
        match self
            .accessor()
            .create(
                &PropertyPaths::new(cluster).state_model_def(name),
                model.record(),
                CreateKind::Persistent,
            )
            .await
        {
            Ok(_) => Ok(()),
            Err(err) if err.is_node_exists() => Err(AdminError::StateModelExists {
                cluster: cluster.to_owned(),
                model: name.to_owned(),
            }),
            Err(err) => Err(err.into()),
        }
    }

    /// Creates or overwrites the definition `name` (record id `name`).
    pub async fn set_state_model(&self, cluster: &str, name: &str, record: ZNRecord) -> Result<()> {
        let model = self.checked_state_model(cluster, name, record).await?;
        self.accessor()
            .update(
                &PropertyPaths::new(cluster).state_model_def(name),
                true,
                |_| Update::Write(model.record().clone()),
            )
            .await?;
        Ok(())
    }

    /// Removes the definition `name`. Refused while a resource's IdealState
    /// refers to it (Helix removes it anyway and strands the resource).
    pub async fn drop_state_model(&self, cluster: &str, name: &str) -> Result<()> {
        self.state_model_in(cluster, name).await?;
        let paths = PropertyPaths::new(cluster);
        let mut users = Vec::new();
        for resource in self.zk().children(&paths.ideal_states()).await? {
            if let Some(v) = self.accessor().get(&paths.ideal_state(&resource)).await?
                && IdealState::from(v.value).state_model_def_ref() == Some(name)
            {
                users.push(resource);
            }
        }
        if !users.is_empty() {
            return Err(AdminError::Refused(format!(
                "state model {name} is used by resources {}",
                users.join(", ")
            )));
        }
        self.zk()
            .delete_recursive(&paths.state_model_def(name))
            .await?;
        Ok(())
    }

    /// A state model definition of an existing cluster.
    pub async fn state_model_in(&self, cluster: &str, name: &str) -> Result<StateModelDefinition> {
        self.require_cluster(cluster).await?;
        self.state_model(cluster, name).await
    }

    async fn checked_state_model(
        &self,
        cluster: &str,
        name: &str,
        record: ZNRecord,
    ) -> Result<StateModelDefinition> {
        self.require_cluster(cluster).await?;
        crate::names::validate("state model", name)?;
        require_id(&record, name, "state model")?;
        let model = StateModelDefinition::from(record);
        model.validate().map_err(|e| {
            AdminError::Invalid(format!("invalid state model definition {name}: {e}"))
        })?;
        Ok(model)
    }
}
