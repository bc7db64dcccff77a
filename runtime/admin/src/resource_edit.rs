//! Resource changes beyond add/drop/rebalance: adding a resource from a
//! whole IdealState, enabling and disabling it, and editing its IdealState
//! record (Helix REST's `idealState` update/delete).

use strand_model::records::ideal_state::IdealStateMode;
use strand_model::records::ideal_state::keys::{IDEAL_STATE_MODE, NUM_PARTITIONS, REBALANCE_MODE};
use strand_model::{IdealState, PropertyPaths, RebalanceMode, ZNRecord};
use strand_zk::Update;

use crate::Admin;
use crate::configs::{RecordEdit, require_id};
use crate::error::{AdminError, Result};

impl Admin {
    /// Adds a resource from a complete IdealState record. Its id must be
    /// `resource` (Helix names the znode after the id whatever the request
    /// said; Strand refuses the mismatch instead), it must pass Helix's
    /// IdealState validation, and its state model must be defined.
    pub async fn add_resource_with_ideal_state(
        &self,
        cluster: &str,
        resource: &str,
        record: ZNRecord,
    ) -> Result<()> {
        self.require_cluster(cluster).await?;
        crate::names::validate("resource", resource)?;
        require_id(&record, resource, "resource")?;
        let ideal = IdealState::from(record);
        check_ideal_state(&ideal)
            .map_err(|e| AdminError::Invalid(format!("invalid IdealState for {resource}: {e}")))?;
        let partitions = ideal.num_partitions().unwrap_or(0).max(0);
        crate::limits::check_partition_count_off_thread(resource, partitions as u64).await?;
        if let Some(model) = ideal.state_model_def_ref() {
            self.state_model(cluster, model).await?;
        }
        self.create_ideal_state(cluster, resource, &ideal).await
    }

    /// Enables or disables a resource (`HELIX_ENABLED` in its IdealState);
    /// the controller takes a disabled resource's replicas offline.
    pub async fn set_resource_enabled(
        &self,
        cluster: &str,
        resource: &str,
        enabled: bool,
    ) -> Result<()> {
        self.ideal_state(cluster, resource).await?;
        self.accessor()
            .update(
                &PropertyPaths::new(cluster).ideal_state(resource),
                false,
                |current| {
                    let Some(record) = current else {
                        return Update::Keep;
                    };
                    let mut ideal = IdealState::from(record);
                    ideal.set_enabled(enabled);
                    Update::Write(ideal.into_record())
                },
            )
            .await?;
        Ok(())
    }

    /// Edits a resource's IdealState; `edit.id` must be the resource name.
    /// An edit that would leave an invalid IdealState (say, without
    /// `STATE_MODEL_DEF_REF`) is refused and nothing is written.
    pub async fn edit_ideal_state(
        &self,
        cluster: &str,
        resource: &str,
        how: RecordEdit,
        edit: &ZNRecord,
    ) -> Result<()> {
        self.ideal_state(cluster, resource).await?;
        require_id(edit, resource, "resource")?;
        if how == RecordEdit::Update
            && let Some(partitions) = edit.simple_parsed::<i64>(NUM_PARTITIONS)
        {
            crate::limits::check_partition_count_off_thread(resource, partitions.max(0) as u64)
                .await?;
        }
        let mut refusal = None;
        let mut found = false;
        self.accessor()
            .update(
                &PropertyPaths::new(cluster).ideal_state(resource),
                false,
                |current| {
                    refusal = None;
                    let Some(mut record) = current else {
                        found = false;
                        return Update::Keep;
                    };
                    found = true;
                    how.apply(&mut record, edit);
                    let ideal = IdealState::from(record);
                    if let Err(e) = check_ideal_state(&ideal) {
                        refusal = Some(e);
                        return Update::Keep;
                    }
                    Update::Write(ideal.into_record())
                },
            )
            .await?;
        if let Some(reason) = refusal {
            return Err(AdminError::Invalid(format!(
                "the edit would leave an invalid IdealState for {resource}: {reason}"
            )));
        }
        if !found {
            return Err(AdminError::NoSuchResource {
                cluster: cluster.to_owned(),
                resource: resource.to_owned(),
            });
        }
        Ok(())
    }
}

/// Helix's IdealState validation, plus what Strand's controller needs to
/// make sense of it: a known `REBALANCE_MODE` (and legacy
/// `IDEAL_STATE_MODE`) spelling, and a partition count below
/// [`crate::limits::MAX_PARTITIONS`] (callers check the exact limit first,
/// off the async workers).
fn check_ideal_state(ideal: &IdealState) -> std::result::Result<(), String> {
    // The modes first: an unknown one would otherwise be read as SEMI_AUTO
    // and reported as whatever SEMI_AUTO lacks.
    let record = ideal.record();
    if let Some(mode) = record.simple(REBALANCE_MODE)
        && RebalanceMode::parse(mode).is_none()
    {
        return Err(format!(
            "{REBALANCE_MODE} {mode:?} is not one of FULL_AUTO, SEMI_AUTO, CUSTOMIZED, USER_DEFINED, TASK, NONE"
        ));
    }
    if let Some(mode) = record.simple(IDEAL_STATE_MODE)
        && IdealStateMode::parse(mode).is_none()
    {
        return Err(format!(
            "{IDEAL_STATE_MODE} {mode:?} is not one of AUTO, AUTO_REBALANCE, CUSTOMIZED"
        ));
    }
    ideal.validate().map_err(|e| e.to_string())?;
    let partitions = ideal.num_partitions().unwrap_or(0).max(0);
    crate::limits::check_partition_cap(ideal.id(), partitions as u64)
        .map(|_| ())
        .map_err(|e| e.to_string())
}
