//! Planned maintenance on a real ZooKeeper with real participants (the
//! Rust MasterSlave plugin) and Strand's controller, FULL_AUTO:
//!
//! * an admin drain (`EVACUATE`) moves every replica off the instance —
//!   [`strand_admin::DrainWatch`] sees it finish, as Helix's
//!   `isEvacuateFinished` would — and an undrain brings replicas back;
//! * delayed rebalance (`DELAY_REBALANCE_TIME`, `MIN_ACTIVE_REPLICAS`):
//!   an instance that leaves keeps its replicas placed while it is away
//!   within the delay (its MASTERs move at once), gets them back when it
//!   returns, and after the delay its replicas are placed elsewhere;
//! * with the cluster's handoff limit at 1 (`STRAND_MAX_TOP_STATE_HANDOFFS`),
//!   a SEMI_AUTO drain and undrain never leave two partitions without a
//!   MASTER at once;
//! * a watcher never sees two MASTERs of a partition.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use strand_admin::{DrainGoal, DrainWatch, RebalanceMode, RecordEdit};
use strand_model::{CurrentState, ZNRecord};
use strand_tests::cluster::{CLUSTER, Cluster, View, count, instance};
use strand_tests::master_watch::MasterWatch;

const PARTITIONS: u32 = 12;

async fn full_auto(cluster: &Cluster) {
    cluster
        .add_master_slave("db", PARTITIONS, RebalanceMode::FullAuto)
        .await;
}

fn converged(view: &View) -> bool {
    view.len() == PARTITIONS as usize
        && view
            .values()
            .all(|m| m.len() == 3 && count(m, "MASTER") == 1 && count(m, "SLAVE") == 2)
}

