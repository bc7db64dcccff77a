//! Joining a cluster on a new session, as Helix's
//! `ParticipantManager.handleNewSession` does: require the cluster, make
//! sure the instance exists (or add it when allowed), carry the previous
//! sessions' current states over at the initial state, create the
//! LiveInstance ephemeral, record the session in the instance history —
//! and, when leaving, the departure ([`record_offline`]).

use std::time::{Duration, Instant};

use strand_admin::Admin;
use strand_model::{
    ClusterConfig, CurrentState, InstanceConfig, LiveInstance, ParticipantHistory, PropertyPaths,
    SessionId, StateModelDefinition, ZNRecord,
};
use strand_zk::{Accessor, CreateKind, Update, Zk, ZkError};
use tracing::{info, warn};

use crate::config::{HELIX_VERSION, ParticipantConfig};
use crate::error::{ParticipantError, Result};
use strand_model::host::process_name;
use strand_model::time::now_ms;

/// Joins on `zk`'s session; returns the session id.
pub(crate) async fn join(zk: &Zk, config: &ParticipantConfig) -> Result<SessionId> {
    let accessor = Accessor::new(zk.clone());
    let paths = PropertyPaths::new(&config.cluster);
    let cluster = config.cluster.as_str();
    let instance = config.instance.as_str();
    if instance.is_empty() || instance.contains('/') {
        return Err(ParticipantError::InvalidInstance(instance.to_owned()));
    }
    let admin = Admin::new(zk.clone());
    if !admin.is_cluster_setup(cluster).await? {
        return Err(ParticipantError::ClusterNotSetUp(cluster.to_owned()));
    }
    ensure_instance(zk, &accessor, &paths, config, &admin).await?;
    let session = SessionId::parse(&zk.session_id())?;
    carry_over(&accessor, &paths, instance, session).await?;
    // The session's current-state parent, so that a resource's record is
    // created by the first transition's mark-read multi-op.
    zk.create_all(&paths.current_states(instance, session))
        .await?;
    create_live_instance(zk, &accessor, &paths, config, session).await?;
    record_history(&accessor, &paths, instance, session).await;
    // Task-framework current states of old sessions are never carried over.
    for old in zk
        .children(&paths.task_current_states_root(instance))
        .await?
    {
        if old != session.to_string() {
            zk.delete_recursive(&paths.task_current_states(instance, &old))
                .await?;
        }
    }
    info!(cluster, instance, session = %session, "joined");
    Ok(session)
}

/// `ZKUtil.isInstanceSetup`, adding the instance when allowed.
async fn ensure_instance(
    zk: &Zk,
    accessor: &Accessor,
    paths: &PropertyPaths,
    config: &ParticipantConfig,
    admin: &Admin,
) -> Result<()> {
    let instance = config.instance.as_str();
    let mut missing = false;
    for path in paths.instance_setup_required_paths(instance) {
        if zk.exists(&path).await?.is_none() {
            missing = true;
        }
    }
    if !missing {
        // Helix creates a missing HISTORY on a valid instance.
        let _ = zk.create_all(&paths.participant_history(instance)).await;
        return Ok(());
    }
    let config_exists = zk.exists(&paths.instance_config(instance)).await?.is_some();
    if config_exists {
        // Config present but part of the subtree missing: recreate it.
        for path in paths.instance_creation_paths(instance) {
            zk.create_all(&path).await?;
        }
        return Ok(());
    }
    let cluster_allows = accessor
        .get(&paths.cluster_config())
        .await?
        .map(|v| ClusterConfig::from(v.value).allow_participant_auto_join())
        .unwrap_or(false);
    if !(config.auto_join || cluster_allows) {
        return Err(ParticipantError::NotAnInstance {
            cluster: config.cluster.clone(),
            instance: instance.to_owned(),
        });
    }
    let mut instance_config =
        InstanceConfig::from_host_port(instance).unwrap_or_else(|_| InstanceConfig::new(instance));
    if instance_config.id() != instance {
        instance_config = InstanceConfig::new(instance);
    }
    instance_config.set_instance_enabled(true, now_ms());
    match admin
        .add_instance_config(&config.cluster, &instance_config)
        .await
    {
        Ok(()) | Err(strand_admin::AdminError::InstanceExists { .. }) => {
            info!(instance, "added itself to the cluster (auto-join)");
            Ok(())
        }
        Err(err) => Err(err.into()),
    }
}

/// Helix's `carryOverPreviousCurrentState`: every partition of an older
/// session's current state reappears in this session at its model's
/// initial state (unless this session has it already), then the old
/// sessions' records are deleted. The controller thus sees the replicas at
/// once and re-drives them.
async fn carry_over(
    accessor: &Accessor,
    paths: &PropertyPaths,
    instance: &str,
    session: SessionId,
) -> Result<()> {
    let zk = accessor.zk();
    let root = paths.current_states_root(instance);
    let this = session.to_string();
    for old in zk.children(&root).await? {
        if old == this {
            continue;
        }
        for resource in zk.children(&paths.current_states(instance, &old)).await? {
            let old_path = paths.current_state(instance, &old, &resource);
            let record = match accessor.get(&old_path).await {
                Ok(Some(v)) => CurrentState::from(v.value),
                Ok(None) => continue,
                Err(ZkError::Record { path, source }) => {
                    warn!(path, error = %source, "skipping a malformed old current state");
                    continue;
                }
                Err(err) => return Err(err.into()),
            };
            let Some(model) = record.state_model_def().map(str::to_owned) else {
                continue;
            };
            if model == "Task" {
                continue;
            }
            let initial = accessor
                .get(&paths.state_model_def(&model))
                .await?
                .and_then(|v| {
                    StateModelDefinition::from(v.value)
                        .initial_state()
                        .map(str::to_owned)
                })
                .unwrap_or_else(|| "OFFLINE".to_owned());
            let partitions: Vec<String> = record.partitions().map(str::to_owned).collect();
            let new_path = paths.current_state(instance, session, &resource);
            zk.create_all(&paths.current_states(instance, session))
                .await?;
            accessor
                .update(&new_path, true, |current| {
                    let mut state = match current {
                        Some(existing) => CurrentState::from(existing),
                        None => {
                            let mut fresh: ZNRecord = record.record().clone();
                            fresh.map_fields.clear();
                            let mut fresh = CurrentState::from(fresh);
                            fresh.set_session_id(session);
                            fresh
                        }
                    };
                    for partition in &partitions {
                        if state.state(partition).is_none() {
                            state.set_state(partition, &initial);
                        }
                    }
                    Update::Write(state.into_record())
                })
                .await?;
        }
        zk.delete_recursive(&paths.current_states(instance, &old))
            .await?;
        info!(instance, old_session = %old, "carried over current states");
    }
    Ok(())
}

