//! Connection drops between the steps of a transition: three participants
//! reach ZooKeeper through a proxy that is cut (every connection dropped,
//! new ones refused for a second) the first times any transition reaches
//! the given step — before the mark-read, before the plugin call, before
//! the current-state write (with the message's delete), after it. Every
//! case ends converged: one MASTER and two SLAVEs per partition in the
//! current states, no message left, the same sessions (no participant had
//! to rejoin). One more case cuts only once the cluster has converged,
//! before the current-state writes of a drain with relay (P2P) messages
//! on — the writes that carry the relayed promotions — and ends with every
//! MASTER handed over.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use strand_admin::RebalanceMode;
use strand_participant::{Participant, ParticipantConfig, StepHook, TransitionStep};
use strand_tests::cluster::{CLUSTER, Cluster, Server, instance};
use strand_tests::convergence::Convergence;
use strand_tests::master_watch::MasterWatch;
use strand_tests::proxy::ZkProxy;
use strand_zk::ZkConfig;

const PARTITIONS: usize = 12;
const REPLICAS: usize = 3;
/// Cuts per case.
const CUTS: usize = 3;
const OUTAGE: Duration = Duration::from_secs(1);

/// When the cuts happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// From the start (the cold convergence).
    Convergence,
    /// Only during a drain of instance 0 with relay messages on.
    RelayingDrain,
}

async fn cut_at(step: TransitionStep) {
    cut_during(step, Phase::Convergence).await;
}

async fn cut_during(step: TransitionStep, phase: Phase) {
    // `RUST_LOG=strand_participant=debug` shows what each participant does.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let cluster = Cluster::new(3).await;
    let Server::Single(zk) = &cluster.server else {
        unreachable!("a single server")
    };
    let target = format!("127.0.0.1:{}", zk.port()).parse().expect("address");
    let proxy = Arc::new(ZkProxy::start(target).await.expect("proxy"));
    cluster
        .admin
        .add_resource(
            CLUSTER,
            "db",
            PARTITIONS as u32,
            "MasterSlave",
            RebalanceMode::SemiAuto,
        )
        .await
        .expect("resource");
    cluster
        .admin
        .rebalance(CLUSTER, "db", REPLICAS as u32)
        .await
        .expect("rebalance");
    if phase == Phase::RelayingDrain {
        cluster
            .set_cluster_field("P2P_MESSAGE_ENABLED", "true")
            .await;
    }
    let direct = cluster.server.connect_string();
    let watch = MasterWatch::connect(&direct).await;
    let cut = Arc::new(AtomicUsize::new(0));
    let armed = Arc::new(AtomicBool::new(phase == Phase::Convergence));
    let mut participants = Vec::new();
    for i in 0..3 {
        let zk =
            ZkConfig::new(proxy.connect_string()).with_session_timeout(Duration::from_secs(20));
        let mut config = ParticipantConfig::new(zk, CLUSTER, instance(i));
        let (proxy, cut, armed) = (Arc::clone(&proxy), Arc::clone(&cut), Arc::clone(&armed));
        config.step_hook = Some(StepHook(Arc::new(move |at, _message| {
            if at == step
                && armed.load(Ordering::SeqCst)
                && !proxy.in_outage()
                && cut.fetch_add(1, Ordering::SeqCst) < CUTS
            {
                proxy.cut(OUTAGE);
            }
        })));
        participants.push(
            Participant::start(config, Arc::clone(&cluster.registry))
                .await
                .expect("participant starts"),
        );
    }
    let sessions: Vec<_> = participants.iter().map(Participant::session).collect();
    let controller = cluster.controller("ctl0").await;
    let convergence = Convergence::connect(&direct).await;
    convergence
        .wait("db", PARTITIONS, REPLICAS, Duration::from_secs(180))
        .await;
    if phase == Phase::RelayingDrain {
        armed.store(true, Ordering::SeqCst);
        let drained = instance(0);
        cluster
            .admin
            .drain_instance(CLUSTER, &drained, None)
            .await
            .expect("drain");
        cluster
            .wait_view("db", "every MASTER handed over", |view| {
                view.len() == PARTITIONS
                    && view.values().all(|m| {
                        strand_tests::cluster::count(m, "MASTER") == 1
                            && m.get(&drained).map(String::as_str) != Some("MASTER")
                    })
            })
            .await;
        convergence
            .wait("db", PARTITIONS, REPLICAS, Duration::from_secs(180))
            .await;
    }
    assert!(
        proxy.cuts() >= 1,
        "the connection was never cut at {step:?}"
    );
    assert_eq!(
        participants
            .iter()
            .map(Participant::session)
            .collect::<Vec<_>>(),
        sessions,
        "a participant had to rejoin"
    );
    watch.catch_up().await;
    assert_eq!(watch.max(), 1, "a partition had two MASTERs");
    eprintln!("{step:?}: {} cuts, converged", proxy.cuts());
    for p in participants {
        p.shutdown().await;
    }
    controller.shutdown().await.expect("controller stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drop_before_the_mark_read_ends_converged() {
    cut_at(TransitionStep::BeforeMarkRead).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drop_before_the_plugin_call_ends_converged() {
    cut_at(TransitionStep::BeforePlugin).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drop_before_the_current_state_write_ends_converged() {
    cut_at(TransitionStep::BeforeRecord).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drop_after_the_current_state_write_ends_converged() {
    cut_at(TransitionStep::Done).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drop_before_a_write_that_carries_relayed_promotions_ends_handed_over() {
    cut_during(TransitionStep::BeforeRecord, Phase::RelayingDrain).await;
}