fn held_by(view: &View, host: &str) -> BTreeSet<String> {
    view.iter()
        .filter(|(_, m)| m.contains_key(host))
        .map(|(p, _)| p.clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_drain_moves_every_replica_off_and_undrain_brings_them_back() {
    let cluster = Cluster::new(4).await;
    full_auto(&cluster).await;
    let watch = MasterWatch::connect(&cluster.server.connect_string()).await;
    let mut participants = Vec::new();
    for i in 0..4 {
        participants.push(cluster.participant(i).await);
    }
    let controller = cluster.controller("ctl0").await;
    cluster.wait_view("db", "convergence", converged).await;

    let host = instance(0);
    cluster
        .admin
        .drain_instance(CLUSTER, &host, Some("maintenance"))
        .await
        .expect("drain");
    let drain = DrainWatch::start(cluster.admin.zk(), CLUSTER, &host)
        .await
        .expect("watch");
    let status = drain
        .wait(DrainGoal::Finished, Duration::from_secs(180))
        .await;
    assert!(status.finished(), "drain did not finish: {status:?}");
    assert!(status.evacuating);
    cluster
        .wait_view("db", "three replicas elsewhere", |view| {
            converged(view) && held_by(view, &host).is_empty()
        })
        .await;
    assert!(
        cluster
            .admin
            .drain_status(CLUSTER, &host)
            .await
            .expect("status")
            .finished()
    );

    cluster
        .admin
        .undrain_instance(CLUSTER, &host)
        .await
        .expect("undrain");
    cluster
        .wait_view("db", "replicas back on the undrained instance", |view| {
            converged(view) && !held_by(view, &host).is_empty()
        })
        .await;

    watch.catch_up().await;
    assert_eq!(watch.max(), 1, "a partition had two MASTERs");
    controller.shutdown().await.expect("controller stops");
    for p in participants {
        p.shutdown().await;
    }
}

async fn set_delay(cluster: &Cluster, delay_ms: u64) {
    cluster
        .set_cluster_field("DELAY_REBALANCE_TIME", &delay_ms.to_string())
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delayed_rebalance_keeps_replicas_placed_within_the_delay_and_moves_them_after() {
    let cluster = Cluster::new(4).await;
    full_auto(&cluster).await;
    // Long enough that nothing can expire while the test looks.
    set_delay(&cluster, 600_000).await;
    let mut resource = ZNRecord::new("db");
    resource.set_simple("MIN_ACTIVE_REPLICAS", "2");
    cluster
        .admin
        .edit_resource_config(CLUSTER, "db", RecordEdit::Update, &resource)
        .await
        .expect("resource config");
    let watch = MasterWatch::connect(&cluster.server.connect_string()).await;
    let mut participants = Vec::new();
    for i in 0..4 {
        participants.push(Some(cluster.participant(i).await));
    }
    let controller = cluster.controller("ctl0").await;
    cluster.wait_view("db", "convergence", converged).await;
    let host = instance(0);
    let before = cluster.view("db").await;
    let placed = held_by(&before, &host);
    assert!(!placed.is_empty());

    // host 0 stops (a restart): its MASTERs move at once, its replicas
    // are not placed elsewhere.
    if let Some(p) = participants[0].take() {
        p.shutdown().await;
    }
    cluster
        .wait_view("db", "failover of host 0's masters", |view| {
            view.values().all(|m| count(m, "MASTER") == 1) && held_by(view, &host).is_empty()
        })
        .await;
    // Once the controller has settled it has decided on the departure:
    // without the delay, replicas would have been placed elsewhere by now.
    controller
        .wait_converged(Duration::from_secs(120))
        .await
        .expect("controller settles");
    let view = cluster.view("db").await;
    for partition in &placed {
        assert_eq!(
            view[partition].len(),
            2,
            "{partition}: a replica of the departed instance was placed elsewhere: {:?}",
            view[partition]
        );
    }
    for (partition, map) in &view {
        if !placed.contains(partition) {
            assert_eq!(map, &before[partition], "{partition} moved");
        }
    }

    // It returns within the delay: the same partitions come back to it.
    participants[0] = Some(cluster.participant(0).await);
    cluster
        .wait_view("db", "host 0's replicas back", |view| {
            converged(view) && held_by(view, &host) == placed
        })
        .await;

    // It stops again with a short delay: after it, its replicas move.
    set_delay(&cluster, 3_000).await;
    if let Some(p) = participants[0].take() {
        p.shutdown().await;
    }
    cluster
        .wait_view("db", "three replicas once the delay ended", |view| {
            converged(view) && held_by(view, &host).is_empty()
        })
        .await;

    watch.catch_up().await;
    assert_eq!(watch.max(), 1, "a partition had two MASTERs");
    controller.shutdown().await.expect("controller stops");
    for p in participants.into_iter().flatten() {
        p.shutdown().await;
    }
}

/// Every participant's current state of `db`, by instance.
async fn current_states(
    cluster: &Cluster,
    participants: &[strand_participant::Participant],
) -> BTreeMap<String, CurrentState> {
    let mut states = BTreeMap::new();
    for p in participants {
        let path = cluster.paths.current_state(p.instance(), p.session(), "db");
        let record = cluster
            .admin
            .accessor()
            .get(&path)
            .await
            .expect("read")
            .expect("a current state");
        states.insert(p.instance().to_owned(), CurrentState::from(record.value));
    }
    states
}

/// The windows without a MASTER of the handoffs that just ended, from the
/// current-state timestamps: for each partition whose MASTER moved from
/// `from` (or to `to`), the demoted replica's `START_TIME` to the new
/// MASTER's `END_TIME`. Returns the most windows open at one instant.
fn overlapping_windows(
    states: &BTreeMap<String, CurrentState>,
    moved: &[(String, String, String)],
) -> usize {
    let mut events = Vec::new();
    for (partition, old, new) in moved {
        let start = states[old].start_time(partition).expect("START_TIME");
        let end = states[new].end_time(partition).expect("END_TIME");
        assert!(start <= end, "{partition}: {start} > {end}");
        // An end sorts before a start at the same millisecond: windows
        // that only touch do not overlap.
        events.push((start, 1i32));
        events.push((end, -1i32));
    }
    events.sort();
    let (mut open, mut most) = (0, 0);
    for (_, step) in events {
        open += step;
        most = most.max(open);
    }
    usize::try_from(most).unwrap_or(0)
}

fn masters(view: &View) -> BTreeMap<String, String> {
    view.iter()
        .filter_map(|(p, m)| {
            let (holder, _) = m.iter().find(|(_, s)| *s == "MASTER")?;
            Some((p.clone(), holder.clone()))
        })
        .collect()
}

/// (partition, old MASTER, new MASTER) of every partition whose MASTER
/// moved between the two views.
fn moved(
    before: &BTreeMap<String, String>,
    after: &BTreeMap<String, String>,
) -> Vec<(String, String, String)> {
    before
        .iter()
        .filter_map(|(p, old)| {
            let new = after.get(p)?;
            (new != old).then(|| (p.clone(), old.clone(), new.clone()))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handoffs_start_at_most_the_clusters_limit_at_once() {
    let cluster = Cluster::new(3).await;
    cluster
        .add_master_slave("db", PARTITIONS, RebalanceMode::SemiAuto)
        .await;
    cluster
        .set_cluster_field(strand_rebalance::handoffs::LIMIT_FIELD, "1")
        .await;
    let watch = MasterWatch::connect(&cluster.server.connect_string()).await;
    let mut participants = Vec::new();
    for i in 0..3 {
        participants.push(cluster.participant(i).await);
    }
    let controller = cluster.controller("ctl0").await;
    cluster.wait_view("db", "convergence", converged).await;
    let host = instance(0);
    let mastered = |view: &View| {
        view.values()
            .filter(|m| m.get(&host).map(String::as_str) == Some("MASTER"))
            .count()
    };
    let preferred = masters(&cluster.view("db").await);
    let on_host = mastered(&cluster.view("db").await);
    assert_eq!(on_host, PARTITIONS as usize / 3);

    cluster
        .admin
        .drain_instance(CLUSTER, &host, None)
        .await
        .expect("drain");
    cluster
        .wait_view("db", "every MASTER handed over", |view| {
            converged(view) && mastered(view) == 0
        })
        .await;
    let drained = masters(&cluster.view("db").await);
    let away = moved(&preferred, &drained);
    assert_eq!(away.len(), on_host);
    let states = current_states(&cluster, &participants).await;
    assert_eq!(
        overlapping_windows(&states, &away),
        1,
        "handoffs away overlapped"
    );

    cluster
        .admin
        .undrain_instance(CLUSTER, &host)
        .await
        .expect("undrain");
    cluster
        .wait_view("db", "the MASTERs handed back", |view| {
            converged(view) && mastered(view) == on_host
        })
        .await;
    let back = moved(&drained, &masters(&cluster.view("db").await));
    assert_eq!(back.len(), on_host);
    let states = current_states(&cluster, &participants).await;
    assert_eq!(
        overlapping_windows(&states, &back),
        1,
        "handoffs back overlapped"
    );

    watch.catch_up().await;
    assert_eq!(watch.max(), 1, "a partition had two MASTERs");
    controller.shutdown().await.expect("controller stops");
    for p in participants {
        p.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_leader_reports_an_instance_that_went_without_a_word_offline() {
    let cluster = Cluster::new(3).await;
    // instance 2 was online once and never said it left (it crashed).
    let gone = instance(2);
    let mut history = strand_model::ParticipantHistory::new(gone.as_str());
    let online_at = strand_model::time::now_ms() - 60_000;
    history.report_online(
        strand_model::SessionId(0x77),
        online_at,
        "2.0.1",
        "gone-host",
    );
    let path = cluster.paths.participant_history(&gone);
    let record = history.into_record();
    cluster
        .admin
        .accessor()
        .update(&path, true, |_| strand_zk::Update::Write(record.clone()))
        .await
        .expect("history written");
    let read = |path: String| {
        let accessor = cluster.admin.accessor();
        async move {
            accessor
                .get(&path)
                .await
                .expect("read")
                .map(|v| v.value)
                .expect("history")
        }
    };
    let live = cluster.participant(0).await;
    let controller = cluster.controller("ctl0").await;

    let start = std::time::Instant::now();
    loop {
        let record = read(path.clone()).await;
        if record
            .simple_parsed::<i64>("LAST_OFFLINE_TIME")
            .is_some_and(|t| t > online_at)
        {
            assert_eq!(record.list("OFFLINE").map(<[String]>::len), Some(1));
            assert_eq!(
                record.list("HISTORY").map(<[String]>::len),
                Some(1),
                "its session entry stays"
            );
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "the leader never reported {gone} offline: {record:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // A live instance's history is left alone.
    let own = read(cluster.paths.participant_history(&instance(0))).await;
    assert_eq!(own.simple("LAST_OFFLINE_TIME"), Some("-1"));
    controller.shutdown().await.expect("controller stops");
    live.shutdown().await;
}
