//! A Java-style relay message (as Helix 2.0.1's controller attaches it in
//! P2P mode, `Message.attachRelayMessage`) is forwarded by a Strand
//! participant: with no controller running, a MASTER→SLAVE message to one
//! participant carrying the SLAVE→MASTER message of another makes the
//! other MASTER — the promotion can only have come from the demoted
//! participant, the moment its demotion was recorded. Real ZooKeeper,
//! real participants, the Rust MasterSlave plugin.

use std::time::{Duration, Instant};

use strand_admin::RebalanceMode;
use strand_model::time::now_ms;
use strand_model::{CurrentState, Message, SessionId, StateTransitionSpec};
use strand_participant::Participant;
use strand_tests::cluster::{CLUSTER, Cluster, instance};
use strand_tests::master_watch::MasterWatch;

const PARTITION: &str = "db_0";

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

    // The handoff, P2P: the demotion carries the promotion.
    let mut demotion = transition("demote-0", &old, "MASTER", "SLAVE");
    let promotion = transition("promote-1", &new, "SLAVE", "MASTER");
    let record = demotion.record_mut();
    record.set_list("RELAY_PARTICIPANTS", [new.instance()]);
    let attached = record.map_mut(new.instance());
    for (key, value) in &promotion.record().simple_fields {
        attached.insert(key.clone(), value.clone());
    }
    attached.insert("RELAY_MSG_ID".into(), "promote-1".into());
    attached.insert("MSG_SUBTYPE".into(), "RELAYED_MESSAGE".into());
    attached.insert("RELAY_FROM".into(), old.instance().to_owned());
    attached.insert("EXPIRY_PERIOD".into(), "60000".into());
    send(&cluster, &demotion).await;

    wait_state(&cluster, &old, "SLAVE").await;
    wait_state(&cluster, &new, "MASTER").await;
    assert_eq!(new.instance(), instance(1));

    watch.catch_up().await;
    assert_eq!(watch.max(), 1, "two MASTERs at once");
    old.shutdown().await;
    new.shutdown().await;
}
