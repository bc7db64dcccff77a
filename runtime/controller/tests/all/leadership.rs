//! Leader election: the LEADER and HISTORY records as Helix writes them,
//! standby takeover on session expiry and on graceful shutdown.

use strand_controller::{Controller, Role};
use strand_model::{ControllerHistory, LiveInstance, PropertyPaths};

use crate::common::*;

#[tokio::test]
async fn leader_record_and_history_are_shaped_like_helix() -> TestResult {
    let (server, admin) = cluster(0).await;
    let zk = admin.zk().clone();
    let ctl = Controller::start(zk_config(&server), CLUSTER, "ctl0").await?;
    ctl.wait_leader(DEADLINE).await?;

    let (record, stat) = record(&zk, &paths().controller_leader())
        .await
        .ok_or("no LEADER")?;
    let leader = LiveInstance::from(record.clone());
    assert_eq!(leader.id(), "ctl0");
    let session = ctl.status().session.ok_or("no session")?;
    assert_eq!(leader.session_id_str(), Some(session.as_str()));
    assert_eq!(format!("{:x}", stat.ephemeral_owner), session);
    assert!(
        leader
            .helix_version()
            .is_some_and(|v| v.starts_with("2.0.1"))
    );
    assert!(leader.live_instance().is_some_and(|v| v.contains('@')));
    let keys: Vec<&str> = record.simple_fields.keys().map(String::as_str).collect();
    assert_eq!(keys, ["HELIX_VERSION", "LIVE_INSTANCE", "SESSION_ID"]);
    assert!(record.map_fields.is_empty() && record.list_fields.is_empty());

    let (history, _) = record_at(&zk, &paths().controller_history()).await?;
    let history = ControllerHistory::from(history);
    assert_eq!(history.id(), "HISTORY");
    assert_eq!(history.leaders(CLUSTER), ["ctl0"]);
    let entries = history.entries();
    assert_eq!(entries.len(), 1);
    let entry = &entries[0];
    assert_eq!(entry.get("CONTROLLER").map(String::as_str), Some("ctl0"));
    for key in ["TIME", "DATE", "VERSION"] {
        assert!(
            entry.contains_key(key),
            "HISTORY entry lacks {key}: {entry:?}"
        );
    }
    ctl.shutdown().await?;
    assert!(zk.exists(&paths().controller_leader()).await?.is_none());
    Ok(())
}

async fn record_at(
    zk: &strand_zk::Zk,
    path: &str,
) -> Result<(strand_model::ZNRecord, strand_zk::Stat), Box<dyn std::error::Error + Send + Sync>> {
    Ok(record(zk, path)
        .await
        .ok_or(format!("no record at {path}"))?)
}

#[tokio::test]
async fn standby_takes_over_when_the_leader_session_expires() -> TestResult {
    let (server, admin) = cluster(0).await;
    let zk = admin.zk().clone();
    let first = Controller::start(zk_config(&server), CLUSTER, "ctl0").await?;
    first.wait_leader(DEADLINE).await?;
    let second = Controller::start(zk_config(&server), CLUSTER, "ctl1").await?;
    eventually("ctl1 standing by", || async {
        (second.status().role == Role::Standby).then_some(())
    })
    .await;
    assert!(first.is_leader());

    let session = first.session().ok_or("no session")?;
    session.expire_session().await?;
    second.wait_leader(DEADLINE).await?;
    let leader = eventually("LEADER owned by ctl1", || async {
        let (record, _) = record(&zk, &paths().controller_leader()).await?;
        (record.id == "ctl1").then_some(record)
    })
    .await;
    assert_eq!(leader.id, "ctl1");
    // The old leader comes back on a new session, as a standby.
    eventually("ctl0 standing by again", || async {
        (first.status().role == Role::Standby).then_some(())
    })
    .await;
    let (history, _) = record_at(&zk, &paths().controller_history()).await?;
    assert_eq!(
        ControllerHistory::from(history).leaders(CLUSTER),
        ["ctl0", "ctl1"]
    );
    first.shutdown().await?;
    second.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn standby_takes_over_at_once_when_the_leader_shuts_down() -> TestResult {
    let (server, admin) = cluster(0).await;
    let first = Controller::start(zk_config(&server), CLUSTER, "ctl0").await?;
    first.wait_leader(DEADLINE).await?;
    let second = Controller::start(zk_config(&server), CLUSTER, "ctl1").await?;
    eventually("ctl1 standing by", || async {
        (second.status().role == Role::Standby).then_some(())
    })
    .await;
    first.shutdown().await?;
    // LEADER was deleted by the shutdown, not left to the session timeout:
    // it is gone (or already the standby's) the moment shutdown returns.
    let leader = admin
        .zk()
        .exists(&PropertyPaths::new(CLUSTER).controller_leader())
        .await?;
    if let Some(stat) = leader {
        assert_eq!(
            second.session().map(|zk| zk.session_id()),
            Some(format!("{:x}", stat.ephemeral_owner)),
            "LEADER still belongs to the stopped controller"
        );
    }
    second.wait_leader(DEADLINE).await?;
    second.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn a_cluster_that_is_not_set_up_is_refused() {
    let (server, _admin) = cluster(0).await;
    let err = Controller::start(zk_config(&server), "NOPE", "ctl0")
        .await
        .expect_err("no such cluster");
    assert!(err.to_string().contains("NOPE"), "{err}");
}
