//! Cluster set-up for the code runner: the cluster (if missing) and the
//! `CODE_RUNNER` resource every tagged live runner serves ONLINE.

use anyhow::{Context, Result};
use strand_admin::{Admin, RebalanceMode};
use strand_model::records::ANY_LIVEINSTANCE;
use strand_model::records::ideal_state::keys as is_keys;
use strand_model::{InstanceConfig, PropertyPaths, Replicas};
use strand_zk::Update;

use crate::protocol::{PARTITION, RESOURCE, TAG};

/// Creates `cluster` if it does not exist and the `CODE_RUNNER` resource:
/// OnlineOffline, SEMI_AUTO, one partition whose preference list is
/// `ANY_LIVEINSTANCE` among instances tagged `code-runner` — so every
/// live runner is ONLINE. Idempotent.
pub async fn ensure_cluster(admin: &Admin, cluster: &str) -> Result<()> {
    if !admin.is_cluster_setup(cluster).await? {
        admin
            .add_cluster(cluster)
            .await
            .with_context(|| format!("creating cluster {cluster}"))?;
    }
    let paths = PropertyPaths::new(cluster);
    if admin
        .zk()
        .exists(&paths.ideal_state(RESOURCE))
        .await?
        .is_none()
    {
        admin
            .add_resource(
                cluster,
                RESOURCE,
                1,
                "OnlineOffline",
                RebalanceMode::SemiAuto,
            )
            .await
            .with_context(|| format!("adding resource {RESOURCE}"))?;
    }
    admin
        .accessor()
        .update(&paths.ideal_state(RESOURCE), false, |current| {
            let Some(mut record) = current else {
                return Update::Keep;
            };
            record.set_simple(is_keys::REPLICAS, Replicas::AnyLiveInstance.to_field());
            record.set_simple(is_keys::INSTANCE_GROUP_TAG, TAG);
            record.set_list(PARTITION, [ANY_LIVEINSTANCE]);
            record.map_mut(PARTITION);
            Update::Write(record)
        })
        .await
        .with_context(|| format!("configuring resource {RESOURCE}"))?;
    Ok(())
}

/// Makes sure `instance` has an InstanceConfig carrying the runner tag —
/// how a runner advertises that it takes programs.
pub async fn tag_runner(admin: &Admin, cluster: &str, instance: &str) -> Result<()> {
    let paths = PropertyPaths::new(cluster);
    if admin
        .zk()
        .exists(&paths.instance_config(instance))
        .await?
        .is_none()
    {
        admin
            .add_instance(cluster, instance)
            .await
            .with_context(|| format!("adding instance {instance}"))?;
    }
    admin
        .accessor()
        .update(&paths.instance_config(instance), false, |current| {
            let Some(record) = current else {
                return Update::Keep;
            };
            let mut config = InstanceConfig::from(record);
            if config.contains_tag(TAG) {
                return Update::Keep;
            }
            config.add_tag(TAG);
            Update::Write(config.into_record())
        })
        .await
        .with_context(|| format!("tagging instance {instance}"))?;
    Ok(())
}