/// Creates the LiveInstance ephemeral. An existing one of another session
/// (a previous process whose session has not timed out yet) is waited out
/// for one session timeout plus five seconds, as Helix does.
async fn create_live_instance(
    zk: &Zk,
    accessor: &Accessor,
    paths: &PropertyPaths,
    config: &ParticipantConfig,
    session: SessionId,
) -> Result<()> {
    let instance = &config.instance;
    let mut live = LiveInstance::new(instance.as_str(), session, HELIX_VERSION, &process_name());
    live.set_current_task_thread_pool_size(task_thread_pool_size(accessor, paths, instance).await);
    let record = live.into_record();
    let path = paths.live_instance(instance);
    let give_up = Instant::now() + zk.session_timeout() + Duration::from_secs(5);
    loop {
        match accessor.create(&path, &record, CreateKind::Ephemeral).await {
            Ok(_) => return Ok(()),
            Err(ZkError::NodeExists { .. }) => {
                let owner = zk
                    .exists(&path)
                    .await?
                    .map(|s| SessionId::from_i64(s.ephemeral_owner));
                if owner == Some(session) {
                    return Ok(());
                }
                if Instant::now() >= give_up {
                    return Err(ParticipantError::AlreadyLive {
                        cluster: config.cluster.clone(),
                        instance: instance.clone(),
                        session: owner.map(|s| s.to_string()).unwrap_or_default(),
                    });
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(err) => return Err(err.into()),
        }
    }
}

/// Helix's default task thread pool size (`TaskConstants`).
const DEFAULT_TASK_THREAD_POOL_SIZE: i32 = 40;

/// The `CURRENT_TASK_THREAD_POOL_SIZE` a Java participant announces
/// (`TaskUtil.getTargetThreadPoolSize`): the instance config's
/// `TARGET_TASK_THREAD_POOL_SIZE`, else the cluster config's
/// `GLOBAL_TARGET_TASK_THREAD_POOL_SIZE` (negative or unreadable values
/// count as unset), else 40. Strand runs no tasks; Helix's task framework
/// reads the value to size what it assigns here. A record that cannot be
/// read counts as unset.
async fn task_thread_pool_size(accessor: &Accessor, paths: &PropertyPaths, instance: &str) -> i32 {
    let read = |path: String| async move {
        match accessor.get(&path).await {
            Ok(found) => found.map(|v| v.value),
            Err(err) => {
                warn!(znode = %path, error = %err, "cannot read it for the task thread pool size; counting it unset");
                None
            }
        }
    };
    if let Some(n) = read(paths.instance_config(instance))
        .await
        .and_then(|r| InstanceConfig::from(r).target_task_thread_pool_size())
    {
        return n;
    }
    read(paths.cluster_config())
        .await
        .and_then(|r| ClusterConfig::from(r).global_target_task_thread_pool_size())
        .unwrap_or(DEFAULT_TASK_THREAD_POOL_SIZE)
}

/// Records a graceful departure in the instance history, as Helix's
/// `ParticipantManager.disconnect` does (`reportOffline`:
/// `LAST_OFFLINE_TIME` and an `OFFLINE` entry), while the session is still
/// live; a history that does not exist is not created. A failure is
/// logged: the leader reports an instance that went without it.
pub(crate) async fn record_offline(zk: &Zk, paths: &PropertyPaths, instance: &str) {
    let accessor = Accessor::new(zk.clone());
    let result = accessor
        .update(&paths.participant_history(instance), false, |current| {
            let Some(record) = current else {
                return Update::Keep;
            };
            let mut history = ParticipantHistory::from(record);
            history.report_offline(now_ms());
            Update::Write(history.into_record())
        })
        .await;
    if let Err(err) = result {
        warn!(instance, error = %err, "could not record the departure in the instance history");
    }
}

async fn record_history(
    accessor: &Accessor,
    paths: &PropertyPaths,
    instance: &str,
    session: SessionId,
) {
    let host = strand_model::host::local_hostname();
    let result = accessor
        .update(&paths.participant_history(instance), true, |current| {
            let mut history = current
                .map(ParticipantHistory::from)
                .unwrap_or_else(|| ParticipantHistory::new(instance));
            history.report_online(session, now_ms(), HELIX_VERSION, &host);
            Update::Write(history.into_record())
        })
        .await;
    if let Err(err) = result {
        warn!(instance, error = %err, "could not record the session in the instance history");
    }
}
