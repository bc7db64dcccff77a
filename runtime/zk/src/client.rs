//! [`Zk`]: one ZooKeeper session and the byte-level operations Strand
//! needs — create (persistent, ephemeral, recursive), versioned set,
//! delete (single, recursive), reads, and atomic multi-ops.
//!
//! # Guarantees
//! * [`Zk::connect`] returns within its deadline, with
//!   [`ZkError::Connect`] naming the connect string when no server answers.
//! * Reads retry on connection loss until the session timeout has passed;
//!   writes never retry on their own (their outcome is unknown after a
//!   connection loss, and callers such as [`crate::Accessor::update`]
//!   decide with a versioned write).
//!
//! * With [`ZkConfig::with_credentials`] the session authenticates with
//!   ZooKeeper's digest scheme before its first request, and every create
//!   carries the ACL [`ZkConfig::create_acl`] says ([`CreateAcl`]).
//!
//! # Caveats
//! A `Zk` is bound to one session. After [`ZkError::SessionExpired`] it is
//! useless: connect again, and re-register anything ephemeral.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use zookeeper_client as zk;

use crate::auth::{CreateAcl, DigestCredentials};
use crate::backoff::Backoff;
use crate::error::{Result, ZkError};

pub use zk::Stat;

/// How to reach ZooKeeper.
#[derive(Debug, Clone)]
pub struct ZkConfig {
    /// `host:port[,host:port…][/chroot]`.
    pub connect: String,
    /// Session timeout negotiated with the server.
    pub session_timeout: Duration,
    /// How long [`Zk::connect`] may take before giving up.
    pub connect_deadline: Duration,
    /// Digest credentials the session authenticates with, if any.
    pub credentials: Option<DigestCredentials>,
    /// The ACL every znode this session creates carries.
    pub create_acl: CreateAcl,
}

impl ZkConfig {
    /// Defaults: 10 s session timeout (Helix uses 30 s; shorter sessions
    /// make failover faster) and a 10 s connect deadline.
    pub fn new(connect: impl Into<String>) -> Self {
        Self {
            connect: connect.into(),
            session_timeout: Duration::from_secs(10),
            connect_deadline: Duration::from_secs(10),
            credentials: None,
            create_acl: CreateAcl::Open,
        }
    }

    /// Authenticates the session with these digest credentials; its
    /// creates then inherit their parent's ACL ([`CreateAcl::Inherit`]),
    /// unless [`ZkConfig::with_create_acl`] says otherwise afterwards.
    pub fn with_credentials(mut self, credentials: DigestCredentials) -> Self {
        self.credentials = Some(credentials);
        self.create_acl = CreateAcl::Inherit;
        self
    }

    /// Sets the ACL the session's creates carry.
    pub fn with_create_acl(mut self, acl: CreateAcl) -> Self {
        self.create_acl = acl;
        self
    }

    /// Sets the session timeout.
    pub fn with_session_timeout(mut self, timeout: Duration) -> Self {
        self.session_timeout = timeout;
        self
    }

    /// Sets the connect deadline.
    pub fn with_connect_deadline(mut self, deadline: Duration) -> Self {
        self.connect_deadline = deadline;
        self
    }
}

/// Whether a created znode outlives its session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreateKind {
    /// Stays until deleted.
    Persistent,
    /// Deleted by the server when the creating session ends.
    Ephemeral,
}

impl CreateKind {
    /// The create options with `acls` (see [`Zk::acl_for`]): where every
    /// create gets its ACL.
    fn options(self, acls: &[zk::Acl]) -> zk::CreateOptions<'_> {
        let mode = match self {
            Self::Persistent => zk::CreateMode::Persistent,
            Self::Ephemeral => zk::CreateMode::Ephemeral,
        };
        mode.with_acls(zk::Acls::new(acls))
    }
}

/// ACLs read from parents for [`CreateAcl::Inherit`], by parent path.
/// Bounded: cleared when it grows past [`ACL_CACHE_LIMIT`] parents.
type AclCache = Arc<Mutex<HashMap<String, Arc<[zk::Acl]>>>>;

/// Parents whose ACL a session remembers before starting over.
const ACL_CACHE_LIMIT: usize = 4096;

