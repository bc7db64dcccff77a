//! The ZooKeeper layer against a real ZooKeeper server (Debian's package,
//! started privately on a loopback port by each test).

use std::time::{Duration, Instant};

use futures::StreamExt;
use strand_devcluster::zookeeper::{LocalEnsemble, LocalZk};
use strand_model::ZNRecord;
use strand_zk::{
    Accessor, CacheEvent, CacheOptions, CreateKind, SessionEvent, TreeCache, Update, Zk, ZkConfig,
    ZkError,
};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const DEADLINE: Duration = Duration::from_secs(30);

async fn connect(server: &LocalZk) -> Zk {
    Zk::connect(ZkConfig::new(server.connect_string()).with_session_timeout(Duration::from_secs(4)))
        .await
        .expect("connect to the private ZooKeeper")
}

/// A counter of the process's metrics (every test of this binary adds to
/// it: compare with a reading taken before).
fn counter(name: &str) -> f64 {
    let page = strand_metrics::global().encode(strand_metrics::Format::Text);
    page.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0.0)
}

/// Polls `check` until it holds or the deadline passes.
async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let end = Instant::now() + DEADLINE;
    while !check() {
        assert!(Instant::now() < end, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn unreachable_zookeeper_fails_within_the_deadline() {
    let port = strand_devcluster::zookeeper::free_port().expect("free port");
    let config =
        ZkConfig::new(format!("127.0.0.1:{port}")).with_connect_deadline(Duration::from_secs(2));
    let started = Instant::now();
    let err = Zk::connect(config)
        .await
        .expect_err("nothing listens there");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    assert!(matches!(err, ZkError::Connect { .. }), "{err}");
    assert!(
        err.to_string().contains(&format!("127.0.0.1:{port}")),
        "{err}"
    );
}

#[tokio::test]
async fn basic_operations_and_errors_name_the_path() -> TestResult {
    let server = LocalZk::start()?;
    let zk = connect(&server).await;
    zk.create_all("/a/b/c").await?;
    assert_eq!(zk.children("/a/b").await?, vec!["c"]);
    let stat = zk
        .create("/a/b/c/d", b"one", CreateKind::Persistent)
        .await?;
    let err = zk
        .create("/a/b/c/d", b"two", CreateKind::Persistent)
        .await
        .expect_err("exists");
    assert!(
        err.is_node_exists() && err.to_string().contains("/a/b/c/d"),
        "{err}"
    );
    zk.set("/a/b/c/d", b"two", Some(stat.version)).await?;
    let err = zk
        .set("/a/b/c/d", b"three", Some(stat.version))
        .await
        .expect_err("stale");
    assert!(matches!(err, ZkError::BadVersion { .. }), "{err}");
    assert_eq!(
        zk.get("/a/b/c/d").await?.map(|(d, _)| d),
        Some(b"two".to_vec())
    );
    assert_eq!(zk.get("/missing").await?, None);
    zk.delete_recursive("/a").await?;
    assert!(zk.exists("/a").await?.is_none());
    Ok(())
}

#[tokio::test]
async fn multi_op_applies_all_or_nothing() -> TestResult {
    let server = LocalZk::start()?;
    let zk = connect(&server).await;
    zk.create("/x", b"", CreateKind::Persistent).await?;
    let mut multi = zk.multi();
    multi
        .create("/y", Vec::new(), CreateKind::Persistent)
        .create("/x", Vec::new(), CreateKind::Persistent);
    let err = multi.commit().await.expect_err("second create conflicts");
    match err {
        ZkError::Multi { index, path, .. } => assert_eq!((index, path.as_str()), (1, "/x")),
        other => panic!("unexpected {other}"),
    }
    assert!(zk.exists("/y").await?.is_none(), "nothing applied");
    Ok(())
}

#[tokio::test]
async fn update_is_compare_and_set_and_keeps_unknown_fields() -> TestResult {
    let server = LocalZk::start()?;
    let zk = connect(&server).await;
    let acc = Accessor::new(zk.clone());
    // A record as a Java node might have written it, with fields Strand
    // does not know.
    let mut foreign = ZNRecord::new("R");
    foreign.set_simple("JAVA_ONLY", "keep me");
    foreign.map_mut("P_0").insert("x".into(), "1".into());
    acc.put("/r", &foreign).await?;

    // Many concurrent increments: none may be lost.
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let acc = acc.clone();
        tasks.push(tokio::spawn(async move {
            acc.update("/r", false, |current| {
                let mut record = current.expect("exists");
                let n: u32 = record
                    .simple("COUNT")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                record.set_simple("COUNT", (n + 1).to_string());
                Update::Write(record)
            })
            .await
        }));
    }
    for task in tasks {
        task.await??;
    }
    let record = acc.get("/r").await?.expect("record").value;
    assert_eq!(record.simple("COUNT"), Some("20"));
    assert_eq!(record.simple("JAVA_ONLY"), Some("keep me"));
    assert_eq!(
        record
            .map("P_0")
            .and_then(|m| m.get("x"))
            .map(String::as_str),
        Some("1")
    );

    // A missing znode is created only when asked.
    let written = acc
        .update("/none", false, |_| Update::Write(ZNRecord::new("none")))
        .await?;
    assert!(written.is_none() && zk.exists("/none").await?.is_none());
    acc.update("/none", true, |_| Update::Write(ZNRecord::new("none")))
        .await?;
    assert!(zk.exists("/none").await?.is_some());
    acc.update("/none", false, |_| Update::Delete).await?;
    assert!(zk.exists("/none").await?.is_none());
    Ok(())
}

#[tokio::test]
async fn malformed_record_is_a_clear_error() -> TestResult {
    let server = LocalZk::start()?;
    let zk = connect(&server).await;
    zk.create("/bad", b"{ not json", CreateKind::Persistent)
        .await?;
    let err = Accessor::new(zk).get("/bad").await.expect_err("malformed");
    assert!(
        matches!(err, ZkError::Record { .. }) && err.to_string().contains("/bad"),
        "{err}"
    );
    Ok(())
}

#[tokio::test]
async fn cache_follows_creates_changes_and_deletes() -> TestResult {
    let server = LocalZk::start()?;
    let zk = connect(&server).await;
    zk.create_all("/c/one").await?;
    let cache = TreeCache::start(zk.clone(), "/c").await?;
    assert!(cache.contains("/c/one"));
    let mut events = cache.subscribe();

    let acc = Accessor::new(zk.clone());
    let mut record = ZNRecord::new("two");
    record.set_simple("K", "v1");
    acc.put("/c/one/two", &record).await?;
    eventually("create to reach the cache", || {
        cache
            .record("/c/one/two")
            .is_some_and(|r| r.simple("K") == Some("v1"))
    })
    .await;
    assert_eq!(cache.children("/c/one"), vec!["two"]);
    match tokio::time::timeout(DEADLINE, events.recv()).await?? {
        CacheEvent::Changed(paths) => assert!(paths.iter().any(|p| p == "/c/one/two")),
        other => panic!("unexpected {other:?}"),
    }

    record.set_simple("K", "v2");
    acc.put("/c/one/two", &record).await?;
    eventually("change to reach the cache", || {
        cache
            .record("/c/one/two")
            .is_some_and(|r| r.simple("K") == Some("v2"))
    })
    .await;

    zk.delete_recursive("/c/one").await?;
    eventually("delete to reach the cache", || !cache.contains("/c/one")).await;
    assert!(cache.children("/c").is_empty());
    Ok(())
}

#[tokio::test]
async fn static_data_is_read_on_creation_only_and_feeds_report_every_change() -> TestResult {
    let server = LocalZk::start()?;
    let zk = connect(&server).await;
    zk.create_all("/s/static").await?;
    zk.create_all("/s/live").await?;
    let options = CacheOptions {
        static_data: Some(std::sync::Arc::new(|path: &str| {
            path.starts_with("/s/static/")
        })),
        ..CacheOptions::default()
    };
    let cache = TreeCache::start_with(zk.clone(), "/s", options).await?;
    let mut feed = cache.feed();
    zk.create("/s/static/m", b"one", CreateKind::Persistent)
        .await?;
    zk.create("/s/live/m", b"one", CreateKind::Persistent)
        .await?;
    eventually("creations in the cache", || {
        cache.get("/s/static/m").is_some_and(|n| n.data() == b"one")
            && cache.get("/s/live/m").is_some_and(|n| n.data() == b"one")
    })
    .await;
    zk.set("/s/static/m", b"two", None).await?;
    zk.set("/s/live/m", b"two", None).await?;
    eventually("the followed change", || {
        cache.get("/s/live/m").is_some_and(|n| n.data() == b"two")
    })
    .await;
    // The static znode keeps the data read at its creation.
    assert_eq!(
        cache.get("/s/static/m").map(|n| n.data().to_vec()),
        Some(b"one".to_vec())
    );
    zk.delete("/s/static/m", None).await?;
    eventually("the deletion", || !cache.contains("/s/static/m")).await;

    // A znode created and deleted before the cache reads it is still
    // reported as changed (its creator learns it is gone).
    zk.create("/s/live/brief", b"", CreateKind::Persistent)
        .await?;
    zk.delete("/s/live/brief", None).await?;
    let mut reported = Vec::new();
    while !reported.iter().any(|p: &String| p == "/s/live/brief") {
        let batch = tokio::time::timeout(DEADLINE, feed.next()).await?;
        reported.extend(batch.paths);
    }
    assert!(!cache.contains("/s/live/brief"));
    Ok(())
}

#[tokio::test]
async fn excluded_subtrees_are_neither_loaded_nor_followed() -> TestResult {
    let server = LocalZk::start()?;
    let zk = connect(&server).await;
    zk.create_all("/x/bulk/old").await?;
    zk.create_all("/x/kept").await?;
    let cache = TreeCache::start_excluding(zk.clone(), "/x", vec!["/x/bulk".into()]).await?;
    assert!(cache.contains("/x/kept"));
    assert!(!cache.contains("/x/bulk") && !cache.contains("/x/bulk/old"));

    // A change in the excluded subtree, then one outside it: only the
    // second reaches the cache.
    zk.create_all("/x/bulk/new").await?;
    zk.create_all("/x/kept/child").await?;
    eventually("the kept change to reach the cache", || {
        cache.contains("/x/kept/child")
    })
    .await;
    assert!(!cache.contains("/x/bulk/new"));
    assert_eq!(cache.children("/x"), vec!["kept"]);
    Ok(())
}

#[tokio::test]
async fn skipped_paths_are_neither_loaded_nor_followed_wherever_they_appear() -> TestResult {
    let server = LocalZk::start()?;
    let zk = connect(&server).await;
    zk.create_all("/y/a/LOG/old").await?;
    zk.create_all("/y/a/DATA").await?;
    // Every `LOG` one level below the root, and all beneath it.
    let options = CacheOptions {
        skip: Some(std::sync::Arc::new(|path: &str| {
            path.split('/').nth(3) == Some("LOG")
        })),
        ..CacheOptions::default()
    };
    let cache = TreeCache::start_with(zk.clone(), "/y", options).await?;
    assert!(cache.contains("/y/a/DATA"));
    assert!(!cache.contains("/y/a/LOG") && !cache.contains("/y/a/LOG/old"));

    // A subtree created after the start is skipped by the same rule.
    zk.create_all("/y/b/LOG/new").await?;
    zk.create_all("/y/b/DATA").await?;
    eventually("the kept change to reach the cache", || {
        cache.contains("/y/b/DATA")
    })
    .await;
    assert!(!cache.contains("/y/b/LOG") && !cache.contains("/y/b/LOG/new"));
    assert_eq!(cache.children("/y/b"), vec!["DATA"]);
    Ok(())
}

#[tokio::test]
async fn session_expiry_is_reported_to_session_and_cache_listeners() -> TestResult {
    let server = LocalZk::start()?;
    let zk = connect(&server).await;
    zk.create_all("/e").await?;
    zk.create("/e/live", b"", CreateKind::Ephemeral).await?;
    let cache = TreeCache::start(zk.clone(), "/e").await?;
    let mut cache_events = cache.subscribe();
    let mut session_events = Box::pin(zk.session_events());
    let expiries = counter("strand_zookeeper_session_expiries_total");

    zk.expire_session().await?;

    let event = tokio::time::timeout(DEADLINE, async {
        while let Some(event) = session_events.next().await {
            if event.is_terminal() {
                return Some(event);
            }
        }
        None
    })
    .await?;
    assert_eq!(event, Some(SessionEvent::Expired));
    let ended = tokio::time::timeout(DEADLINE, async {
        loop {
            match cache_events.recv().await {
                Ok(CacheEvent::SessionEnded) => return true,
                Ok(_) => continue,
                Err(_) => return false,
            }
        }
    })
    .await?;
    assert!(ended, "the cache reports the end of its session");
    eventually("the expiry in the metrics", || {
        counter("strand_zookeeper_session_expiries_total") > expiries
    })
    .await;
    assert!(
        zk.get("/e")
            .await
            .expect_err("expired")
            .is_session_expired()
    );

    // The ephemeral is gone for a new session.
    let fresh = connect(&server).await;
    assert!(fresh.exists("/e/live").await?.is_none());
    Ok(())
}

#[tokio::test]
async fn disconnect_and_reconnect_are_reported_and_the_cache_resyncs() -> TestResult {
    let mut server = LocalZk::start()?;
    let zk = Zk::connect(
        ZkConfig::new(server.connect_string()).with_session_timeout(Duration::from_secs(20)),
    )
    .await?;
    zk.create_all("/r").await?;
    let cache = TreeCache::start(zk.clone(), "/r").await?;
    let mut session_events = Box::pin(zk.session_events());

    let reconnects = counter("strand_zookeeper_reconnects_total");
    server.stop();
    let event = tokio::time::timeout(DEADLINE, session_events.next()).await?;
    assert_eq!(event, Some(SessionEvent::Disconnected));
    server.restart()?;
    let event = tokio::time::timeout(DEADLINE, session_events.next()).await?;
    assert_eq!(event, Some(SessionEvent::Reconnected));
    eventually("the reconnect in the metrics", || {
        counter("strand_zookeeper_reconnects_total") > reconnects
    })
    .await;

    // Writes by another session after the restart reach the cache.
    let other = connect(&server).await;
    other
        .create("/r/after", b"", CreateKind::Persistent)
        .await?;
    eventually("post-restart create in the cache", || {
        cache.contains("/r/after")
    })
    .await;
    Ok(())
}

#[tokio::test]
async fn chroot_and_ensemble_connect_strings_work() -> TestResult {
    let mut ensemble = LocalEnsemble::start(3)?;
    let connect_string = ensemble.connect_string();
    let zk = Zk::connect(ZkConfig::new(connect_string.clone())).await?;
    zk.create_all("/chroot/inner").await?;

    let rooted = Zk::connect(ZkConfig::new(format!("{connect_string}/chroot"))).await?;
    assert_eq!(rooted.children("/").await?, vec!["inner"]);
    rooted
        .create("/made-in-chroot", b"", CreateKind::Persistent)
        .await?;
    // The two sessions may be on different servers: sync before reading
    // another session's write.
    zk.sync("/chroot/made-in-chroot").await?;
    assert!(zk.exists("/chroot/made-in-chroot").await?.is_some());

    // One server down: the ensemble keeps serving.
    ensemble.stop_server(0);
    let survivor = Zk::connect(ZkConfig::new(connect_string.clone())).await?;
    survivor
        .create("/after-failure", b"", CreateKind::Persistent)
        .await?;
    ensemble.restart_server(0)?;
    survivor.sync("/after-failure").await?;
    assert!(survivor.exists("/after-failure").await?.is_some());

    let missing = ZkConfig::new(format!("{connect_string}/no-such-chroot"))
        .with_connect_deadline(Duration::from_secs(5));
    // A missing chroot is an error at connect time, naming it.
    let err = Zk::connect(missing).await.expect_err("missing chroot");
    assert!(
        err.to_string()
            .contains("the chroot /no-such-chroot does not exist"),
        "{err}"
    );
    Ok(())
}
