//! Leader election through the `CONTROLLER/LEADER` ephemeral znode, as
//! Helix's `DistributedLeaderElection` does it: create LEADER (a
//! LiveInstance record naming the controller) on our session; whoever
//! succeeds appends itself to `CONTROLLER/HISTORY` and leads until its
//! session ends. Everyone else waits on a watch for LEADER to go away.
//!
//! # Guarantees
//! * At most one session owns LEADER at a time (ZooKeeper's create is
//!   atomic), so at most one controller leads.
//! * A create whose outcome is unknown (connection loss) is settled by
//!   reading LEADER's ephemeral owner, never by creating again blindly.

use futures::StreamExt;
use strand_model::{ControllerHistory, LiveInstance, PropertyPaths, SessionId};
use strand_zk::{Accessor, CreateKind, NodeEvent, Update, Zk, ZkError};
use tracing::{debug, info};

use strand_model::host::process_name;
use strand_model::time::now_ms;

/// The `HELIX_VERSION` the controller writes in LEADER and HISTORY: the
/// Helix release whose protocol it speaks, then Strand's version (the same
/// convention as Strand participants).
pub const HELIX_VERSION: &str = concat!("2.0.1-strand-", env!("CARGO_PKG_VERSION"));

/// The outcome of one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Campaign {
    /// We own LEADER.
    Won,
    /// Another session owns LEADER.
    Lost,
}

/// The LEADER record this controller writes.
pub(crate) fn leader_record(name: &str, session: SessionId) -> LiveInstance {
    LiveInstance::new(name, session, HELIX_VERSION, &process_name())
}

/// Tries once to take leadership of the cluster.
///
/// # Errors
/// [`ZkError::NoNode`] when the cluster has no `CONTROLLER` znode; any
/// other ZooKeeper failure.
pub(crate) async fn campaign(
    zk: &Zk,
    paths: &PropertyPaths,
    name: &str,
) -> Result<Campaign, ZkError> {
    let leader = paths.controller_leader();
    let session = SessionId::parse(&zk.session_id()).unwrap_or(SessionId(0));
    let record = leader_record(name, session);
    let bytes = record.to_bytes().map_err(|source| ZkError::Record {
        path: leader.clone(),
        source,
    })?;
    match zk.create(&leader, &bytes, CreateKind::Ephemeral).await {
        Ok(_) => {
            record_history(zk, paths, name).await?;
            info!(cluster = paths.cluster_name(), controller = name, session = %session, "became leader");
            Ok(Campaign::Won)
        }
        Err(err) if err.is_node_exists() || err.is_connection_loss() => {
            // Either someone else leads, or our own create went through
            // before the connection dropped: the ephemeral owner decides.
            match zk.get(&leader).await? {
                Some((_, stat)) if stat.ephemeral_owner == session.as_i64() => {
                    if err.is_connection_loss() {
                        record_history(zk, paths, name).await?;
                    }
                    Ok(Campaign::Won)
                }
                Some((_, stat)) => {
                    debug!(
                        cluster = paths.cluster_name(),
                        owner = format!("{:x}", stat.ephemeral_owner),
                        "another controller leads"
                    );
                    Ok(Campaign::Lost)
                }
                // Gone again in between: the caller retries at once.
                None => Ok(Campaign::Lost),
            }
        }
        Err(err) => Err(err),
    }
}

/// Appends this controller to `CONTROLLER/HISTORY` (Helix's
/// `updateHistory`), creating the record if cluster setup did not.
async fn record_history(zk: &Zk, paths: &PropertyPaths, name: &str) -> Result<(), ZkError> {
    let cluster = paths.cluster_name().to_owned();
    let now = now_ms();
    Accessor::new(zk.clone())
        .update(&paths.controller_history(), true, |current| {
            let mut history = current
                .map(ControllerHistory::from)
                .unwrap_or_else(|| ControllerHistory::new(&cluster));
            history.record_leader(&cluster, name, now, HELIX_VERSION);
            Update::Write(history.into_record())
        })
        .await?;
    Ok(())
}

/// Returns once LEADER does not exist, or may not (a standby's wait; the
/// caller campaigns again either way). The watch is set before LEADER is
/// checked, so a deletion in between is not missed.
///
/// # Errors
/// [`ZkError::SessionExpired`] when our session ends while waiting.
pub(crate) async fn wait_for_vacancy(zk: &Zk, paths: &PropertyPaths) -> Result<(), ZkError> {
    let leader = paths.controller_leader();
    let events = zk.watch_subtree(&leader).await?;
    let mut events = std::pin::pin!(events);
    if zk.exists(&leader).await?.is_none() {
        return Ok(());
    }
    while let Some(event) = events.next().await {
        match event {
            NodeEvent::Deleted(path) if path == leader => return Ok(()),
            // The client does not re-register persistent watches after a
            // reconnect (zookeeper-client 0.11.2 re-sends only one-shot
            // watches), so this watch may be dead: let the caller look
            // again and watch anew.
            NodeEvent::Reconnected => return Ok(()),
            NodeEvent::SessionEnded(_) => return Err(ZkError::SessionExpired),
            _ => {}
        }
    }
    Err(ZkError::SessionExpired)
}

/// Gives leadership up on a graceful stop: deletes LEADER if our session
/// still owns it, so a standby takes over without waiting for the session
/// to time out.
pub(crate) async fn resign(zk: &Zk, paths: &PropertyPaths) -> Result<(), ZkError> {
    let leader = paths.controller_leader();
    let session = SessionId::parse(&zk.session_id()).unwrap_or(SessionId(0));
    match zk.get(&leader).await? {
        Some((_, stat)) if stat.ephemeral_owner == session.as_i64() => {
            match zk.delete(&leader, Some(stat.version)).await {
                Ok(()) => Ok(()),
                Err(err) if err.is_no_node() => Ok(()),
                Err(err) => Err(err),
            }
        }
        _ => Ok(()),
    }
}