/// One ZooKeeper session. Cheap to clone; clones share the session, which
/// closes when the last clone is dropped.
#[derive(Clone)]
pub struct Zk {
    client: zk::Client,
    config: ZkConfig,
    counters: Arc<Counters>,
    inherited_acls: AclCache,
}

/// Requests this session sent, by kind, counted as they are sent (a retried
/// read counts once per attempt; a multi-op counts as one request).
#[derive(Debug, Default)]
struct Counters {
    reads: AtomicU64,
    writes: AtomicU64,
    multis: AtomicU64,
    multi_ops: AtomicU64,
}

/// What a session has sent to ZooKeeper so far: see [`Zk::requests`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestCounts {
    /// `get`, `exists` and `list` requests.
    pub reads: u64,
    /// Single `create`, `set` and `delete` requests.
    pub writes: u64,
    /// Multi-op requests (each one request, however many operations).
    pub multis: u64,
    /// Operations inside those multi-ops.
    pub multi_ops: u64,
}

impl RequestCounts {
    /// Every request sent: reads, single writes and multi-ops.
    pub fn total(&self) -> u64 {
        self.reads + self.writes + self.multis
    }

    /// Requests that change something: single writes and multi-ops.
    pub fn write_requests(&self) -> u64 {
        self.writes + self.multis
    }
}

impl std::ops::Add for RequestCounts {
    type Output = Self;

    fn add(self, other: Self) -> Self {
        Self {
            reads: self.reads + other.reads,
            writes: self.writes + other.writes,
            multis: self.multis + other.multis,
            multi_ops: self.multi_ops + other.multi_ops,
        }
    }
}

impl std::ops::Sub for RequestCounts {
    type Output = Self;

    fn sub(self, other: Self) -> Self {
        Self {
            reads: self.reads.saturating_sub(other.reads),
            writes: self.writes.saturating_sub(other.writes),
            multis: self.multis.saturating_sub(other.multis),
            multi_ops: self.multi_ops.saturating_sub(other.multi_ops),
        }
    }
}

impl Counters {
    fn read(&self) {
        self.reads.fetch_add(1, Ordering::Relaxed);
        strand_metrics::global().zookeeper.request("read");
    }

    fn write(&self) {
        self.writes.fetch_add(1, Ordering::Relaxed);
        strand_metrics::global().zookeeper.request("write");
    }
}

impl std::fmt::Debug for Zk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Zk")
            .field("connect", &self.config.connect)
            .field("session", &self.session_id())
            .finish()
    }
}

impl Zk {
    /// Connects and establishes a new session within the configured deadline.
    ///
    /// # Errors
    /// [`ZkError::Connect`] when no server of the connect string answers in
    /// time, the chroot does not exist, the string is malformed, or the
    /// server refuses the credentials.
    pub async fn connect(config: ZkConfig) -> Result<Self> {
        let mut connector = zk::Client::connector()
            .with_session_timeout(config.session_timeout)
            .with_fail_eagerly();
        if let Some(credentials) = &config.credentials {
            connector = connector.with_auth("digest", &credentials.auth_bytes());
        }
        let zk = Self::establish(config, connector).await?;
        zk.require_chroot().await?;
        Ok(zk)
    }

    /// A chroot that does not exist is an error at connect time, not an
    /// empty tree later (the client does not check it).
    async fn require_chroot(&self) -> Result<()> {
        let Some(chroot) = chroot_of(&self.config.connect) else {
            return Ok(());
        };
        let missing = || ZkError::Connect {
            connect: self.config.connect.clone(),
            reason: format!("the chroot {chroot} does not exist"),
        };
        // This session's server may lag behind the one that created the
        // chroot: catch up with the leader before concluding it is missing.
        for attempt in 0..2 {
            match self.exists("/").await {
                Ok(Some(_)) => return Ok(()),
                Ok(None) | Err(ZkError::NoNode { .. }) if attempt == 0 => {
                    match self.sync("/").await {
                        Ok(()) | Err(ZkError::NoNode { .. }) => {}
                        Err(err) => return Err(err),
                    }
                }
                Ok(None) | Err(ZkError::NoNode { .. }) => return Err(missing()),
                Err(err) => return Err(err),
            }
        }
        Err(missing())
    }

