//! Records that exist but do not parse, or parse but make no sense, hold
//! their resource back — no transition is sent for it, the controller's
//! status says which and why — and never drop a replica; the resource
//! resumes when the record is good again. And aggregators run only for the
//! partitions whose customized states changed.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use strand_admin::RebalanceMode;
use strand_controller::{
    Aggregators, Controller, ControllerConfig, ControllerHandle, PartitionInput, STATUS_RECORD,
    ViewAggregator,
};
use strand_model::{CustomizedState, CustomizedStateConfig, IdealState, ZNRecord};
use strand_zk::{Accessor, CreateKind, Zk};

use crate::common::*;

/// The resource `db` (6 × 3 MasterSlave) placed on three simulated
/// participants.
async fn converged_db(
    server: &strand_devcluster::zookeeper::LocalZk,
) -> (strand_admin::Admin, Vec<SimParticipant>) {
    let admin = strand_admin::Admin::new(connect(server).await);
    admin
        .add_resource(CLUSTER, "db", 6, "MasterSlave", RebalanceMode::SemiAuto)
        .await
        .expect("add resource");
    admin.rebalance(CLUSTER, "db", 3).await.expect("rebalance");
    let mut sims = Vec::new();
    for i in 0..3 {
        sims.push(SimParticipant::start(server, &format!("host_{}", 12000 + i)).await);
    }
    (admin, sims)
}

/// db converged under a controller `ctl0`: the server, a session, the
/// simulated participants and the controller.
async fn controlled_db() -> Result<
    (
        strand_devcluster::zookeeper::LocalZk,
        Zk,
        Vec<SimParticipant>,
        ControllerHandle,
    ),
    Box<dyn std::error::Error + Send + Sync>,
> {
    let (server, admin) = cluster(3).await;
    let zk = admin.zk().clone();
    let (_admin, sims) = converged_db(&server).await;
    let ctl = Controller::start(zk_config(&server), CLUSTER, "ctl0").await?;
    wait_view(&zk, "db", "converged", |v| {
        every_partition(v, 6, &[("MASTER", 1), ("SLAVE", 2)])
    })
    .await;
    Ok((server, zk, sims, ctl))
}

/// Waits until the controller's last run holds `resource` back with a
/// reason containing `why`.
async fn wait_held_back(ctl: &ControllerHandle, resource: &str, why: &str) -> String {
    eventually(&format!("{resource} held back ({why})"), || async {
        ctl.rebalance();
        let run = ctl.status().last_run?;
        run.held_back
            .iter()
            .find(|(r, reason)| r == resource && reason.contains(why))
            .map(|(_, reason)| reason.clone())
    })
    .await
}

/// The leader's status record in the property store, once `check` holds.
async fn status_record_until(zk: &Zk, what: &str, check: impl Fn(&ZNRecord) -> bool) -> ZNRecord {
    let path = format!("/{CLUSTER}/{STATUS_RECORD}");
    eventually(what, || async {
        let (found, _) = record(zk, &path).await?;
        check(&found).then_some(found)
    })
    .await
}

/// Every partition of db is still MASTER + 2 SLAVEs and no message waits
/// for any instance, after `runs` more complete pipeline runs (each of
/// which would have sent transitions had the resource not been held back).
async fn untouched_after_runs(zk: &Zk, ctl: &ControllerHandle, runs: usize) {
    for _ in 0..runs {
        ctl.wait_converged(DEADLINE).await.expect("a run");
    }
    let view = external_view(zk, "db").await.expect("view");
    assert!(
        every_partition(&view, 6, &[("MASTER", 1), ("SLAVE", 2)]),
        "{view:?}"
    );
    for i in 0..3 {
        let messages = zk
            .children(&paths().messages(&format!("host_{}", 12000 + i)))
            .await
            .expect("messages");
        assert!(messages.is_empty(), "host_{}: {messages:?}", 12000 + i);
    }
}

