//! Relay (P2P) messages, both directions of interop. Real ZooKeeper, real
//! participants, the Rust MasterSlave plugin.
//!
//! * A Java-style relay message (as Helix 2.0.1's controller attaches it,
//!   `Message.attachRelayMessage`) is forwarded by a Strand participant:
//!   with no controller running, a MASTER→SLAVE message to one participant
//!   carrying the SLAVE→MASTER message of another makes the other MASTER —
//!   the promotion can only have come from the demoted participant; a
//!   relayed message that arrives after its `EXPIRY_PERIOD` is deleted
//!   without running, as Helix's participant drops it.
//! * Strand's controller sends them where `P2P_MESSAGE_ENABLED` is set: a
//!   drain hands every MASTER over through the drained participant (each
//!   new MASTER's `TRIGGERED_BY` names it, as Helix records a relayed
//!   transition), and never two MASTERs.

use std::time::{Duration, Instant};

use strand_admin::RebalanceMode;
use strand_model::time::now_ms;
use strand_model::{CurrentState, Message, SessionId, StateTransitionSpec};
use strand_participant::Participant;
use strand_tests::cluster::{CLUSTER, Cluster, instance};
use strand_tests::master_watch::MasterWatch;

const PARTITION: &str = "db_0";
/// A relay target that is not in the cluster.
const GHOST: &str = "ghost_9";

fn transition(id: &str, to: &Participant, from: &str, state: &str) -> Message {
    Message::state_transition(&StateTransitionSpec {
        msg_id: id.to_owned(),
        create_timestamp: now_ms(),
        src_name: "java-controller".to_owned(),
        src_session_id: SessionId(0x5eed),
        tgt_name: to.instance().to_owned(),
        tgt_session_id: to.session(),
        resource: "db".to_owned(),
        partition: PARTITION.to_owned(),
        from_state: from.to_owned(),
        to_state: state.to_owned(),
        state_model_def: "MasterSlave".to_owned(),
        state_model_factory_name: "DEFAULT".to_owned(),
        current_active_replica_number: -1,
        cluster_event_name: "CurrentStateChange".to_owned(),
        retry_count: 3,
        rebalance_type: None,
        bucket_size: 0,
        resource_group_name: None,
        resource_tag: None,
        timeout: None,
    })
}

async fn send(cluster: &Cluster, message: &Message) {
    let target = message.tgt_name().expect("target").to_owned();
    cluster
        .admin
        .accessor()
        .create(
            &cluster.paths.message(&target, message.id()),
            message.record(),
            strand_zk::CreateKind::Persistent,
        )
        .await
        .expect("message written");
}

async fn current_state(cluster: &Cluster, participant: &Participant) -> CurrentState {
    let path = cluster
        .paths
        .current_state(participant.instance(), participant.session(), "db");
    cluster
        .admin
        .accessor()
        .get(&path)
        .await
        .expect("read")
        .map(|v| CurrentState::from(v.value))
        .expect("current state")
}