    /// Connects with the given connect string and default settings.
    pub async fn connect_to(connect: &str) -> Result<Self> {
        Self::connect(ZkConfig::new(connect)).await
    }

    async fn establish(config: ZkConfig, connector: zk::Connector) -> Result<Self> {
        let connect_err = |reason: String| ZkError::Connect {
            connect: config.connect.clone(),
            reason,
        };
        let deadline = config.connect_deadline;
        let attempt = async {
            let mut backoff = Backoff::new(Duration::from_millis(50), Duration::from_millis(500));
            // With fail-eagerly the client gives up after one round over
            // the servers; keep trying until the deadline so a server that
            // is still starting gets its chance.
            loop {
                match connector.clone().connect(&config.connect).await {
                    Ok(client) => return Ok(client),
                    Err(zk::Error::NoHosts) | Err(zk::Error::ConnectionLoss) => {
                        backoff.wait().await;
                    }
                    Err(err) => return Err(err),
                }
            }
        };
        let client = match tokio::time::timeout(deadline, attempt).await {
            Ok(Ok(client)) => client,
            Ok(Err(zk::Error::NoNode)) => {
                return Err(connect_err("the chroot path does not exist".into()));
            }
            Ok(Err(zk::Error::AuthFailed)) => {
                return Err(connect_err("the server refused the credentials".into()));
            }
            Ok(Err(err)) => return Err(connect_err(err.to_string())),
            Err(_) => {
                return Err(connect_err(format!(
                    "no server answered within {deadline:?}"
                )));
            }
        };
        crate::session_metrics::follow(&client);
        Ok(Self {
            client,
            config,
            counters: Arc::default(),
            inherited_acls: AclCache::default(),
        })
    }

    /// Opens a second connection to this session and closes it, which makes
    /// the server expire the session — the way Helix's tests simulate a
    /// session expiry. Returns once this client has seen the expiry.
    /// Meant for fault tests.
    ///
    /// The original client reconnects as soon as the server hands its
    /// session to the second connection, and may take it back before the
    /// close request lands, so this retries until the expiry is observed —
    /// after a jittered pause, so that the two clients' timing does not
    /// repeat the same race on a loaded machine.
    pub async fn expire_session(&self) -> Result<()> {
        let mut state = self.client.state_watcher();
        let give_up = Instant::now() + self.config.connect_deadline.max(Duration::from_secs(60));
        let mut pause = Backoff::new(Duration::from_millis(20), Duration::from_millis(400));
        let mut first = true;
        while Instant::now() < give_up {
            if !std::mem::take(&mut first) {
                pause.wait().await;
            }
            let connector = zk::Client::connector()
                .with_session(self.client.session().clone())
                .with_session_timeout(self.config.session_timeout);
            let attempt = tokio::time::timeout(
                Duration::from_secs(2),
                connector.connect(&self.config.connect),
            )
            .await;
            match attempt {
                Ok(Ok(other)) => drop(other),
                Ok(Err(zk::Error::SessionExpired)) => {}
                Ok(Err(_)) | Err(_) => continue,
            }
            // Expired: done. Disconnected and then connected again: this
            // client took its session back before the close landed; try
            // again at once rather than wait out the timeout.
            let observed = tokio::time::timeout(Duration::from_secs(5), async {
                let mut disconnected = false;
                loop {
                    match state.changed().await {
                        zk::SessionState::Expired | zk::SessionState::Closed => return true,
                        zk::SessionState::Disconnected => disconnected = true,
                        zk::SessionState::SyncConnected if disconnected => return false,
                        _ => continue,
                    }
                }
            })
            .await;
            if observed == Ok(true) || state.peek_state() == zk::SessionState::Expired {
                return Ok(());
            }
        }
        Err(ZkError::Connect {
            connect: self.config.connect.clone(),
            reason: "could not expire the session".into(),
        })
    }

    /// The requests this session (all its clones) has sent so far.
    pub fn requests(&self) -> RequestCounts {
        let c = &self.counters;
        RequestCounts {
            reads: c.reads.load(Ordering::Relaxed),
            writes: c.writes.load(Ordering::Relaxed),
            multis: c.multis.load(Ordering::Relaxed),
            multi_ops: c.multi_ops.load(Ordering::Relaxed),
        }
    }

