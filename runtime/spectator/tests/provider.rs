//! `RoutingTableProvider` against a real ZooKeeper, with the views written
//! directly (the end-to-end test in `tests/tests/all/routing.rs` uses a real
//! controller and participants): updates, live-instance removal,
//! customized views, listeners, unknown clusters.

use std::sync::Arc;
use std::time::Duration;

use strand_admin::Admin;
use strand_devcluster::zookeeper::LocalZk;
use strand_model::{LiveInstance, PropertyPaths, SessionId, ZNRecord};
use strand_spectator::{ProviderConfig, RoutingSnapshot, RoutingTableProvider, SpectatorError};
use strand_zk::{CreateKind, Zk, ZkConfig};

const CLUSTER: &str = "ROUTES";
const DEADLINE: Duration = Duration::from_secs(60);

fn view(resource: &str, partitions: &[(&str, &[(&str, &str)])]) -> ZNRecord {
    let mut record = ZNRecord::new(resource);
    for (partition, states) in partitions {
        for (instance, state) in *states {
            record
                .map_mut(*partition)
                .insert((*instance).to_owned(), (*state).to_owned());
        }
    }
    record
}

/// Makes `instance` live on its own session; dropping the session ends it.
async fn go_live(server: &LocalZk, instance: &str) -> Zk {
    let zk = Zk::connect_to(&server.connect_string())
        .await
        .expect("session");
    let record = LiveInstance::new(instance, SessionId::from_i64(1), "test", "1@test");
    zk.create(
        &PropertyPaths::new(CLUSTER).live_instance(instance),
        &record.to_bytes().expect("encode"),
        CreateKind::Ephemeral,
    )
    .await
    .expect("live instance");
    zk
}

