//! Pipeline runs on simulated participants: messages shaped like Helix's,
//! convergence in each rebalance mode, failover, disable/enable,
//! maintenance mode and resource drop.

use std::collections::{BTreeMap, BTreeSet};

use strand_admin::RebalanceMode;
use strand_controller::Controller;
use strand_model::{
    IdealState, LiveInstance, MaintenanceSignal, Message, RebalanceMode as Mode, SessionId,
    records::TriggeringEntity,
};
use strand_zk::{Accessor, CreateKind, Update};

use crate::common::*;

/// The simple fields of Helix 2.0.1's OFFLINE→SLAVE message in the dump.
const HELIX_MESSAGE_KEYS: [&str; 17] = [
    "CREATE_TIMESTAMP",
    "CURRENT_ACTIVE_REPLICA_NUMBER",
    "ClusterEventName",
    "FROM_STATE",
    "MSG_ID",
    "MSG_STATE",
    "MSG_TYPE",
    "PARTITION_NAME",
    "RESOURCE_NAME",
    "RETRY_COUNT",
    "SRC_NAME",
    "SRC_SESSION_ID",
    "STATE_MODEL_DEF",
    "STATE_MODEL_FACTORY_NAME",
    "TGT_NAME",
    "TGT_SESSION_ID",
    "TO_STATE",
];

async fn messages_of(zk: &strand_zk::Zk, instance: &str) -> Vec<Message> {
    let dir = paths().messages(instance);
    let mut out = Vec::new();
    for id in zk.children(&dir).await.unwrap_or_default() {
        if let Some((record, _)) = record(zk, &format!("{dir}/{id}")).await {
            out.push(Message::from(record));
        }
    }
    out
}