    /// The configuration this session was made with.
    pub fn config(&self) -> &ZkConfig {
        &self.config
    }

    /// The session id as Helix writes it: lowercase hex without `0x`.
    pub fn session_id(&self) -> String {
        format!("{:x}", self.client.session_id().0)
    }

    /// The session timeout the server granted.
    pub fn session_timeout(&self) -> Duration {
        self.client.session_timeout()
    }

    /// The underlying client, for what this wrapper does not cover.
    pub fn client(&self) -> &zk::Client {
        &self.client
    }

    /// Runs an idempotent read, retrying on connection loss until the
    /// session timeout has passed.
    async fn read<T, F, Fut>(&self, op: &'static str, path: &str, f: F) -> Result<T>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<T, zk::Error>>,
    {
        let give_up = Instant::now() + self.client.session_timeout();
        let mut backoff = Backoff::new(Duration::from_millis(20), Duration::from_millis(500));
        loop {
            self.counters.read();
            match f().await {
                Err(zk::Error::ConnectionLoss) if Instant::now() < give_up => {
                    backoff.wait().await;
                }
                other => return other.map_err(|e| ZkError::from_client(op, path, e)),
            }
        }
    }

    /// Reads a znode's data and stat; `None` when it does not exist.
    pub async fn get(&self, path: &str) -> Result<Option<(Vec<u8>, Stat)>> {
        match self.read("get", path, || self.client.get_data(path)).await {
            Ok(found) => Ok(Some(found)),
            Err(ZkError::NoNode { .. }) => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// The stat of a znode; `None` when it does not exist.
    pub async fn exists(&self, path: &str) -> Result<Option<Stat>> {
        self.read("exists", path, || self.client.check_stat(path))
            .await
    }

    /// The names of a znode's children, sorted; empty when it does not exist.
    pub async fn children(&self, path: &str) -> Result<Vec<String>> {
        match self
            .read("list", path, || self.client.list_children(path))
            .await
        {
            Ok(mut names) => {
                names.sort();
                Ok(names)
            }
            Err(ZkError::NoNode { .. }) => Ok(Vec::new()),
            Err(err) => Err(err),
        }
    }

    /// Makes this session's server catch up with the ensemble's leader for
    /// `path` (ZooKeeper's `sync`), so a read that follows sees every write
    /// committed before the call, whichever session made it.
    pub async fn sync(&self, path: &str) -> Result<()> {
        self.read("sync", path, || self.client.sync(path)).await
    }

    /// Creates a znode; its parent must exist. It carries the session's
    /// ACL ([`ZkConfig::create_acl`]).
    pub async fn create(&self, path: &str, data: &[u8], kind: CreateKind) -> Result<Stat> {
        let acls = self.acl_for(path, &HashMap::new()).await?;
        self.counters.write();
        self.client
            .create(path, data, &kind.options(&acls))
            .await
            .map(|(stat, _)| stat)
            .map_err(|e| ZkError::from_client("create", path, e))
    }

    /// Creates every missing persistent znode up to and including `path`
    /// (like `mkdir -p`; not atomic; counted as one write request). Every
    /// znode it creates carries the session's ACL (when inherited, the
    /// nearest existing ancestor's).
    pub async fn create_all(&self, path: &str) -> Result<()> {
        let acls = self.acl_for(path, &HashMap::new()).await?;
        self.counters.write();
        self.client
            .mkdir(path, &CreateKind::Persistent.options(&acls))
            .await
            .map_err(|e| ZkError::from_client("create", path, e))
    }

    /// The ACL of a znode.
    pub async fn acl(&self, path: &str) -> Result<Vec<zk::Acl>> {
        self.read("get_acl", path, || self.client.get_acl(path))
            .await
            .map(|(acls, _)| acls)
    }

    /// The ACL a new znode at `path` gets: the configured entries, or with
    /// [`CreateAcl::Inherit`] the nearest ancestor's — one created earlier
    /// in the same batch (`pending`), one remembered, or one read (and
    /// remembered).
    async fn acl_for(
        &self,
        path: &str,
        pending: &HashMap<String, Arc<[zk::Acl]>>,
    ) -> Result<Arc<[zk::Acl]>> {
        match &self.config.create_acl {
            CreateAcl::Open => Ok(Arc::from(&*zk::Acls::anyone_all())),
            CreateAcl::Explicit(entries) => Ok(entries.iter().map(|e| e.to_zk()).collect()),
            CreateAcl::Inherit => {
                let mut ancestor = parent_of(path);
                loop {
                    if let Some(acls) = pending.get(ancestor) {
                        return Ok(Arc::clone(acls));
                    }
                    if let Some(acls) = self.remembered_acl(ancestor) {
                        return Ok(acls);
                    }
                    match self.acl(ancestor).await {
                        Ok(acls) => {
                            let acls: Arc<[zk::Acl]> = acls.into();
                            self.remember_acl(ancestor, Arc::clone(&acls));
                            return Ok(acls);
                        }
                        Err(ZkError::NoNode { .. }) if ancestor != "/" => {
                            ancestor = parent_of(ancestor);
                        }
                        Err(err) => return Err(err),
                    }
                }
            }
        }
    }

    fn remembered_acl(&self, parent: &str) -> Option<Arc<[zk::Acl]>> {
        let cache = self
            .inherited_acls
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        cache.get(parent).cloned()
    }

    fn remember_acl(&self, parent: &str, acls: Arc<[zk::Acl]>) {
        let mut cache = self
            .inherited_acls
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if cache.len() >= ACL_CACHE_LIMIT {
            cache.clear();
        }
        cache.insert(parent.to_owned(), acls);
    }

    /// Writes a znode's data; with `Some(version)` only if the znode is still
    /// at that version ([`ZkError::BadVersion`] otherwise).
    pub async fn set(&self, path: &str, data: &[u8], version: Option<i32>) -> Result<Stat> {
        self.counters.write();
        self.client
            .set_data(path, data, version)
            .await
            .map_err(|e| ZkError::from_client("set", path, e))
    }

    /// Deletes a znode (optionally only at `version`); deleting a missing
    /// znode is [`ZkError::NoNode`].
    pub async fn delete(&self, path: &str, version: Option<i32>) -> Result<()> {
        self.counters.write();
        self.client
            .delete(path, version)
            .await
            .map_err(|e| ZkError::from_client("delete", path, e))
    }

    /// Deletes a znode and everything below it, children first. Missing
    /// znodes are skipped, so it is safe to race with other deleters.
    pub async fn delete_recursive(&self, path: &str) -> Result<()> {
        // Depth-first listing, then delete deepest first.
        let mut order = vec![path.to_owned()];
        let mut index = 0;
        while index < order.len() {
            let parent = order[index].clone();
            for child in self.children(&parent).await? {
                order.push(join(&parent, &child));
            }
            index += 1;
        }
        for node in order.iter().rev() {
            match self.delete(node, None).await {
                Ok(()) | Err(ZkError::NoNode { .. }) => {}
                Err(err) => return Err(err),
            }
        }
        Ok(())
    }

    /// Starts an atomic multi-op: every operation applies, or none does.
    pub fn multi(&self) -> Multi<'_> {
        Multi {
            zk: self,
            ops: Vec::new(),
            acl: None,
        }
    }
}

/// The parent of an absolute path (`/` for top-level znodes and `/`).
fn parent_of(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(at) => &path[..at],
    }
}

/// The chroot of a connect string (`host:port,…/chroot`), if any.
fn chroot_of(connect: &str) -> Option<&str> {
    let at = connect.find('/')?;
    let chroot = &connect[at..];
    (chroot != "/").then_some(chroot)
}

/// Joins a parent path and a child name.
pub fn join(parent: &str, child: &str) -> String {
    if parent == "/" {
        format!("/{child}")
    } else {
        format!("{parent}/{child}")
    }
}

#[derive(Debug)]
enum Op {
    Create {
        path: String,
        data: Vec<u8>,
        kind: CreateKind,
    },
    Set {
        path: String,
        data: Vec<u8>,
        version: Option<i32>,
    },
    Delete {
        path: String,
        version: Option<i32>,
    },
    Check {
        path: String,
        version: i32,
    },
}

impl Op {
    fn path(&self) -> &str {
        match self {
            Op::Create { path, .. }
            | Op::Set { path, .. }
            | Op::Delete { path, .. }
            | Op::Check { path, .. } => path,
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Op::Create { .. } => "create",
            Op::Set { .. } => "set",
            Op::Delete { .. } => "delete",
            Op::Check { .. } => "check",
        }
    }
}

/// An atomic batch of writes, committed with [`Multi::commit`].
#[derive(Debug)]
pub struct Multi<'a> {
    zk: &'a Zk,
    ops: Vec<Op>,
    acl: Option<Vec<crate::auth::AclEntry>>,
}

