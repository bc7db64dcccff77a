//! Aggregator plugins deployed to the cluster and bound to a
//! customized-state type in the cluster config: the controller loads them
//! from the plugin store and computes the type's view with them; a call
//! that traps, fails or hangs falls back to the default view for that
//! partition only; unbinding goes back to the default.

use strand_admin::RebalanceMode;
use strand_controller::{Controller, ControllerConfig};
use strand_devcluster::plugins::{names, plugin_path};
use strand_model::{CustomizedState, CustomizedStateConfig, CustomizedView};
use strand_plugin_host::{HostConfig, HostInspector};
use strand_plugin_store::{DeployOptions, PluginStore};
use strand_zk::Accessor;

use crate::common::*;

const TYPE: &str = "DEPLOY";

async fn report(zk: &strand_zk::Zk, instance: &str, states: &[(&str, &str)]) -> TestResult {
    let mut cs = CustomizedState::new("db");
    for (partition, state) in states {
        cs.set_state(partition, state, Some(1));
    }
    Accessor::new(zk.clone())
        .put(&paths().customized_state(instance, TYPE, "db"), cs.record())
        .await?;
    Ok(())
}

async fn view_of(zk: &strand_zk::Zk, partition: &str) -> Option<Vec<(String, String)>> {
    let (record, _) = record(zk, &paths().customized_view(TYPE, "db")).await?;
    let view = CustomizedView::from(record);
    Some(
        view.state_map(partition)?
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    )
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

async fn wait_partition(zk: &strand_zk::Zk, partition: &str, expected: &[(&str, &str)]) {
    let expected = pairs(expected);
    let what = format!("{partition} view {expected:?}");
    eventually(&what, || async {
        (view_of(zk, partition).await? == expected).then_some(())
    })
    .await;
}

#[tokio::test]
async fn bound_aggregator_plugins_compute_views_and_faults_fall_back() -> TestResult {
    let (server, admin) = cluster(2).await;
    let zk = admin.zk().clone();
    admin
        .add_resource(CLUSTER, "db", 3, "OnlineOffline", RebalanceMode::SemiAuto)
        .await?;
    admin.rebalance(CLUSTER, "db", 2).await?;
    Accessor::new(zk.clone())
        .put(
            &paths().customized_state_config(),
            CustomizedStateConfig::new([TYPE]).record(),
        )
        .await?;
    let _sim0 = SimParticipant::start(&server, "host_12000").await;
    let _sim1 = SimParticipant::start(&server, "host_12001").await;
    let cache = tempfile::tempdir()?;
    let mut config = ControllerConfig::new(zk_config(&server), CLUSTER, "ctl0");
    config.plugin_cache_dir = Some(cache.path().to_owned());
    let ctl = Controller::start_with(config).await?;
    report(
        &zk,
        "host_12000",
        &[("db_0", "READY"), ("db_1", "READY"), ("db_2", "READY")],
    )
    .await?;
    report(
        &zk,
        "host_12001",
        &[("db_0", "READY"), ("db_1", "READY"), ("db_2", "READY")],
    )
    .await?;
    wait_partition(
        &zk,
        "db_0",
        &[("host_12000", "READY"), ("host_12001", "READY")],
    )
    .await;

    // A binding to a plugin that is not deployed changes nothing.
    admin
        .bind_aggregator(CLUSTER, TYPE, "faulty-aggregator")
        .await?;
    ctl.wait_converged(DEADLINE).await?;
    wait_partition(
        &zk,
        "db_0",
        &[("host_12000", "READY"), ("host_12001", "READY")],
    )
    .await;

    // Deployed: the plugin computes every partition's view.
    let store = PluginStore::new(zk.clone(), CLUSTER)
        .with_inspector(HostInspector::lazy(HostConfig::default()));
    let bytes = std::fs::read(plugin_path(names::FAULTY_AGGREGATOR)?)?;
    store.deploy(&bytes, &DeployOptions::default()).await?;
    for p in ["db_0", "db_1", "db_2"] {
        wait_partition(&zk, p, &[("host_12000", "ready"), ("host_12001", "ready")]).await;
    }

    // A trap, an error and a hang each fall back to the default view for
    // their own partition; the other partitions stay the plugin's.
    report(
        &zk,
        "host_12000",
        &[("db_0", "TRAP"), ("db_1", "FAIL"), ("db_2", "SPIN")],
    )
    .await?;
    wait_partition(
        &zk,
        "db_0",
        &[("host_12000", "TRAP"), ("host_12001", "READY")],
    )
    .await;
    wait_partition(
        &zk,
        "db_1",
        &[("host_12000", "FAIL"), ("host_12001", "READY")],
    )
    .await;
    wait_partition(
        &zk,
        "db_2",
        &[("host_12000", "SPIN"), ("host_12001", "READY")],
    )
    .await;
    report(
        &zk,
        "host_12000",
        &[("db_0", "DONE"), ("db_1", "DONE"), ("db_2", "DONE")],
    )
    .await?;
    for p in ["db_0", "db_1", "db_2"] {
        wait_partition(&zk, p, &[("host_12000", "done"), ("host_12001", "ready")]).await;
    }

    // A new active version is swapped in: partition-summary, deployed
    // under the bound name.
    let summary = std::fs::read(plugin_path(names::PARTITION_SUMMARY)?)?;
    store
        .deploy(
            &summary,
            &DeployOptions {
                name: Some("faulty-aggregator".into()),
                force: true,
                ..DeployOptions::default()
            },
        )
        .await?;
    eventually("partition-summary's view", || async {
        let view = view_of(&zk, "db_0").await?;
        view.iter()
            .any(|(k, v)| k == "total" && v == "2")
            .then_some(())
    })
    .await;

    // Unbound: Helix's default view again.
    admin.unbind_aggregator(CLUSTER, TYPE).await?;
    wait_partition(
        &zk,
        "db_0",
        &[("host_12000", "DONE"), ("host_12001", "READY")],
    )
    .await;
    ctl.shutdown().await?;
    Ok(())
}
