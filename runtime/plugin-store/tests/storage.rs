//! What the plugin store keeps in ZooKeeper, against a real ZooKeeper with
//! the real plugins: compressed artefacts (and old uncompressed ones still
//! read), the retention policy, `gc`, and the budget a deploy may not
//! exceed.

mod common;

use common::{CLUSTER, Fixture, bytes, noise};
use strand_devcluster::plugins::names;
use strand_model::ZNRecord;
use strand_model::time::now_ms;
use strand_plugin_store::artefact::{self, Packed};
use strand_plugin_store::{StoragePolicy, StoreError, sha256_hex};
use strand_zk::{Accessor, CreateKind};

#[tokio::test(flavor = "multi_thread")]
async fn artefacts_are_compressed_and_uncompressed_ones_of_older_clusters_still_read() {
    let f = Fixture::new().await;
    let component = bytes(names::MASTER_SLAVE);
    let d = f.deploy(names::MASTER_SLAVE, None).await.expect("deploy");
    let manifest = artefact::manifest(f.admin.zk(), &f.paths, &d.sha256)
        .await
        .expect("manifest")
        .expect("complete");
    assert_eq!(manifest.encoding, artefact::Encoding::Gzip);
    assert_eq!(manifest.size, component.len());
    assert!(manifest.stored_size < component.len() / 2);
    assert_eq!(
        d.stored_bytes,
        Some(u64::try_from(manifest.stored_size).expect("size"))
    );

    // An artefact as Strand wrote it before compression: raw chunks and a
    // manifest without ENCODING or STORED_SIZE.
    let old = bytes(names::MASTER_SLAVE_NEXT);
    let sha = sha256_hex(&old);
    let zk = f.admin.zk();
    let root = f.paths.artefact(&sha);
    zk.create(&root, &[], CreateKind::Persistent)
        .await
        .expect("artefact znode");
    let chunk = 16 * 1024;
    for (i, part) in old.chunks(chunk).enumerate() {
        zk.create(&f.paths.chunk(&sha, i), part, CreateKind::Persistent)
            .await
            .expect("chunk");
    }
    let mut m = ZNRecord::new(sha.as_str());
    m.set_simple("SHA256", sha.as_str());
    m.set_simple("SIZE", old.len().to_string());
    m.set_simple("CHUNKS", old.len().div_ceil(chunk).to_string());
    m.set_simple("CHUNK_SIZE", chunk.to_string());
    m.set_simple("CREATED_AT", now_ms().to_string());
    Accessor::new(zk.clone())
        .set(&root, &m, None)
        .await
        .expect("old manifest");
    assert_eq!(f.store.fetch_artefact(&sha).await.expect("old format"), old);
    // Deploying those bytes keeps the intact old copy as it is.
    let d = f
        .deploy(names::MASTER_SLAVE_NEXT, None)
        .await
        .expect("deploy over an old copy");
    assert_eq!(f.store.fetch_artefact(&d.sha256).await.expect("read"), old);

    // A gzip stream that inflates to more than its manifest says is corrupt.
    let bomb = Packed::new(&vec![0u8; 4 << 20]);
    let mut lie = bomb.clone();
    lie.size = 1024;
    lie.sha256 = sha256_hex(&[0u8; 1024]);
    artefact::write_packed(zk, &f.paths, &lie, chunk)
        .await
        .expect("write");
    match f.store.fetch_artefact(&lie.sha256).await {
        Err(StoreError::Corrupt(why)) => assert!(why.contains("more than"), "{why}"),
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn retention_drops_versions_beyond_the_policy_and_their_artefacts() {
    let f = Fixture::new().await;
    f.store
        .set_policy(&StoragePolicy {
            retained_versions: 0,
            ..StoragePolicy::default()
        })
        .await
        .expect("policy");
    let v1 = f.deploy(names::MASTER_SLAVE, None).await.expect("0.1.0");
    let v2 = f
        .deploy(names::MASTER_SLAVE_NEXT, None)
        .await
        .expect("0.2.0");
    let history: Vec<String> = f
        .store
        .history("MasterSlave")
        .await
        .expect("history")
        .into_iter()
        .map(|d| d.version)
        .collect();
    assert_eq!(history, ["0.2.0"], "only the active version is kept");
    assert!(matches!(
        f.store.fetch_artefact(&v1.sha256).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(f.store.fetch_artefact(&v2.sha256).await.is_ok());

    // One earlier version: the previous one stays for a rollback.
    f.store
        .set_policy(&StoragePolicy {
            retained_versions: 1,
            ..StoragePolicy::default()
        })
        .await
        .expect("policy");
    f.deploy(names::MASTER_SLAVE, None)
        .await
        .expect("0.1.0 again");
    let back = f
        .store
        .rollback("MasterSlave", None)
        .await
        .expect("rollback");
    assert_eq!(back.version, "0.2.0");
}

#[tokio::test(flavor = "multi_thread")]
async fn gc_applies_the_policy_and_spares_what_a_deploy_may_be_recording() {
    let f = Fixture::new().await;
    let v1 = f.deploy(names::MASTER_SLAVE, None).await.expect("0.1.0");
    f.deploy(names::MASTER_SLAVE_NEXT, None)
        .await
        .expect("0.2.0");
    let zk = f.admin.zk();
    // A complete artefact nothing uses yet: what a concurrent deploy has
    // written and not recorded looks like this, so a young one stays.
    let orphan = noise(40_000, 7);
    let orphan_sha = sha256_hex(&orphan);
    artefact::write(zk, &f.paths, &orphan_sha, &orphan, 16 * 1024)
        .await
        .expect("orphan");
    // A writer that is still writing: a young artefact without manifest.
    let young = f.paths.artefact(&"ab".repeat(32));
    zk.create(&young, &[], CreateKind::Persistent)
        .await
        .expect("young");
    zk.create(
        &strand_zk::join(&young, "0000"),
        &[1u8; 100],
        CreateKind::Persistent,
    )
    .await
    .expect("young chunk");

    let before = f.snapshot().await;
    let dry = f.store.gc(Some(0), true).await.expect("dry run");
    assert!(dry.dry_run);
    assert_eq!(
        dry.removed_versions,
        [("MasterSlave".to_owned(), "0.1.0".to_owned())]
    );
    let deleted: Vec<&str> = dry
        .deleted_artefacts
        .iter()
        .map(|(s, _)| s.as_str())
        .collect();
    assert_eq!(
        deleted,
        [v1.sha256.as_str()],
        "only the removed version's artefact goes; the young unused ones stay"
    );
    assert_eq!(f.snapshot().await, before, "a dry run changes nothing");

    let usage_before = f.store.usage().await.expect("usage");
    assert_eq!(usage_before.incomplete, 1);
    let done = f.store.gc(Some(0), false).await.expect("gc");
    assert_eq!(done.removed_versions, dry.removed_versions);
    assert_eq!(done.deleted_artefacts, dry.deleted_artefacts);
    assert!(matches!(
        f.store.fetch_artefact(&v1.sha256).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(f.admin.zk().exists(&young).await.expect("exists").is_some());
    assert!(
        f.admin
            .zk()
            .exists(&f.paths.artefact(&orphan_sha))
            .await
            .expect("exists")
            .is_some(),
        "a young complete artefact nothing names yet is kept"
    );
    let usage = f.store.usage().await.expect("usage");
    assert_eq!(usage, done.usage);
    assert!(usage.stored_bytes < usage_before.stored_bytes);
    assert_eq!((usage.artefacts, usage.incomplete), (2, 1));
    // Nothing left to do: gc is idempotent.
    let again = f.store.gc(Some(0), false).await.expect("gc again");
    assert!(again.removed_versions.is_empty() && again.deleted_artefacts.is_empty());
    assert_eq!(f.store.list().await.expect("list")[0].versions, ["0.2.0"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deploy_over_the_budget_is_refused_clearly_and_writes_nothing() {
    let f = Fixture::new().await;
    let v1 = f.deploy(names::MASTER_SLAVE, None).await.expect("0.1.0");
    let stored = v1.stored_bytes.expect("stored size");
    // Room for one version only.
    f.store
        .set_policy(&StoragePolicy {
            retained_versions: 2,
            budget_bytes: stored + stored / 2,
        })
        .await
        .expect("policy");
    let before = f.snapshot().await;
    match f.deploy(names::MASTER_SLAVE_NEXT, None).await {
        Err(e @ StoreError::OverBudget { .. }) => {
            let why = e.to_string();
            assert!(why.contains("MasterSlave 0.2.0"), "{why}");
            assert!(why.contains("budget"), "{why}");
            assert_eq!(e.http_status(), 507);
        }
        other => panic!("expected OverBudget, got {other:?}"),
    }
    assert_eq!(f.snapshot().await, before, "nothing written");
    // The same bytes again add nothing: allowed.
    f.deploy(names::MASTER_SLAVE, None)
        .await
        .expect("redeploy within budget");

    // Keeping no earlier version frees 0.1.0's bytes: 0.2.0 fits.
    f.store
        .set_policy(&StoragePolicy {
            retained_versions: 0,
            budget_bytes: stored + stored / 2,
        })
        .await
        .expect("policy");
    f.deploy(names::MASTER_SLAVE_NEXT, None)
        .await
        .expect("fits once 0.1.0 goes");
    let list = f.store.list().await.expect("list");
    assert_eq!(list[0].versions, ["0.2.0"]);
    assert!(list[0].stored_bytes > 0 && list[0].stored_bytes <= stored + stored / 2);
    let usage = f.store.usage().await.expect("usage");
    assert_eq!(usage.stored_bytes, list[0].stored_bytes);
    assert_eq!(f.store.cluster(), CLUSTER);
}