impl Multi<'_> {
    /// Adds a create.
    pub fn create(
        &mut self,
        path: impl Into<String>,
        data: Vec<u8>,
        kind: CreateKind,
    ) -> &mut Self {
        self.ops.push(Op::Create {
            path: path.into(),
            data,
            kind,
        });
        self
    }

    /// Adds a (versioned) set.
    pub fn set(
        &mut self,
        path: impl Into<String>,
        data: Vec<u8>,
        version: Option<i32>,
    ) -> &mut Self {
        self.ops.push(Op::Set {
            path: path.into(),
            data,
            version,
        });
        self
    }

    /// Adds a (versioned) delete.
    pub fn delete(&mut self, path: impl Into<String>, version: Option<i32>) -> &mut Self {
        self.ops.push(Op::Delete {
            path: path.into(),
            version,
        });
        self
    }

    /// Adds a version check that must hold for the batch to apply.
    pub fn check(&mut self, path: impl Into<String>, version: i32) -> &mut Self {
        self.ops.push(Op::Check {
            path: path.into(),
            version,
        });
        self
    }

    /// Every create of this batch carries exactly these entries, whatever
    /// the session's [`ZkConfig::create_acl`] (how a cluster gets its ACL).
    pub fn with_acl(&mut self, entries: Vec<crate::auth::AclEntry>) -> &mut Self {
        self.acl = Some(entries);
        self
    }

    /// How many operations are queued.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// True when nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Applies every operation atomically.
    ///
    /// # Errors
    /// [`ZkError::Multi`] naming the first failing operation; nothing was
    /// applied.
    pub async fn commit(&mut self) -> Result<()> {
        if self.ops.is_empty() {
            return Ok(());
        }
        // Each create's ACL, resolved before anything is sent: a parent
        // created earlier in the batch passes its ACL on to its children.
        let mut acls: HashMap<String, Arc<[zk::Acl]>> = HashMap::new();
        for op in &self.ops {
            if let Op::Create { path, .. } = op {
                let resolved = match &self.acl {
                    Some(entries) => entries.iter().map(|e| e.to_zk()).collect(),
                    None => self.zk.acl_for(path, &acls).await?,
                };
                acls.insert(path.clone(), resolved);
            }
        }
        let client = &self.zk.client;
        self.zk.counters.multis.fetch_add(1, Ordering::Relaxed);
        strand_metrics::global().zookeeper.request("multi");
        self.zk.counters.multi_ops.fetch_add(
            u64::try_from(self.ops.len()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        let mut writer = client.new_multi_writer();
        for op in &self.ops {
            let added = match op {
                Op::Create { path, data, kind } => {
                    let acl = acls.get(path).map_or(&[][..], |a| &a[..]);
                    writer.add_create(path, data, &kind.options(acl))
                }
                Op::Set {
                    path,
                    data,
                    version,
                } => writer.add_set_data(path, data, *version),
                Op::Delete { path, version } => writer.add_delete(path, *version),
                Op::Check { path, version } => writer.add_check_version(path, *version),
            };
            added.map_err(|e| ZkError::from_client(op.name(), op.path(), e))?;
        }
        match writer.commit().await {
            Ok(_) => Ok(()),
            Err(zk::MultiWriteError::RequestFailed { source }) => {
                let first = self.ops.first().map(Op::path).unwrap_or("/");
                Err(ZkError::from_client("multi", first, source))
            }
            Err(zk::MultiWriteError::OperationFailed { index, source }) => {
                let (name, path) = self
                    .ops
                    .get(index)
                    .map(|op| (op.name(), op.path().to_owned()))
                    .unwrap_or(("multi", String::from("?")));
                Err(ZkError::Multi {
                    index,
                    path: path.clone(),
                    source: Box::new(ZkError::from_client(name, &path, source)),
                })
            }
        }
    }
}