async fn wait(
    provider: &RoutingTableProvider,
    what: &str,
    done: impl Fn(&RoutingSnapshot) -> bool,
) -> Arc<RoutingSnapshot> {
    match provider.wait_for(DEADLINE, done).await {
        Some(snapshot) => snapshot,
        None => panic!("timed out waiting for {what}: {:?}", provider.snapshot()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follows_views_liveness_and_customized_views() {
    let server = LocalZk::start().expect("zookeeper");
    let admin = Admin::connect(&server.connect_string())
        .await
        .expect("admin");
    admin.add_cluster(CLUSTER).await.expect("cluster");
    for i in ["a_1", "b_1", "c_1"] {
        admin.add_instance(CLUSTER, i).await.expect("instance");
    }
    let paths = PropertyPaths::new(CLUSTER);
    let config = ProviderConfig::new(ZkConfig::new(server.connect_string()), CLUSTER)
        .with_customized("DEPLOY")
        .expect("type");
    let provider = RoutingTableProvider::start(config).await.expect("provider");
    assert!(provider.snapshot().resources().is_empty());
    let mut listener = provider.subscribe();
    listener.borrow_and_update();

    let _a = go_live(&server, "a_1").await;
    let b = go_live(&server, "b_1").await;
    let _c = go_live(&server, "c_1").await;
    admin
        .accessor()
        .put(
            &paths.external_view("DB"),
            &view(
                "DB",
                &[
                    (
                        "DB_0",
                        &[("a_1", "MASTER"), ("b_1", "SLAVE"), ("c_1", "SLAVE")],
                    ),
                    (
                        "DB_1",
                        &[("b_1", "MASTER"), ("c_1", "SLAVE"), ("x_1", "SLAVE")],
                    ),
                ],
            ),
        )
        .await
        .expect("write view");
    let snap = wait(&provider, "the external view", |s| {
        s.instances("DB", "DB_1", "MASTER") == ["b_1"] && s.is_live("c_1")
    })
    .await;
    assert_eq!(snap.instances("DB", "DB_0", "SLAVE"), ["b_1", "c_1"]);
    assert_eq!(snap.instances_in_state("DB", "MASTER"), ["a_1", "b_1"]);
    // x_1 has no InstanceConfig: never routed to (Helix's rule).
    assert_eq!(snap.instances("DB", "DB_1", "SLAVE"), ["c_1"]);
    assert_eq!(snap.resources(), ["DB"]);
    assert!(
        listener.has_changed().expect("provider alive"),
        "listener not told"
    );
    let before = snap.generation();

    // A participant's session ends: it leaves the table at once, although
    // the view (nobody rewrites it here) still names it.
    drop(b);
    let snap = wait(&provider, "b_1 to leave", |s| !s.is_live("b_1")).await;
    assert!(snap.generation() > before);
    assert!(snap.instances("DB", "DB_1", "MASTER").is_empty());
    assert_eq!(snap.instances("DB", "DB_0", "SLAVE"), ["c_1"]);

    // Customized view: appears, changes, disappears.
    let cv_path = paths.customized_view("DEPLOY", "DB");
    admin
        .accessor()
        .put(
            &cv_path,
            &view(
                "DB",
                &[("DB_0", &[("a_1", "DEPLOYING"), ("c_1", "DEPLOYED")])],
            ),
        )
        .await
        .expect("write customized view");
    let snap = wait(&provider, "the customized view", |s| {
        s.customized_view("DEPLOY")
            .is_ok_and(|t| t.instances("DB", "DB_0", "DEPLOYING") == ["a_1"])
    })
    .await;
    // The external view table is unaffected by the customized one.
    assert_eq!(snap.instances("DB", "DB_0", "MASTER"), ["a_1"]);
    admin
        .accessor()
        .put(
            &cv_path,
            &view(
                "DB",
                &[("DB_0", &[("a_1", "DEPLOYED"), ("c_1", "DEPLOYED")])],
            ),
        )
        .await
        .expect("update customized view");
    wait(&provider, "the customized view to change", |s| {
        s.customized_view("DEPLOY")
            .is_ok_and(|t| t.instances("DB", "DB_0", "DEPLOYED") == ["a_1", "c_1"])
    })
    .await;
    admin
        .zk()
        .delete_recursive(&paths.customized_views_of_type("DEPLOY"))
        .await
        .expect("delete customized view");
    wait(&provider, "the customized view to go", |s| {
        s.customized_view("DEPLOY").is_ok_and(|t| t.is_empty())
    })
    .await;
    // A type the provider does not watch is an error, not an empty answer.
    assert!(matches!(
        provider.snapshot().customized_view("OTHER"),
        Err(SpectatorError::UnknownSource(_))
    ));

    // The view is dropped: the resource leaves the table.
    admin
        .zk()
        .delete(&paths.external_view("DB"), None)
        .await
        .expect("delete view");
    wait(&provider, "the resource to go", |s| {
        s.resources().is_empty()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_session_after_expiry_keeps_the_table_current() {
    let server = LocalZk::start().expect("zookeeper");
    let admin = Admin::connect(&server.connect_string())
        .await
        .expect("admin");
    admin.add_cluster(CLUSTER).await.expect("cluster");
    admin.add_instance(CLUSTER, "a_1").await.expect("instance");
    let _a = go_live(&server, "a_1").await;
    let paths = PropertyPaths::new(CLUSTER);
    let write = |state: &'static str| {
        let admin = &admin;
        let path = paths.external_view("DB");
        async move {
            admin
                .accessor()
                .put(&path, &view("DB", &[("DB_0", &[("a_1", state)])]))
                .await
                .expect("write view");
        }
    };
    write("SLAVE").await;
    let config = ProviderConfig::new(
        ZkConfig::new(server.connect_string()).with_session_timeout(Duration::from_secs(4)),
        CLUSTER,
    );
    let provider = RoutingTableProvider::start(config).await.expect("provider");
    wait(&provider, "the first view", |s| {
        s.instances("DB", "DB_0", "SLAVE") == ["a_1"]
    })
    .await;
    let old_session = provider.zk().session_id();
    provider.zk().expire_session().await.expect("expire");
    // Written while the provider may still be reconnecting: the new
    // session's first read must pick it up.
    write("MASTER").await;
    wait(&provider, "the view after the expiry", |s| {
        s.instances("DB", "DB_0", "MASTER") == ["a_1"]
    })
    .await;
    assert_ne!(provider.zk().session_id(), old_session);
    // And it follows changes on the new session.
    write("OFFLINE").await;
    wait(&provider, "a change on the new session", |s| {
        s.instances("DB", "DB_0", "OFFLINE") == ["a_1"]
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_cluster_and_bad_types_are_refused() {
    let server = LocalZk::start().expect("zookeeper");
    let config = ProviderConfig::new(ZkConfig::new(server.connect_string()), "NOPE");
    assert!(matches!(
        RoutingTableProvider::start(config.clone()).await,
        Err(SpectatorError::ClusterNotSetUp(c)) if c == "NOPE"
    ));
    assert!(matches!(
        config.with_customized("a/b"),
        Err(SpectatorError::InvalidSource(_))
    ));
}