async fn wait_state(cluster: &Cluster, participant: &Participant, want: &str) {
    let path = cluster
        .paths
        .current_state(participant.instance(), participant.session(), "db");
    let start = Instant::now();
    loop {
        let state = cluster
            .admin
            .accessor()
            .get(&path)
            .await
            .expect("read")
            .map(|v| CurrentState::from(v.value))
            .and_then(|cs| cs.state(PARTITION).map(str::to_owned));
        if state.as_deref() == Some(want) {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "{} never became {want} (is {state:?})",
            participant.instance()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_java_style_relay_message_is_forwarded_when_the_demotion_is_recorded() {
    let cluster = Cluster::new(2).await;
    cluster
        .admin
        .add_resource(CLUSTER, "db", 1, "MasterSlave", RebalanceMode::SemiAuto)
        .await
        .expect("resource");
    let watch = MasterWatch::connect(&cluster.server.connect_string()).await;
    let old = cluster.participant(0).await;
    let new = cluster.participant(1).await;
    // As a controller would: both SLAVE, then the first MASTER.
    send(&cluster, &transition("up-0", &old, "OFFLINE", "SLAVE")).await;
    send(&cluster, &transition("up-1", &new, "OFFLINE", "SLAVE")).await;
    wait_state(&cluster, &old, "SLAVE").await;
    wait_state(&cluster, &new, "SLAVE").await;
    send(&cluster, &transition("master-0", &old, "SLAVE", "MASTER")).await;
    wait_state(&cluster, &old, "MASTER").await;

    // The handoff, P2P: the demotion carries the promotion — and, first,
    // one for an instance that is not in the cluster (no MESSAGES to
    // create it in), which must not hold up the demotion's record or the
    // real promotion.
    let mut demotion = transition("demote-0", &old, "MASTER", "SLAVE");
    let promotion = transition("promote-1", &new, "SLAVE", "MASTER");
    let record = demotion.record_mut();
    record.set_list("RELAY_PARTICIPANTS", [GHOST, new.instance()]);
    for target in [GHOST, new.instance()] {
        let attached = record.map_mut(target);
        for (key, value) in &promotion.record().simple_fields {
            attached.insert(key.clone(), value.clone());
        }
        attached.insert("RELAY_MSG_ID".into(), "promote-1".into());
        attached.insert("MSG_SUBTYPE".into(), "RELAYED_MESSAGE".into());
        attached.insert("RELAY_FROM".into(), old.instance().to_owned());
        attached.insert("EXPIRY_PERIOD".into(), "60000".into());
    }
    send(&cluster, &demotion).await;

    wait_state(&cluster, &old, "SLAVE").await;
    wait_state(&cluster, &new, "MASTER").await;
    assert!(
        cluster
            .admin
            .accessor()
            .get(&cluster.paths.message(GHOST, "promote-1"))
            .await
            .expect("read")
            .is_none(),
        "nothing created for an instance not in the cluster"
    );
    assert_eq!(new.instance(), instance(1));
    let promoted = current_state(&cluster, &new).await;
    assert_eq!(
        promoted
            .record()
            .map(PARTITION)
            .and_then(|m| m.get("TRIGGERED_BY"))
            .map(String::as_str),
        Some(old.instance()),
        "a relayed transition is triggered by the relaying participant"
    );

    // A relayed promotion that arrives after its expiry (Helix drops it on
    // receipt): deleted, never run — `old` stays SLAVE.
    let mut late = transition("promote-late", &old, "SLAVE", "MASTER");
    let record = late.record_mut();
    record.set_simple("MSG_SUBTYPE", "RELAYED_MESSAGE");
    record.set_simple("RELAY_FROM", new.instance());
    record.set_simple("EXPIRY_PERIOD", "5000");
    record.set_simple("RELAY_TIME", (now_ms() - 10_000).to_string());
    send(&cluster, &late).await;
    let path = cluster.paths.message(old.instance(), late.id());
    let start = Instant::now();
    while cluster
        .admin
        .accessor()
        .get(&path)
        .await
        .expect("read")
        .is_some()
    {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "the expired relayed message was never deleted"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        current_state(&cluster, &old).await.state(PARTITION),
        Some("SLAVE"),
        "an expired relayed message never runs"
    );

    watch.catch_up().await;
    assert_eq!(watch.max(), 1, "two MASTERs at once");
    old.shutdown().await;
    new.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strands_controller_relays_the_promotion_through_the_drained_participant() {
    const PARTITIONS: u32 = 12;
    let cluster = Cluster::new(3).await;
    cluster
        .add_master_slave("db", PARTITIONS, RebalanceMode::SemiAuto)
        .await;
    cluster
        .set_cluster_field("P2P_MESSAGE_ENABLED", "true")
        .await;
    let watch = MasterWatch::connect(&cluster.server.connect_string()).await;
    let mut participants = Vec::new();
    for i in 0..3 {
        participants.push(cluster.participant(i).await);
    }
    let controller = cluster.controller("ctl0").await;
    let converged = |view: &strand_tests::cluster::View| {
        view.len() == PARTITIONS as usize
            && view.values().all(|m| {
                strand_tests::cluster::count(m, "MASTER") == 1
                    && strand_tests::cluster::count(m, "SLAVE") == 2
            })
    };
    cluster.wait_view("db", "convergence", converged).await;
    let drained = instance(0);
    let mastered: Vec<String> = cluster
        .view("db")
        .await
        .iter()
        .filter(|(_, m)| m.get(&drained).map(String::as_str) == Some("MASTER"))
        .map(|(p, _)| p.clone())
        .collect();
    assert!(!mastered.is_empty());

    cluster
        .admin
        .drain_instance(CLUSTER, &drained, None)
        .await
        .expect("drain");
    cluster
        .wait_view("db", "every MASTER handed over", |view| {
            converged(view)
                && mastered
                    .iter()
                    .all(|p| view[p].get(&drained).map(String::as_str) == Some("SLAVE"))
        })
        .await;
    // Each new MASTER was promoted by the drained participant's relay.
    let view = cluster.view("db").await;
    for partition in &mastered {
        let (new_master, _) = view[partition]
            .iter()
            .find(|(_, s)| *s == "MASTER")
            .expect("a MASTER");
        let holder = participants
            .iter()
            .find(|p| p.instance() == new_master)
            .expect("a participant");
        let cs = current_state(&cluster, holder).await;
        assert_eq!(
            cs.record()
                .map(partition)
                .and_then(|m| m.get("TRIGGERED_BY"))
                .map(String::as_str),
            Some(drained.as_str()),
            "{partition}: promoted without the relay"
        );
    }

    watch.catch_up().await;
    assert_eq!(watch.max(), 1, "two MASTERs at once");
    controller.shutdown().await.expect("controller stops");
    for p in participants {
        p.shutdown().await;
    }
}