#[tokio::test]
async fn a_malformed_ideal_state_holds_its_resource_back_and_drops_nothing() -> TestResult {
    let (_server, zk, _sims, ctl) = controlled_db().await?;
    let path = paths().ideal_state("db");
    let (good, _) = zk.get(&path).await?.ok_or("no ideal state")?;

    zk.set(&path, b"{\"id\": \"db\", \"simpleFields\": {", None)
        .await?;
    let reason = wait_held_back(&ctl, "db", &path).await;
    assert!(reason.contains("not a valid ZNRecord"), "{reason}");
    untouched_after_runs(&zk, &ctl, 3).await;
    // Readers outside the process see it in the leader's status record.
    let status = status_record_until(&zk, "the status record to hold db back", |r| {
        r.map("HELD_BACK")
            .and_then(|held| held.get("db"))
            .is_some_and(|why| why.contains("not a valid ZNRecord"))
    })
    .await;
    assert_eq!(status.simple("LEADER"), Some("ctl0"));
    assert!(
        status
            .simple_parsed::<u64>("RUNS")
            .is_some_and(|runs| runs > 0)
    );

    // It parses again: the resource is no longer held back.
    zk.set(&path, &good, None).await?;
    eventually("db no longer held back", || async {
        let run = ctl.wait_converged(DEADLINE).await.ok()?;
        run.held_back.is_empty().then_some(())
    })
    .await;
    untouched_after_runs(&zk, &ctl, 1).await;
    let status = status_record_until(&zk, "the status record to say converged", |r| {
        r.simple("CONVERGED") == Some("true")
            && r.map("HELD_BACK").is_none_or(|held| held.is_empty())
    })
    .await;
    assert!(status.simple("LAST_RUN_AT").is_some() && status.simple("LAST_RUN_EVENT").is_some());
    ctl.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn an_ideal_state_that_never_parsed_holds_its_resource_back() -> TestResult {
    let (_server, zk, _sims, ctl) = controlled_db().await?;

    // A resource whose IdealState is garbage from its first byte: no good
    // record to keep, still named as held back rather than ignored.
    let path = paths().ideal_state("fresh");
    zk.create(&path, b"{ not json", CreateKind::Persistent)
        .await?;
    let reason = wait_held_back(&ctl, "fresh", &path).await;
    assert!(reason.contains("not a valid ZNRecord"), "{reason}");
    untouched_after_runs(&zk, &ctl, 1).await;

    // Gone again: no longer held back.
    zk.delete(&path, None).await?;
    eventually("fresh no longer held back", || async {
        let run = ctl.wait_converged(DEADLINE).await.ok()?;
        run.held_back.is_empty().then_some(())
    })
    .await;
    ctl.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn records_that_make_no_sense_hold_their_resource_back() -> TestResult {
    let (_server, zk, _sims, ctl) = controlled_db().await?;
    let accessor = Accessor::new(zk.clone());
    let path = paths().ideal_state("db");
    let good = accessor.get(&path).await?.ok_or("no ideal state")?.value;

    let mut nope = IdealState::from(good.clone());
    nope.record_mut().set_simple("REBALANCE_MODE", "NOPE");
    accessor.set(&path, nope.record(), None).await?;
    wait_held_back(&ctl, "db", "unknown REBALANCE_MODE NOPE").await;
    untouched_after_runs(&zk, &ctl, 2).await;

    let mut missing = IdealState::from(good.clone());
    missing.set_state_model_def_ref("NoSuchModel");
    accessor.set(&path, missing.record(), None).await?;
    wait_held_back(&ctl, "db", "state model NoSuchModel does not exist").await;
    untouched_after_runs(&zk, &ctl, 2).await;

    accessor.set(&path, &good, None).await?;
    eventually("db no longer held back", || async {
        let run = ctl.wait_converged(DEADLINE).await.ok()?;
        run.held_back.is_empty().then_some(())
    })
    .await;
    ctl.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn a_malformed_current_state_holds_its_resource_back() -> TestResult {
    let (_server, zk, sims, ctl) = controlled_db().await?;
    let session = strand_model::SessionId::parse(&sims[0].zk.session_id())?;
    let path = paths().current_state("host_12000", session, "db");
    let (good, _) = zk.get(&path).await?.ok_or("no current state")?;
    zk.set(&path, b"garbage", None).await?;
    wait_held_back(&ctl, "db", &path).await;
    untouched_after_runs(&zk, &ctl, 2).await;
    zk.set(&path, &good, None).await?;
    eventually("db no longer held back", || async {
        let run = ctl.wait_converged(DEADLINE).await.ok()?;
        run.held_back.is_empty().then_some(())
    })
    .await;
    ctl.shutdown().await?;
    Ok(())
}

/// Counts its calls; the view is the default one.
struct Counting(Arc<AtomicUsize>);

impl ViewAggregator for Counting {
    fn aggregate(&self, input: &PartitionInput<'_>) -> Result<Vec<(String, String)>, String> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(input
            .states
            .iter()
            .filter_map(|s| {
                let state = s.fields.get("CURRENT_STATE")?;
                Some((s.instance.to_owned(), state.clone()))
            })
            .collect())
    }
}

#[tokio::test]
async fn aggregators_run_only_for_partitions_whose_states_changed() -> TestResult {
    let (server, admin) = cluster(3).await;
    let zk = admin.zk().clone();
    let (_admin, _sims) = converged_db(&server).await;
    let accessor = Accessor::new(zk.clone());
    accessor
        .put(
            &paths().customized_state_config(),
            CustomizedStateConfig::new(["DEPLOY"]).record(),
        )
        .await?;
    let report = |instance: &'static str, version: &'static str| {
        let accessor = accessor.clone();
        async move {
            let mut cs = CustomizedState::new("db");
            for p in 0..6 {
                let state = if p == 0 { version } else { "v1" };
                cs.set_state(&format!("db_{p}"), state, Some(1));
            }
            accessor
                .put(
                    &paths().customized_state(instance, "DEPLOY", "db"),
                    cs.record(),
                )
                .await
        }
    };
    for instance in ["host_12000", "host_12001", "host_12002"] {
        report(instance, "v1").await?;
    }
    let calls = Arc::new(AtomicUsize::new(0));
    let mut aggregators = Aggregators::default();
    aggregators.bind("DEPLOY", Arc::new(Counting(Arc::clone(&calls))));
    let mut config = ControllerConfig::new(zk_config(&server), CLUSTER, "ctl0");
    config.aggregators = aggregators;
    let ctl = Controller::start_with(config).await?;
    let view_path = paths().customized_view("DEPLOY", "db");
    eventually("the customized view", || async {
        let (record, _) = record(&zk, &view_path).await?;
        (record.map_fields.len() == 6).then_some(())
    })
    .await;
    ctl.wait_converged(DEADLINE).await?;
    let before = calls.load(Ordering::SeqCst);

    // One instance reports a new version of one partition.
    report("host_12001", "v2").await?;
    eventually("db_0 on v2 in the customized view", || async {
        let (record, _) = record(&zk, &view_path).await?;
        let map = record.map_fields.get("db_0")?;
        (map.get("host_12001").map(String::as_str) == Some("v2")).then_some(())
    })
    .await;
    let during = calls.load(Ordering::SeqCst) - before;
    assert!(
        (1..6).contains(&during),
        "one changed partition cost {during} aggregator calls (6 partitions in the resource)"
    );
    ctl.shutdown().await?;
    Ok(())
}