#[tokio::test]
async fn messages_look_like_helix_and_are_sent_once() -> TestResult {
    let (server, admin) = cluster(2).await;
    let zk = admin.zk().clone();
    admin
        .add_resource(CLUSTER, "db", 4, "MasterSlave", RebalanceMode::SemiAuto)
        .await?;
    admin.rebalance(CLUSTER, "db", 2).await?;
    // Live instances that never answer: messages stay for inspection.
    let mut sessions = BTreeMap::new();
    for name in ["host_12000", "host_12001"] {
        let participant = connect(&server).await;
        let session = SessionId::parse(&participant.session_id())?;
        let live = LiveInstance::new(name, session, "2.0.1", "1@test");
        participant
            .create(
                &paths().live_instance(name),
                &live.to_bytes()?,
                CreateKind::Ephemeral,
            )
            .await?;
        sessions.insert(name, (session, participant));
    }
    let ctl = Controller::start(zk_config(&server), CLUSTER, "ctl0").await?;
    ctl.wait_leader(DEADLINE).await?;
    let controller_session = ctl.status().session.ok_or("no session")?;

    let sent = eventually("4 × 2 messages", || async {
        let mut all = messages_of(&zk, "host_12000").await;
        all.extend(messages_of(&zk, "host_12001").await);
        (all.len() == 8).then_some(all)
    })
    .await;
    for message in &sent {
        let keys: Vec<&str> = message
            .record()
            .simple_fields
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, HELIX_MESSAGE_KEYS, "{message:?}");
        let field = |k: &str| message.record().simple(k).unwrap_or_default().to_owned();
        assert_eq!(field("MSG_TYPE"), "STATE_TRANSITION");
        assert_eq!(field("MSG_STATE"), "new");
        assert_eq!(field("FROM_STATE"), "OFFLINE");
        assert_eq!(field("TO_STATE"), "SLAVE");
        assert_eq!(field("SRC_NAME"), "ctl0");
        assert_eq!(field("SRC_SESSION_ID"), controller_session);
        assert_eq!(field("RETRY_COUNT"), "3");
        assert_eq!(field("STATE_MODEL_FACTORY_NAME"), "DEFAULT");
        assert_eq!(field("ClusterEventName"), "ControllerChange");
        assert_eq!(field("MSG_ID"), message.id());
        assert!(uuid_like(message.id()), "{}", message.id());
        let (session, _) = &sessions[field("TGT_NAME").as_str()];
        assert_eq!(field("TGT_SESSION_ID"), session.to_string());
    }
    // One message per replica.
    let replicas: BTreeSet<(String, String)> = sent
        .iter()
        .map(|m| {
            (
                m.tgt_name().unwrap_or_default().to_owned(),
                m.partition_name().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(replicas.len(), 8);

    // More runs send nothing more: the pending messages are respected.
    for _ in 0..3 {
        let runs = ctl.status().runs;
        ctl.rebalance();
        eventually("one more run", || async {
            (ctl.status().runs > runs).then_some(())
        })
        .await;
    }
    let mut again = messages_of(&zk, "host_12000").await;
    again.extend(messages_of(&zk, "host_12001").await);
    assert_eq!(again.len(), 8);
    ctl.shutdown().await?;
    Ok(())
}

fn uuid_like(id: &str) -> bool {
    let parts: Vec<usize> = id.split('-').map(str::len).collect();
    parts == [8, 4, 4, 4, 12] && id.chars().all(|c| c == '-' || c.is_ascii_hexdigit())
}

async fn participants(
    server: &strand_devcluster::zookeeper::LocalZk,
    n: usize,
) -> Vec<SimParticipant> {
    let mut out = Vec::new();
    for i in 0..n {
        out.push(SimParticipant::start(server, &format!("host_{}", 12000 + i)).await);
    }
    out
}

#[tokio::test]
async fn semi_auto_master_slave_converges_and_fails_over() -> TestResult {
    let (server, admin) = cluster(3).await;
    let zk = admin.zk().clone();
    admin
        .add_resource(CLUSTER, "db", 6, "MasterSlave", RebalanceMode::SemiAuto)
        .await?;
    admin.rebalance(CLUSTER, "db", 3).await?;
    let watch = DoubleTopWatch::start(&server, "MASTER").await;
    let mut sims = participants(&server, 3).await;
    let ctl = Controller::start(zk_config(&server), CLUSTER, "ctl0").await?;
    // SEMI_AUTO: the first of each preference list ends up MASTER (another
    // replica may lead for a while if its SLAVE was ready first).
    let ideal = admin.ideal_state(CLUSTER, "db").await?;
    let masters_first = |v: &ViewMap| {
        v.iter().all(|(partition, states)| {
            let first = ideal.preference_list(partition).and_then(|l| l.first());
            first.is_some_and(|f| states.get(f).map(String::as_str) == Some("MASTER"))
        })
    };
    wait_view(
        &zk,
        "db",
        "MASTER + 2 SLAVEs, masters first in the lists",
        |v| every_partition(v, 6, &[("MASTER", 1), ("SLAVE", 2)]) && masters_first(v),
    )
    .await;
    ctl.wait_converged(DEADLINE).await?;

    // host_12000 crashes: its masters move, the others stay.
    let crashed = sims.remove(0);
    crashed.crash().await;
    wait_view(&zk, "db", "MASTER + SLAVE on the survivors", |v| {
        every_partition(v, 6, &[("MASTER", 1), ("SLAVE", 1)])
            && v.values().all(|m| !m.contains_key("host_12000"))
    })
    .await;
    // It comes back: SEMI_AUTO hands mastership back.
    sims.insert(0, SimParticipant::start(&server, "host_12000").await);
    wait_view(&zk, "db", "hand-back", |v| {
        every_partition(v, 6, &[("MASTER", 1), ("SLAVE", 2)]) && masters_first(v)
    })
    .await;
    // Graceful stop of a participant: the same.
    let stopped = sims.remove(1);
    stopped.stop().await;
    wait_view(&zk, "db", "MASTER + SLAVE without host_12001", |v| {
        every_partition(v, 6, &[("MASTER", 1), ("SLAVE", 1)])
            && v.values().all(|m| !m.contains_key("host_12001"))
    })
    .await;
    watch.assert_clean();
    ctl.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn full_auto_online_offline_balances_and_rebalances() -> TestResult {
    let (server, admin) = cluster(4).await;
    let zk = admin.zk().clone();
    admin
        .add_resource(CLUSTER, "oo", 12, "OnlineOffline", RebalanceMode::FullAuto)
        .await?;
    admin.rebalance(CLUSTER, "oo", 2).await?;
    let mut sims = participants(&server, 3).await;
    let ctl = Controller::start(zk_config(&server), CLUSTER, "ctl0").await?;
    let view = wait_view(&zk, "oo", "2 ONLINE replicas everywhere", |v| {
        every_partition(v, 12, &[("ONLINE", 2)])
    })
    .await;
    assert_eq!(
        load(&view),
        BTreeMap::from([
            ("host_12000".into(), 8),
            ("host_12001".into(), 8),
            ("host_12002".into(), 8)
        ])
    );

    // A fourth instance joins: replicas move to it, evenly.
    sims.push(SimParticipant::start(&server, "host_12003").await);
    let view = wait_view(&zk, "oo", "balanced over 4", |v| {
        every_partition(v, 12, &[("ONLINE", 2)]) && load(v).values().all(|&n| n == 6)
    })
    .await;
    assert_eq!(load(&view).len(), 4);
    ctl.shutdown().await?;
    Ok(())
}

fn load(view: &ViewMap) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for states in view.values() {
        for instance in states.keys() {
            *out.entry(instance.clone()).or_default() += 1;
        }
    }
    out
}

#[tokio::test]
async fn customized_leader_standby_follows_the_ideal_state() -> TestResult {
    let (server, admin) = cluster(3).await;
    let zk = admin.zk().clone();
    let mut ideal =
        IdealState::for_new_resource("ls", 2, "LeaderStandby", Mode::Customized, "DEFAULT");
    ideal.set_replicas(strand_model::Replicas::Count(2));
    ideal.set_partition_state("ls_0", "host_12000", "LEADER");
    ideal.set_partition_state("ls_0", "host_12001", "STANDBY");
    ideal.set_partition_state("ls_1", "host_12002", "LEADER");
    ideal.set_partition_state("ls_1", "host_12000", "STANDBY");
    Accessor::new(zk.clone())
        .create(
            &paths().ideal_state("ls"),
            ideal.record(),
            CreateKind::Persistent,
        )
        .await?;
    let _sims = participants(&server, 3).await;
    let ctl = Controller::start(zk_config(&server), CLUSTER, "ctl0").await?;
    let expected = |v: &ViewMap| {
        v.get("ls_0").map(|m| {
            (
                m.get("host_12000").map(String::as_str),
                m.get("host_12001").map(String::as_str),
                m.len(),
            )
        }) == Some((Some("LEADER"), Some("STANDBY"), 2))
            && v.get("ls_1").map(|m| {
                (
                    m.get("host_12002").map(String::as_str),
                    m.get("host_12000").map(String::as_str),
                    m.len(),
                )
            }) == Some((Some("LEADER"), Some("STANDBY"), 2))
    };
    wait_view(&zk, "ls", "the customized map", expected).await;

    // Swap the leader of ls_0: demote host_12000 first, then promote host_12001.
    Accessor::new(zk.clone())
        .update(&paths().ideal_state("ls"), false, |current| {
            let Some(record) = current else {
                return Update::Keep;
            };
            let mut ideal = IdealState::from(record);
            ideal.set_partition_state("ls_0", "host_12000", "STANDBY");
            ideal.set_partition_state("ls_0", "host_12001", "LEADER");
            Update::Write(ideal.into_record())
        })
        .await?;
    wait_view(&zk, "ls", "swapped leader", |v| {
        v.get("ls_0")
            .and_then(|m| m.get("host_12001"))
            .map(String::as_str)
            == Some("LEADER")
            && v.get("ls_0")
                .and_then(|m| m.get("host_12000"))
                .map(String::as_str)
                == Some("STANDBY")
    })
    .await;
    ctl.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn disabled_instance_goes_offline_and_returns_when_enabled() -> TestResult {
    let (server, admin) = cluster(3).await;
    let zk = admin.zk().clone();
    admin
        .add_resource(CLUSTER, "db", 3, "MasterSlave", RebalanceMode::SemiAuto)
        .await?;
    admin.rebalance(CLUSTER, "db", 3).await?;
    let _sims = participants(&server, 3).await;
    let ctl = Controller::start(zk_config(&server), CLUSTER, "ctl0").await?;
    wait_view(&zk, "db", "converged", |v| {
        every_partition(v, 3, &[("MASTER", 1), ("SLAVE", 2)])
    })
    .await;

    admin
        .set_instance_enabled(CLUSTER, "host_12001", false, None)
        .await?;
    wait_view(&zk, "db", "host_12001 OFFLINE everywhere", |v| {
        v.values()
            .all(|m| m.get("host_12001").map(String::as_str) == Some("OFFLINE"))
            && v.values().all(|m| counts(m).get("MASTER") == Some(&1))
    })
    .await;
    admin
        .set_instance_enabled(CLUSTER, "host_12001", true, None)
        .await?;
    wait_view(&zk, "db", "back", |v| {
        every_partition(v, 3, &[("MASTER", 1), ("SLAVE", 2)])
    })
    .await;
    ctl.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn maintenance_mode_freezes_full_auto_placement() -> TestResult {
    let (server, admin) = cluster(4).await;
    let zk = admin.zk().clone();
    admin
        .add_resource(CLUSTER, "oo", 6, "OnlineOffline", RebalanceMode::FullAuto)
        .await?;
    admin.rebalance(CLUSTER, "oo", 2).await?;
    let mut sims = participants(&server, 3).await;
    let ctl = Controller::start(zk_config(&server), CLUSTER, "ctl0").await?;
    wait_view(&zk, "oo", "converged", |v| {
        every_partition(v, 6, &[("ONLINE", 2)])
    })
    .await;
    ctl.wait_converged(DEADLINE).await?;

    let signal = MaintenanceSignal::new("test", TriggeringEntity::User, 0);
    Accessor::new(zk.clone())
        .create(
            &paths().maintenance(),
            signal.record(),
            CreateKind::Persistent,
        )
        .await?;
    sims.push(SimParticipant::start(&server, "host_12003").await);
    // The newcomer gets nothing while maintenance lasts.
    let runs = ctl.status().runs;
    ctl.wait_converged(DEADLINE).await?;
    assert!(ctl.status().runs > runs);
    let view = external_view(&zk, "oo").await.ok_or("no view")?;
    assert!(
        view.values().all(|m| !m.contains_key("host_12003")),
        "{view:?}"
    );
    assert!(every_partition(&view, 6, &[("ONLINE", 2)]));

    zk.delete(&paths().maintenance(), None).await?;
    wait_view(&zk, "oo", "host_12003 used after maintenance", |v| {
        every_partition(v, 6, &[("ONLINE", 2)]) && v.values().any(|m| m.contains_key("host_12003"))
    })
    .await;
    ctl.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn dropped_resource_is_dropped_then_its_view_removed() -> TestResult {
    let (server, admin) = cluster(2).await;
    let zk = admin.zk().clone();
    admin
        .add_resource(CLUSTER, "db", 2, "MasterSlave", RebalanceMode::SemiAuto)
        .await?;
    admin.rebalance(CLUSTER, "db", 2).await?;
    let sims = participants(&server, 2).await;
    let ctl = Controller::start(zk_config(&server), CLUSTER, "ctl0").await?;
    wait_view(&zk, "db", "converged", |v| {
        every_partition(v, 2, &[("MASTER", 1), ("SLAVE", 1)])
    })
    .await;

    admin.drop_resource(CLUSTER, "db").await?;
    eventually("external view removed", || async {
        zk.exists(&paths().external_view("db"))
            .await
            .ok()?
            .is_none()
            .then_some(())
    })
    .await;
    for sim in &sims {
        let applied = sim.applied.lock().await.clone();
        let dropped = applied
            .iter()
            .filter(|(_, _, _, to)| to == "DROPPED")
            .count();
        assert_eq!(dropped, 2, "{}: {applied:?}", sim.name);
    }
    ctl.shutdown().await?;
    Ok(())
}
