//! Whole scenarios, run once per plugin that serves the model: the Rust
//! `master-slave` and its Python and JavaScript ports must behave the same.

use std::collections::BTreeMap;

use strand_admin::RebalanceMode;
use strand_participant::Participant;

use crate::cluster::{Cluster, View, count, instance};
use crate::master_watch::MasterWatch;

/// The customized-state type the scenario asks the model to write.
const READINESS: &str = "READINESS";

/// Three participants, a SEMI_AUTO MasterSlave resource of 6 partitions ×
/// 3 replicas served by `master_slave`: it converges with masters on the
/// preferred instances, fails over when one participant stops, hands the
/// masters back when it returns, and no partition ever has two MASTERs.
/// Every replica's customized state names `plugin_version`, so the
/// transitions provably ran in that plugin.
pub async fn master_slave_converges_fails_over_and_hands_back(
    master_slave: &str,
    plugin_version: &str,
) {
    let c = Cluster::with_master_slave(3, master_slave).await;
    c.admin
        .add_resource(
            crate::cluster::CLUSTER,
            "DB",
            6,
            "MasterSlave",
            RebalanceMode::SemiAuto,
        )
        .await
        .expect("resource");
    c.admin
        .rebalance(crate::cluster::CLUSTER, "DB", 3)
        .await
        .expect("rebalance");
    c.admin
        .accessor()
        .update(&c.paths.ideal_state("DB"), false, |current| {
            let mut record = current.expect("ideal state");
            record.set_simple("strand.customized-state-type", READINESS);
            strand_zk::Update::Write(record)
        })
        .await
        .expect("resource config");
    let watch = MasterWatch::start(c.admin.zk().clone()).await;
    let controller = c.controller("ctrl-0").await;
    let mut participants: Vec<Option<Participant>> = Vec::new();
    for i in 0..3 {
        participants.push(Some(c.participant(i).await));
    }
    let ideal = c
        .admin
        .ideal_state(crate::cluster::CLUSTER, "DB")
        .await
        .expect("ideal");
    let preferred: BTreeMap<String, String> = ideal
        .partitions()
        .into_iter()
        .map(|p| {
            (
                p.to_owned(),
                ideal.preference_list(p).expect("list")[0].clone(),
            )
        })
        .collect();
    let settled = |view: &View| {
        view.len() == 6
            && view.iter().all(|(p, m)| {
                count(m, "SLAVE") == 2 && m.get(&preferred[p]).map(String::as_str) == Some("MASTER")
            })
    };
    c.wait_view(
        "DB",
        "convergence with masters on the preferred instances",
        settled,
    )
    .await;
    assert_customized_state(&c, &c.view("DB").await, plugin_version).await;

    // A graceful stop: its masters move to the survivors.
    let gone = instance(0);
    if let Some(p) = participants[0].take() {
        p.shutdown().await;
    }
    c.wait_view("DB", "failover", |view| {
        view.values()
            .all(|m| !m.contains_key(&gone) && count(m, "MASTER") == 1 && count(m, "SLAVE") == 1)
    })
    .await;

    // It comes back: SEMI_AUTO hands its masters back.
    participants[0] = Some(c.participant(0).await);
    c.wait_view("DB", "hand-back", settled).await;
    watch.catch_up().await;
    assert_eq!(watch.max(), 1, "a partition had two MASTERs at some point");

    for p in participants.into_iter().flatten() {
        p.shutdown().await;
    }
    controller.shutdown().await.expect("controller stops");
}

/// Every replica of `view` has a customized state written by the plugin
/// (`PLUGIN_VERSION` = `version`) whose `CURRENT_STATE` is its state.
async fn assert_customized_state(c: &Cluster, view: &View, version: &str) {
    for (partition, replicas) in view {
        for (inst, state) in replicas {
            let record = c
                .admin
                .accessor()
                .get(&c.paths.customized_state(inst, READINESS, "DB"))
                .await
                .expect("read customized state")
                .unwrap_or_else(|| panic!("{inst}: no {READINESS} customized state"))
                .value;
            let fields = record
                .map(partition)
                .unwrap_or_else(|| panic!("{inst}/{partition}: no customized state"));
            assert_eq!(
                fields.get("PLUGIN_VERSION").map(String::as_str),
                Some(version),
                "{inst}/{partition}: {fields:?}"
            );
            assert_eq!(
                fields.get("CURRENT_STATE"),
                Some(state),
                "{inst}/{partition}: {fields:?}"
            );
        }
    }
}
