//! Digest credentials and ACLs against a real ZooKeeper: a subtree created
//! with an ACL keeps it on every znode a credentialed session adds under
//! it (single creates, `mkdir -p`, batches, ephemerals), and sessions
//! without the credentials can read but change nothing.

use std::time::Duration;

use strand_devcluster::zookeeper::LocalZk;
use strand_zk::{AclEntry, CreateAcl, CreateKind, DigestCredentials, Zk, ZkConfig};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn config(server: &LocalZk) -> ZkConfig {
    ZkConfig::new(server.connect_string()).with_session_timeout(Duration::from_secs(4))
}

fn credentials(user: &str, password: &str) -> DigestCredentials {
    DigestCredentials::new(user, password).expect("valid credentials")
}

/// The ACL of `path` as `scheme:id:perms` strings, sorted.
async fn acl_of(zk: &Zk, path: &str) -> Vec<String> {
    let mut acl: Vec<String> = zk
        .acl(path)
        .await
        .expect("get ACL")
        .iter()
        .map(|a| format!("{}:{}:{}", a.scheme(), a.id(), a.permission()))
        .collect();
    acl.sort();
    acl
}

#[tokio::test]
async fn creates_inherit_the_acl_and_strangers_change_nothing() -> TestResult {
    let server = LocalZk::start()?;
    let owner = Zk::connect(config(&server).with_credentials(credentials("strand", "pw1"))).await?;
    // The root of the subtree gets its ACL explicitly, in one batch with a
    // child (which inherits it from the batch).
    owner
        .multi()
        .with_acl(vec![AclEntry::creator_all(), AclEntry::world_read()])
        .create("/c", Vec::new(), CreateKind::Persistent)
        .create("/c/CONFIGS", b"cfg".to_vec(), CreateKind::Persistent)
        .commit()
        .await?;
    let expected = acl_of(&owner, "/c").await;
    assert_eq!(expected.len(), 2, "{expected:?}");
    assert!(
        expected.iter().any(|a| a.starts_with("digest:strand:")),
        "{expected:?}"
    );
    assert!(expected.contains(&"world:anyone:READ".to_owned()));

    // Later creates of another credentialed session with the same user:
    // single, mkdir -p, a batch of parent + child, an ephemeral.
    let peer = Zk::connect(config(&server).with_credentials(credentials("strand", "pw1"))).await?;
    peer.create("/c/one", b"1", CreateKind::Persistent).await?;
    peer.create_all("/c/a/b/c").await?;
    peer.multi()
        .create("/c/p", Vec::new(), CreateKind::Persistent)
        .create("/c/p/q", b"q".to_vec(), CreateKind::Persistent)
        .commit()
        .await?;
    peer.create("/c/CONFIGS/live", b"", CreateKind::Ephemeral)
        .await?;
    for path in [
        "/c/CONFIGS",
        "/c/one",
        "/c/a",
        "/c/a/b",
        "/c/a/b/c",
        "/c/p",
        "/c/p/q",
        "/c/CONFIGS/live",
    ] {
        assert_eq!(acl_of(&peer, path).await, expected, "{path}");
    }

    // Without credentials, or with other ones: reads work, nothing changes.
    let anonymous = Zk::connect(config(&server)).await?;
    let stranger =
        Zk::connect(config(&server).with_credentials(credentials("mallory", "guess"))).await?;
    for zk in [&anonymous, &stranger] {
        assert_eq!(
            zk.get("/c/CONFIGS").await?.map(|(d, _)| d),
            Some(b"cfg".to_vec())
        );
        assert!(!zk.children("/c").await?.is_empty());
        let refusals = [
            zk.create("/c/new", b"", CreateKind::Persistent)
                .await
                .map(|_| ()),
            zk.create("/c/CONFIGS/eph", b"", CreateKind::Ephemeral)
                .await
                .map(|_| ()),
            zk.set("/c/CONFIGS", b"evil", None).await.map(|_| ()),
            zk.delete("/c/one", None).await,
            zk.delete("/c/CONFIGS/live", None).await,
            zk.multi().set("/c/one", b"x".to_vec(), None).commit().await,
        ];
        for refusal in refusals {
            let err = refusal.expect_err("refused");
            assert!(err.is_no_auth(), "{err}");
            assert!(err.to_string().contains("--zk-auth-file"), "{err}");
        }
    }
    assert_eq!(
        owner.get("/c/CONFIGS").await?.map(|(d, _)| d),
        Some(b"cfg".to_vec())
    );
    assert!(owner.exists("/c/new").await?.is_none());
    assert!(owner.exists("/c/one").await?.is_some());
    Ok(())
}

#[tokio::test]
async fn sessions_without_credentials_create_open_znodes() -> TestResult {
    let server = LocalZk::start()?;
    let open = Zk::connect(config(&server)).await?;
    open.create_all("/x/y").await?;
    assert_eq!(acl_of(&open, "/x/y").await, vec!["world:anyone:ALL"]);
    // An explicit ACL overrides inheritance.
    let explicit = Zk::connect(
        config(&server)
            .with_credentials(credentials("ops", "pw"))
            .with_create_acl(CreateAcl::Explicit(vec![AclEntry::parse(
                "world:anyone:cdrwa",
            )?])),
    )
    .await?;
    explicit.create("/x/z", b"", CreateKind::Persistent).await?;
    assert_eq!(acl_of(&open, "/x/z").await, vec!["world:anyone:ALL"]);
    Ok(())
}
