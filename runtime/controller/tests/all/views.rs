//! External views written only on change; customized views created,
//! changed and removed by Helix's rules.

use strand_admin::RebalanceMode;
use strand_controller::Controller;
use strand_model::{CustomizedState, CustomizedStateConfig, CustomizedView};
use strand_zk::Accessor;

use crate::common::*;

#[tokio::test]
async fn external_view_is_written_only_when_it_changes() -> TestResult {
    let (server, admin) = cluster(2).await;
    let zk = admin.zk().clone();
    admin
        .add_resource(CLUSTER, "db", 2, "MasterSlave", RebalanceMode::SemiAuto)
        .await?;
    admin.rebalance(CLUSTER, "db", 2).await?;
    let _sims = {
        let mut v = Vec::new();
        for i in 0..2 {
            v.push(SimParticipant::start(&server, &format!("host_{}", 12000 + i)).await);
        }
        v
    };
    let ctl = Controller::start(zk_config(&server), CLUSTER, "ctl0").await?;
    wait_view(&zk, "db", "converged", |v| {
        every_partition(v, 2, &[("MASTER", 1), ("SLAVE", 1)])
    })
    .await;
    ctl.wait_converged(DEADLINE).await?;
    let (_, before) = record(&zk, &paths().external_view("db"))
        .await
        .ok_or("no view")?;

    // Runs that change nothing write nothing.
    for _ in 0..3 {
        let report = ctl.wait_converged(DEADLINE).await?;
        assert_eq!(report.views_written, 0, "{report:?}");
    }
    let (_, after) = record(&zk, &paths().external_view("db"))
        .await
        .ok_or("no view")?;
    assert_eq!(before.version, after.version);
    assert_eq!(before.mzxid, after.mzxid);

    // A change is written.
    admin
        .set_instance_enabled(CLUSTER, "host_12001", false, None)
        .await?;
    wait_view(&zk, "db", "host_12001 offline", |v| {
        v.values()
            .all(|m| m.get("host_12001").map(String::as_str) == Some("OFFLINE"))
    })
    .await;
    let (_, changed) = record(&zk, &paths().external_view("db"))
        .await
        .ok_or("no view")?;
    assert!(changed.version > after.version);
    ctl.shutdown().await?;
    Ok(())
}

async fn report(
    zk: &strand_zk::Zk,
    instance: &str,
    resource: &str,
    states: &[(&str, &str)],
) -> TestResult {
    let mut cs = CustomizedState::new(resource);
    for (partition, state) in states {
        cs.set_state(partition, state, Some(1));
    }
    Accessor::new(zk.clone())
        .put(
            &paths().customized_state(instance, "DEPLOY", resource),
            cs.record(),
        )
        .await?;
    Ok(())
}

async fn customized_view(zk: &strand_zk::Zk, resource: &str) -> Option<CustomizedView> {
    let (record, _) = record(zk, &paths().customized_view("DEPLOY", resource)).await?;
    Some(CustomizedView::from(record))
}

fn state_of(view: &CustomizedView, partition: &str, instance: &str) -> Option<String> {
    view.state_map(partition)?.get(instance).cloned()
}

#[tokio::test]
async fn customized_views_follow_helix_rules() -> TestResult {
    let (server, admin) = cluster(2).await;
    let zk = admin.zk().clone();
    admin
        .add_resource(CLUSTER, "db", 2, "OnlineOffline", RebalanceMode::SemiAuto)
        .await?;
    admin.rebalance(CLUSTER, "db", 2).await?;
    Accessor::new(zk.clone())
        .put(
            &paths().customized_state_config(),
            CustomizedStateConfig::new(["DEPLOY"]).record(),
        )
        .await?;
    let sim0 = SimParticipant::start(&server, "host_12000").await;
    let sim1 = SimParticipant::start(&server, "host_12001").await;
    let ctl = Controller::start(zk_config(&server), CLUSTER, "ctl0").await?;
    wait_view(&zk, "db", "converged", |v| {
        every_partition(v, 2, &[("ONLINE", 2)])
    })
    .await;
    ctl.wait_converged(DEADLINE).await?;
    // Nobody reports DEPLOY yet: no view.
    assert!(
        zk.exists(&paths().customized_views_of_type("DEPLOY"))
            .await?
            .is_none()
    );

    // Creation: from live instances only (host_12002 is not even an
    // instance), known
    // partitions only.
    report(
        &zk,
        "host_12000",
        "db",
        &[("db_0", "READY"), ("db_9", "BOGUS")],
    )
    .await?;
    report(&zk, "host_12002", "db", &[("db_0", "GHOST")]).await?;
    let view = eventually("customized view created", || async {
        customized_view(&zk, "db")
            .await
            .filter(|v| state_of(v, "db_0", "host_12000").is_some())
    })
    .await;
    assert_eq!(
        state_of(&view, "db_0", "host_12000").as_deref(),
        Some("READY")
    );
    assert_eq!(state_of(&view, "db_0", "host_12002"), None);
    assert!(view.state_map("db_9").is_none());
    assert!(view.record().simple_fields.is_empty());

    // Change.
    report(&zk, "host_12001", "db", &[("db_1", "DEPLOYING")]).await?;
    report(&zk, "host_12000", "db", &[("db_0", "DONE")]).await?;
    eventually("customized view changed", || async {
        let v = customized_view(&zk, "db").await?;
        (state_of(&v, "db_0", "host_12000").as_deref() == Some("DONE")
            && state_of(&v, "db_1", "host_12001").as_deref() == Some("DEPLOYING"))
        .then_some(())
    })
    .await;

    // An instance that leaves drops out of the view.
    sim1.stop().await;
    eventually("host_12001 gone from the view", || async {
        let v = customized_view(&zk, "db").await?;
        state_of(&v, "db_1", "host_12001").is_none().then_some(())
    })
    .await;

    // No live instance reports the type: the type's views are removed.
    sim0.stop().await;
    eventually("CUSTOMIZEDVIEW/DEPLOY removed", || async {
        zk.exists(&paths().customized_views_of_type("DEPLOY"))
            .await
            .ok()?
            .is_none()
            .then_some(())
    })
    .await;
    ctl.shutdown().await?;
    Ok(())
}
