//! The plugin store against a real ZooKeeper with the real plugins of
//! `plugins/`: deploy, chunking, size cap, validation, rollback, corrupt
//! artefacts, definition changes, remove and list.

mod common;

use common::{CLUSTER, Fixture, bytes, inflated, inspector};
use strand_admin::RebalanceMode;
use strand_devcluster::plugins::names;
use strand_model::{PropertyPaths, builtin};
use strand_plugin_store::definition::diff;
use strand_plugin_store::{DeployOptions, PluginKind, PluginStore, StoreError, sha256_hex, status};

#[tokio::test(flavor = "multi_thread")]
async fn deploy_stores_chunks_registers_the_version_and_keeps_an_equal_definition() {
    let f = Fixture::new().await;
    let defs = PropertyPaths::new(CLUSTER).state_model_def("MasterSlave");
    let builtin_bytes = f.raw(&defs).await.expect("built-in MasterSlave");

    let component = bytes(names::MASTER_SLAVE);
    let d = f.deploy(names::MASTER_SLAVE, None).await.expect("deploy");
    assert_eq!(d.name, "MasterSlave", "named after the definition");
    assert_eq!(d.kind, PluginKind::StateModel);
    assert_eq!(d.version, "0.1.0");
    assert_eq!(d.sha256, sha256_hex(&component));
    assert!(d.active);
    assert_eq!(d.deployed_by, "test");

    // Compressed, chunked below the chunk size, manifest last, bytes
    // round-trip.
    let stored = usize::try_from(d.stored_bytes.expect("stored size")).expect("size");
    assert!(
        stored < component.len() / 2,
        "{stored} of {}",
        component.len()
    );
    let chunks = f
        .admin
        .zk()
        .children(&f.paths.artefact(&d.sha256))
        .await
        .expect("chunks");
    assert_eq!(chunks.len(), stored.div_ceil(16 * 1024));
    for c in &chunks {
        let data = f
            .raw(&strand_zk::join(&f.paths.artefact(&d.sha256), c))
            .await
            .expect("chunk");
        assert!(data.len() <= 16 * 1024);
    }
    assert_eq!(
        f.store.fetch_artefact(&d.sha256).await.expect("fetch"),
        component
    );

    // The plugin's definition is Helix's MasterSlave: the record is kept byte for byte.
    assert_eq!(f.raw(&defs).await.expect("definition"), builtin_bytes);
    assert_eq!(
        f.store.active("MasterSlave").await.expect("active"),
        Some(d.clone())
    );
    assert_eq!(
        f.store.history("MasterSlave").await.expect("history"),
        vec![d]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_name_gets_a_helix_state_model_definition() {
    let f = Fixture::new().await;
    let d = f
        .deploy(names::MASTER_SLAVE, Some("MasterSlaveCopy"))
        .await
        .expect("deploy");
    assert_eq!(d.name, "MasterSlaveCopy");
    let admin_view = f
        .admin
        .state_model(CLUSTER, "MasterSlaveCopy")
        .await
        .expect("definition written in Helix's format");
    assert_eq!(admin_view.id(), "MasterSlaveCopy");
    assert!(admin_view.validate().is_ok());
    let d = diff(&builtin::master_slave(), &admin_view);
    assert!(d.is_empty(), "same model as Helix's MasterSlave: {d:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_component_of_python_size_is_stored_below_the_znode_limit() {
    let f = Fixture::with_chunk_size(strand_plugin_store::artefact::DEFAULT_CHUNK_SIZE).await;
    let big = inflated(names::MASTER_SLAVE, 16 * 1024 * 1024);
    let d = f
        .deploy_bytes(&big, Some("Big"), false)
        .await
        .expect("deploy 16 MiB");
    let chunks = f
        .admin
        .zk()
        .children(&f.paths.artefact(&d.sha256))
        .await
        .expect("chunks");
    let stored = usize::try_from(d.stored_bytes.expect("stored size")).expect("size");
    assert!(stored > 16 << 20, "noise does not compress: {stored}");
    assert_eq!(chunks.len(), stored.div_ceil(512 * 1024));
    assert_eq!(f.store.fetch_artefact(&d.sha256).await.expect("fetch"), big);
}

#[tokio::test(flavor = "multi_thread")]
async fn over_the_size_cap_is_refused_and_nothing_is_written() {
    let f = Fixture::new().await;
    let before = f.snapshot().await;
    let component = bytes(names::MASTER_SLAVE);
    let opts = DeployOptions {
        max_size: component.len() - 1,
        ..DeployOptions::default()
    };
    match f.store.deploy(&component, &opts).await {
        Err(StoreError::TooLarge { size, max }) => {
            assert_eq!((size, max), (component.len(), component.len() - 1));
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
    assert_eq!(f.snapshot().await, before);
}

#[tokio::test(flavor = "multi_thread")]
async fn components_that_do_not_load_are_refused_and_nothing_is_written() {
    let f = Fixture::new().await;
    let before = f.snapshot().await;
    for (what, candidate) in [
        ("not wasm", b"definitely not a component".to_vec()),
        ("wrong world", bytes(names::WRONG_WORLD)),
        ("trapping definition", bytes(names::FAULTY_DEFINITION)),
    ] {
        match f.deploy_bytes(&candidate, None, false).await {
            Err(e @ StoreError::Invalid(_)) => assert_eq!(e.http_status(), 400),
            other => panic!("{what}: expected Invalid, got {other:?}"),
        }
    }
    match f.deploy(names::MASTER_SLAVE, Some("bad/name")).await {
        Err(StoreError::Invalid(why)) => assert!(why.contains("bad/name"), "{why}"),
        other => panic!("expected Invalid, got {other:?}"),
    }
    assert_eq!(f.snapshot().await, before);
}

#[tokio::test(flavor = "multi_thread")]
async fn rollback_goes_back_and_forth_and_keeps_every_version() {
    let f = Fixture::new().await;
    let v1 = f.deploy(names::MASTER_SLAVE, None).await.expect("0.1.0");
    let v2 = f
        .deploy(names::MASTER_SLAVE_NEXT, None)
        .await
        .expect("0.2.0");
    assert_eq!(
        (v1.version.as_str(), v2.version.as_str()),
        ("0.1.0", "0.2.0")
    );
    assert_ne!(v1.sha256, v2.sha256);
    assert_eq!(
        f.store
            .active("MasterSlave")
            .await
            .expect("active")
            .map(|d| d.version),
        Some("0.2.0".into())
    );

    let back = f
        .store
        .rollback("MasterSlave", None)
        .await
        .expect("rollback");
    assert_eq!(back.version, "0.1.0");
    assert!(back.active);
    let history = f.store.history("MasterSlave").await.expect("history");
    let shown: Vec<(&str, bool)> = history
        .iter()
        .map(|d| (d.version.as_str(), d.active))
        .collect();
    assert_eq!(
        shown,
        [("0.1.0", true), ("0.2.0", false)],
        "deploy order, active marked"
    );

    // Without a target, rollback goes to the previously active version.
    let forth = f
        .store
        .rollback("MasterSlave", None)
        .await
        .expect("roll forward");
    assert_eq!(forth.version, "0.2.0");
    // By sha256 prefix.
    let by_hash = f
        .store
        .rollback("MasterSlave", Some(&v1.sha256[..10]))
        .await
        .expect("by hash");
    assert_eq!(by_hash.version, "0.1.0");

    match f.store.rollback("MasterSlave", Some("9.9.9")).await {
        Err(StoreError::NotFound(_)) => {}
        other => panic!("expected NotFound, got {other:?}"),
    }
    match f.store.rollback("NoSuchPlugin", None).await {
        Err(StoreError::NotFound(_)) => {}
        other => panic!("expected NotFound, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn corrupt_artefacts_are_refused_and_nothing_changes() {
    let f = Fixture::new().await;
    f.deploy(names::MASTER_SLAVE, None).await.expect("0.1.0");
    let v2 = f
        .deploy(names::MASTER_SLAVE_NEXT, None)
        .await
        .expect("0.2.0");
    f.store
        .rollback("MasterSlave", Some("0.1.0"))
        .await
        .expect("back to 0.1.0");
    let chunk = f.paths.chunk(&v2.sha256, 1);
    let good = f.raw(&chunk).await.expect("chunk 1");
    let zk = f.admin.zk();

    // A flipped byte: right sizes, wrong hash.
    let mut flipped = good.clone();
    flipped[7] ^= 0xff;
    // A truncated chunk.
    let truncated = good[..good.len() / 2].to_vec();
    for (what, data) in [("bad hash", flipped), ("truncated chunk", truncated)] {
        zk.set(&chunk, &data, None).await.expect("tamper");
        let before = f.snapshot().await;
        match f.store.fetch_artefact(&v2.sha256).await {
            Err(e @ StoreError::Corrupt(_)) => assert_eq!(e.http_status(), 500),
            other => panic!("{what}: expected Corrupt, got {other:?}"),
        }
        match f.store.rollback("MasterSlave", Some("0.2.0")).await {
            Err(StoreError::Corrupt(why)) => assert!(why.contains(&v2.sha256), "{why}"),
            other => panic!("{what}: expected Corrupt, got {other:?}"),
        }
        assert_eq!(f.snapshot().await, before, "{what}: nothing changed");
        assert_eq!(
            f.store
                .active("MasterSlave")
                .await
                .expect("active")
                .map(|d| d.version),
            Some("0.1.0".into())
        );
    }
    // A missing chunk.
    zk.delete(&chunk, None).await.expect("delete chunk");
    assert!(matches!(
        f.store.fetch_artefact(&v2.sha256).await,
        Err(StoreError::Corrupt(_))
    ));

    // Deploying the same bytes again repairs the stored copy.
    f.deploy(names::MASTER_SLAVE_NEXT, None)
        .await
        .expect("redeploy 0.2.0");
    assert_eq!(
        f.store.fetch_artefact(&v2.sha256).await.expect("repaired"),
        bytes(names::MASTER_SLAVE_NEXT)
    );
    assert!(matches!(
        f.store.fetch_artefact("not-a-hash").await,
        Err(StoreError::Invalid(_))
    ));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_definition_change_for_a_model_in_use_needs_force() {
    let f = Fixture::new().await;
    f.admin
        .add_resource(CLUSTER, "db", 4, "MasterSlave", RebalanceMode::SemiAuto)
        .await
        .expect("resource using MasterSlave");
    let defs = PropertyPaths::new(CLUSTER).state_model_def("MasterSlave");
    f.deploy(names::MASTER_SLAVE, None)
        .await
        .expect("MasterSlave 0.1.0");
    let before = f.snapshot().await;

    // OnlineOffline's states (also at version 0.1.0) under the name
    // MasterSlave: the definition is the reason given.
    let other = bytes(names::ONLINE_OFFLINE);
    match f.deploy_bytes(&other, Some("MasterSlave"), false).await {
        Err(e @ StoreError::Conflict(_)) => {
            let why = e.to_string();
            assert_eq!(e.http_status(), 409);
            assert!(why.contains("state MASTER removed"), "{why}");
            assert!(why.contains("db"), "names the resource: {why}");
        }
        other => panic!("expected Conflict, got {other:?}"),
    }
    assert_eq!(f.snapshot().await, before, "nothing changed");

    let d = f
        .deploy_bytes(&other, Some("MasterSlave"), true)
        .await
        .expect("forced");
    assert!(d.forced);
    let now = f
        .admin
        .state_model(CLUSTER, "MasterSlave")
        .await
        .expect("definition");
    assert_eq!(now.states(), builtin::online_offline().states());
    assert_eq!(now.id(), "MasterSlave");
    assert_ne!(
        f.raw(&defs).await,
        before
            .iter()
            .find(|(p, _)| *p == defs)
            .map(|(_, d)| d.clone())
    );

    // A model nobody uses may change freely.
    f.deploy_bytes(&other, Some("Unused"), false)
        .await
        .expect("Unused as OnlineOffline");
    f.deploy(names::MASTER_SLAVE_NEXT, Some("Unused"))
        .await
        .expect("no resource uses Unused");
    let unused = f
        .admin
        .state_model(CLUSTER, "Unused")
        .await
        .expect("definition");
    assert_eq!(unused.states(), builtin::master_slave().states());
}

#[tokio::test(flavor = "multi_thread")]
async fn names_versions_and_kinds_conflict_clearly() {
    let f = Fixture::new().await;
    f.deploy(names::MASTER_SLAVE, None).await.expect("deploy");
    // An aggregator cannot take a state model's name.
    match f
        .deploy(names::PARTITION_SUMMARY, Some("MasterSlave"))
        .await
    {
        Err(StoreError::Conflict(why)) => assert!(why.contains("state-model"), "{why}"),
        other => panic!("expected Conflict, got {other:?}"),
    }
    // The same version string with other bytes.
    let other_bytes = inflated(names::MASTER_SLAVE, 10);
    match f.deploy_bytes(&other_bytes, None, false).await {
        Err(StoreError::Conflict(why)) => assert!(why.contains("0.1.0"), "{why}"),
        other => panic!("expected Conflict, got {other:?}"),
    }
    let replaced = f
        .deploy_bytes(&other_bytes, None, true)
        .await
        .expect("forced");
    assert_eq!(replaced.sha256, sha256_hex(&other_bytes));
    assert_eq!(
        f.store.history("MasterSlave").await.expect("history").len(),
        1
    );
    // Aggregators deploy under their own name.
    let agg = f
        .deploy(names::PARTITION_SUMMARY, None)
        .await
        .expect("aggregator");
    assert_eq!(agg.kind, PluginKind::Aggregator);
    assert!(agg.definition.is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn remove_keeps_the_active_version_and_collects_unused_artefacts() {
    let f = Fixture::new().await;
    let v1 = f.deploy(names::MASTER_SLAVE, None).await.expect("0.1.0");
    let v2 = f
        .deploy(names::MASTER_SLAVE_NEXT, None)
        .await
        .expect("0.2.0");
    match f.store.remove("MasterSlave", "0.2.0").await {
        Err(StoreError::Conflict(why)) => assert!(why.contains("active"), "{why}"),
        other => panic!("expected Conflict, got {other:?}"),
    }
    // The same bytes under another name keep the artefact alive.
    f.deploy(names::MASTER_SLAVE, Some("Twin"))
        .await
        .expect("twin");
    let removed = f
        .store
        .remove("MasterSlave", "0.1.0")
        .await
        .expect("remove 0.1.0");
    assert_eq!(removed.version, "0.1.0");
    assert_eq!(
        f.store
            .fetch_artefact(&v1.sha256)
            .await
            .expect("still used by Twin")
            .len(),
        usize::try_from(removed.size_bytes).expect("size")
    );
    let history: Vec<String> = f
        .store
        .history("MasterSlave")
        .await
        .expect("history")
        .into_iter()
        .map(|d| d.version)
        .collect();
    assert_eq!(history, ["0.2.0"]);

    f.deploy(names::MASTER_SLAVE, Some("Twin2"))
        .await
        .expect("another twin");
    f.deploy(names::MASTER_SLAVE_NEXT, Some("Twin"))
        .await
        .expect("Twin moves on");
    f.store
        .remove("Twin", "0.1.0")
        .await
        .expect("remove Twin 0.1.0");
    assert!(
        f.store.fetch_artefact(&v1.sha256).await.is_ok(),
        "Twin2 uses it"
    );
    f.deploy(names::MASTER_SLAVE_NEXT, Some("Twin2"))
        .await
        .expect("Twin2 moves on");
    f.store
        .remove("Twin2", &v1.sha256[..12])
        .await
        .expect("remove by hash");
    assert!(matches!(
        f.store.fetch_artefact(&v1.sha256).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(f.store.fetch_artefact(&v2.sha256).await.is_ok());
}

#[tokio::test(flavor = "multi_thread")]
async fn list_shows_active_versions_and_what_instances_report() {
    let f = Fixture::new().await;
    let d = f.deploy(names::MASTER_SLAVE, None).await.expect("deploy");
    f.deploy(names::PARTITION_SUMMARY, None)
        .await
        .expect("aggregator");
    let zk = f.admin.zk();
    status::record_active(zk, &f.paths, "h_1", "MasterSlave", "0.1.0", &d.sha256)
        .await
        .expect("status");
    status::record_error(zk, &f.paths, "h_2", "MasterSlave", "0.2.0", "abc", "boom")
        .await
        .expect("status");

    let list = f.store.list().await.expect("list");
    let names: Vec<&str> = list.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["MasterSlave", "partition-summary"]);
    let ms = &list[0];
    assert_eq!(
        ms.active.as_ref().map(|a| a.version.as_str()),
        Some("0.1.0")
    );
    assert_eq!(ms.versions, ["0.1.0"]);
    assert_eq!(ms.instances.len(), 2);
    assert_eq!(ms.instances[0].instance, "h_1");
    assert_eq!(
        ms.instances[0].status.active_version.as_deref(),
        Some("0.1.0")
    );
    assert_eq!(ms.instances[0].status.last_error, None);
    assert_eq!(ms.instances[1].status.last_error.as_deref(), Some("boom"));
    assert_eq!(ms.instances[1].status.active_version, None);
    assert!(list[1].instances.is_empty());

    // An error clears when the instance loads the version.
    status::record_active(zk, &f.paths, "h_2", "MasterSlave", "0.1.0", &d.sha256)
        .await
        .expect("status");
    let list = f.store.list().await.expect("list");
    assert_eq!(list[0].instances[1].status.last_error, None);
    let json = serde_json::to_value(&list).expect("serialises");
    assert_eq!(json[0]["instances"][0]["instance"], "h_1");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_store_without_an_inspector_refuses_to_deploy_and_writes_nothing() {
    let f = Fixture::new().await;
    let before = f.snapshot().await;
    let store = PluginStore::new(f.admin.zk().clone(), CLUSTER);
    match store
        .deploy(&bytes(names::MASTER_SLAVE), &DeployOptions::default())
        .await
    {
        Err(StoreError::Host(why)) => assert!(why.contains("no plugin host"), "{why}"),
        other => panic!("expected a Host error, got {other:?}"),
    }
    assert_eq!(f.snapshot().await, before);
}

#[tokio::test(flavor = "multi_thread")]
async fn deploying_to_an_unknown_cluster_is_not_found() {
    let f = Fixture::new().await;
    let store = PluginStore::new(f.admin.zk().clone(), "NOPE").with_inspector(inspector());
    match store
        .deploy(&bytes(names::MASTER_SLAVE), &DeployOptions::default())
        .await
    {
        Err(StoreError::NotFound(why)) => assert!(why.contains("NOPE"), "{why}"),
        other => panic!("expected NotFound, got {other:?}"),
    }
    assert!(f.raw("/NOPE").await.is_none());
}
