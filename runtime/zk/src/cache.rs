//! [`TreeCache`]: an in-memory copy of a ZooKeeper subtree (usually one
//! cluster, or one instance's part of it), kept current by a persistent
//! recursive watch, so the controller, participant and spectator read from
//! memory and never poll ZooKeeper in a loop.
//!
//! One task writes the cache; any number of readers share it. Readers get
//! `Arc`ed node values, and learn about changes through
//! [`TreeCache::subscribe`] (the changed paths) or
//! [`TreeCache::generation`] (a counter to coalesce bursts).
//!
//! # Guarantees
//! * The watch is registered before the first listing, so no change made
//!   after [`TreeCache::start`] begins is missed: every event re-reads its
//!   znode, which converges to the server's state.
//! * After a reconnect the watch is registered again and the whole subtree
//!   is re-listed, the differences reported as changes (ZooKeeper can drop
//!   events while disconnected, ZOOKEEPER-4698, and zookeeper-client 0.11.2
//!   does not restore persistent watches on its own).
//! * Records are parsed at most once per znode version, on first use.
//!
//! # Caveats
//! When the session expires the cache stops and keeps its last contents;
//! [`CacheEvent::SessionEnded`] tells its owner to build a new one on a new
//! session.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard};

use futures::StreamExt;
use strand_model::ZNRecord;
use tokio::sync::{broadcast, mpsc, watch};
use tracing::{debug, warn};

use crate::backoff::Backoff;
use crate::client::{Stat, Zk, join};
use crate::error::{Result, ZkError};
use crate::feed::{CacheFeed, Feeds};
use crate::watch::{NodeEvent, SessionEvent};

/// How many znodes are read at once while listing a subtree.
const READ_CONCURRENCY: usize = 64;

/// One cached znode.
#[derive(Clone)]
pub struct CachedNode {
    data: Arc<[u8]>,
    stat: Stat,
    record: Arc<OnceLock<Parsed>>,
}

/// A znode's data parsed once: a record, nothing (empty znode), or why the
/// data is not a record.
type Parsed = Result<Option<Arc<ZNRecord>>, Arc<str>>;

impl std::fmt::Debug for CachedNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedNode")
            .field("bytes", &self.data.len())
            .field("version", &self.stat.version)
            .finish()
    }
}

impl CachedNode {
    fn new(data: Vec<u8>, stat: Stat) -> Self {
        Self {
            data: data.into(),
            stat,
            record: Arc::new(OnceLock::new()),
        }
    }

    /// The raw bytes.
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// The znode's stat when it was read.
    pub fn stat(&self) -> &Stat {
        &self.stat
    }

    /// The znode's data version.
    pub fn version(&self) -> i32 {
        self.stat.version
    }

    /// The session owning this ephemeral znode, as lowercase hex; `None`
    /// for persistent znodes.
    pub fn ephemeral_owner(&self) -> Option<String> {
        (self.stat.ephemeral_owner != 0).then(|| format!("{:x}", self.stat.ephemeral_owner))
    }

    /// The data parsed as a ZNRecord; `None` for an empty znode or data
    /// that is not a record (see [`CachedNode::parse`] to tell the two
    /// apart).
    pub fn record(&self) -> Option<Arc<ZNRecord>> {
        self.parse().ok().flatten()
    }

    /// The data parsed as a ZNRecord (at most once per cached version):
    /// `Ok(None)` for an empty znode, `Err` with the reason when the data
    /// is not a record.
    pub fn parse(&self) -> Result<Option<Arc<ZNRecord>>, Arc<str>> {
        self.record
            .get_or_init(|| {
                ZNRecord::from_bytes(&self.data)
                    .map(|record| record.map(Arc::new))
                    .map_err(|err| Arc::from(err.to_string()))
            })
            .clone()
    }
}

/// What happened in the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheEvent {
    /// These znodes were created, changed or deleted.
    Changed(Arc<Vec<String>>),
    /// The session ended; the cache is frozen and must be rebuilt.
    SessionEnded,
}

#[derive(Default)]
struct Tree {
    nodes: HashMap<String, CachedNode>,
    children: HashMap<String, BTreeSet<String>>,
}

impl Tree {
    fn insert(&mut self, path: &str, node: CachedNode) {
        if let Some((parent, name)) = split_parent(path) {
            self.children
                .entry(parent.to_owned())
                .or_default()
                .insert(name.to_owned());
        }
        self.nodes.insert(path.to_owned(), node);
    }

    fn remove_subtree(&mut self, path: &str, removed: &mut Vec<String>) {
        if let Some(children) = self.children.remove(path) {
            for child in children {
                self.remove_subtree(&join(path, &child), removed);
            }
        }
        if self.nodes.remove(path).is_some() {
            removed.push(path.to_owned());
        }
        if let Some((parent, name)) = split_parent(path)
            && let Some(siblings) = self.children.get_mut(parent)
        {
            siblings.remove(name);
        }
    }
}

/// Whether `path` is one of `subtrees` or below one.
fn is_under_any(path: &str, subtrees: &[String]) -> bool {
    subtrees.iter().any(|subtree| {
        path.strip_prefix(subtree.as_str())
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    })
}

fn split_parent(path: &str) -> Option<(&str, &str)> {
    let index = path.rfind('/')?;
    if index == 0 {
        (path.len() > 1).then(|| ("/", &path[1..]))
    } else {
        Some((&path[..index], &path[index + 1..]))
    }
}

struct Shared {
    root: String,
    feeds: Feeds,
    /// What is left out of the cache (see [`CacheOptions`]).
    excluded: Exclusion,
    /// Znodes whose data changes are not followed (see [`CacheOptions`]).
    static_data: Option<StaticData>,
    tree: RwLock<Tree>,
    events: broadcast::Sender<CacheEvent>,
    generation: watch::Sender<u64>,
}

/// Says which znodes' data changes a cache does not follow.
pub type StaticData = Arc<dyn Fn(&str) -> bool + Send + Sync>;

/// Says which znodes a cache leaves out (see [`CacheOptions::skip`]).
pub type PathFilter = Arc<dyn Fn(&str) -> bool + Send + Sync>;

/// What a cache leaves out: listed subtrees and a filter.
#[derive(Clone, Default)]
struct Exclusion {
    subtrees: Vec<String>,
    skip: Option<PathFilter>,
}

impl Exclusion {
    fn excludes(&self, path: &str) -> bool {
        is_under_any(path, &self.subtrees) || self.skip.as_ref().is_some_and(|skip| skip(path))
    }
}

/// How a [`TreeCache`] follows its subtree.
#[derive(Clone, Default)]
pub struct CacheOptions {
    /// Subtrees (absolute paths below the root) neither read nor kept:
    /// their changes are ignored. For bulk data nobody reading the cache
    /// needs (e.g. plugin artefacts in a cluster's property store).
    pub excluded: Vec<String>,
    /// Znodes left out like `excluded`, by a filter on their absolute
    /// path: for subtrees a pattern names rather than a list (e.g. every
    /// instance's `STATUSUPDATES`). The filter must also hold for every
    /// path below a path it holds for (a cache reads nothing below a
    /// skipped znode, but changes below it are reported by path).
    pub skip: Option<PathFilter>,
    /// Znodes whose data changes are not followed: their creation and
    /// deletion are, but once cached their data is not re-read when it
    /// changes. For znodes whose later edits the reader does not care
    /// about (e.g. a controller and the `MSG_STATE` participants write into
    /// messages), saving one read per edit.
    pub static_data: Option<StaticData>,
}

impl std::fmt::Debug for CacheOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CacheOptions")
            .field("excluded", &self.excluded)
            .field("skip", &self.skip.is_some())
            .field("static_data", &self.static_data.is_some())
            .finish()
    }
}

impl Shared {
    fn read(&self) -> RwLockReadGuard<'_, Tree> {
        self.tree
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Tree> {
        self.tree
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn is_excluded(&self, path: &str) -> bool {
        self.excluded.excludes(path)
    }

    /// Whether `path`'s data changes are not followed — only once it is
    /// cached (its creation is always read).
    fn has_static_data(&self, path: &str) -> bool {
        self.static_data
            .as_ref()
            .is_some_and(|is_static| is_static(path))
            && self.read().nodes.contains_key(path)
    }

    fn publish(&self, changed: Vec<String>) {
        if changed.is_empty() {
            return;
        }
        self.generation.send_modify(|g| *g += 1);
        self.feeds.publish(&changed);
        let _ = self.events.send(CacheEvent::Changed(Arc::new(changed)));
    }
}

/// A watched, in-memory copy of a ZooKeeper subtree. Cheap to clone.
#[derive(Clone)]
pub struct TreeCache {
    shared: Arc<Shared>,
    /// The task following ZooKeeper; `None` for a detached cache.
    _task: Option<Arc<AbortOnDrop>>,
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl std::fmt::Debug for TreeCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TreeCache")
            .field("root", &self.shared.root)
            .field("nodes", &self.shared.read().nodes.len())
            .finish()
    }
}

impl TreeCache {
    /// Watches `root`, lists it, and returns once the copy is complete.
    /// The cache follows changes until the session ends or the last clone
    /// is dropped.
    pub async fn start(zk: Zk, root: &str) -> Result<Self> {
        Self::start_excluding(zk, root, Vec::new()).await
    }

    /// Like [`TreeCache::start`], but the subtrees at `excluded` (absolute
    /// paths below `root`) are neither read nor kept: their changes are
    /// ignored. For subtrees that hold bulk data nobody reading this cache
    /// needs (e.g. plugin artefacts in a cluster's property store).
    pub async fn start_excluding(zk: Zk, root: &str, excluded: Vec<String>) -> Result<Self> {
        Self::start_with(
            zk,
            root,
            CacheOptions {
                excluded,
                ..CacheOptions::default()
            },
        )
        .await
    }

    /// Like [`TreeCache::start`], with [`CacheOptions`].
    pub async fn start_with(zk: Zk, root: &str, options: CacheOptions) -> Result<Self> {
        let CacheOptions {
            excluded,
            skip,
            static_data,
        } = options;
        let excluded = Exclusion {
            subtrees: excluded,
            skip,
        };
        let events = zk.watch_subtree(root).await?;
        let (sender, _) = broadcast::channel(1024);
        let (generation, _) = watch::channel(0);
        let shared = Arc::new(Shared {
            root: root.to_owned(),
            feeds: Feeds::default(),
            excluded,
            static_data,
            tree: RwLock::new(Tree::default()),
            events: sender,
            generation,
        });
        // Pump events into a queue right away so none is held up while
        // the initial listing runs.
        let (queue_tx, queue_rx) = mpsc::unbounded_channel();
        let pump = spawn_pump(events, queue_tx.clone());
        let initial = load(&zk, root, &shared.excluded).await?;
        {
            let mut tree = shared.write();
            for (path, node) in initial {
                tree.insert(&path, node);
            }
        }
        shared.generation.send_modify(|g| *g += 1);
        let task = tokio::spawn(maintain(zk, Arc::clone(&shared), queue_tx, queue_rx, pump));
        Ok(Self {
            shared,
            _task: Some(Arc::new(AbortOnDrop(task))),
        })
    }

    /// A cache that no ZooKeeper backs: empty, changed only through
    /// [`TreeCache::set_detached`] and [`TreeCache::remove_detached`], with
    /// the same change reports as a live cache. For tests and benchmarks
    /// of pure logic that reads a cache (a real ZooKeeper backs every
    /// integration test).
    pub fn detached(root: &str) -> Self {
        let (events, _) = broadcast::channel(1024);
        let (generation, _) = watch::channel(0);
        Self {
            shared: Arc::new(Shared {
                root: root.to_owned(),
                feeds: Feeds::default(),
                excluded: Exclusion::default(),
                static_data: None,
                tree: RwLock::new(Tree::default()),
                events,
                generation,
            }),
            _task: None,
        }
    }

    /// Sets a znode of a detached cache (creating it, its version one more
    /// than before) and reports the change; `ephemeral_owner` is the
    /// owning session for an ephemeral znode, 0 otherwise.
    pub fn set_detached(&self, path: &str, data: Vec<u8>, ephemeral_owner: i64) {
        {
            let mut tree = self.shared.write();
            let (version, czxid) = tree
                .nodes
                .get(path)
                .map_or((0, 0), |old| (old.stat.version + 1, old.stat.czxid));
            let zxid = i64::from(version) + 1;
            let stat = Stat {
                czxid,
                mzxid: zxid,
                pzxid: zxid,
                ctime: 0,
                mtime: 0,
                version,
                cversion: 0,
                aversion: 0,
                ephemeral_owner,
                data_length: i32::try_from(data.len()).unwrap_or(i32::MAX),
                num_children: 0,
            };
            tree.insert(path, CachedNode::new(data, stat));
        }
        self.shared.publish(vec![path.to_owned()]);
    }

    /// Removes a znode (and its subtree) of a detached cache and reports
    /// the change.
    pub fn remove_detached(&self, path: &str) {
        let mut changed = Vec::new();
        self.shared.write().remove_subtree(path, &mut changed);
        self.shared.publish(changed);
    }

    /// The root path of the cached subtree.
    pub fn root(&self) -> &str {
        &self.shared.root
    }

    /// The cached znode at `path`.
    pub fn get(&self, path: &str) -> Option<CachedNode> {
        self.shared.read().nodes.get(path).cloned()
    }

    /// The cached record at `path` (see [`CachedNode::record`]); data
    /// that is not a record is logged (naming the znode) and read as none.
    pub fn record(&self, path: &str) -> Option<Arc<ZNRecord>> {
        match self.get(path)?.parse() {
            Ok(record) => record,
            Err(reason) => {
                warn!(path, %reason, "cached znode is not a valid ZNRecord");
                None
            }
        }
    }

    /// True when the znode is in the cache.
    pub fn contains(&self, path: &str) -> bool {
        self.shared.read().nodes.contains_key(path)
    }

    /// The names of the cached children of `path`, sorted.
    pub fn children(&self, path: &str) -> Vec<String> {
        self.shared
            .read()
            .children
            .get(path)
            .map(|names| names.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// The children of `path` with their records (children that are not
    /// records are left out).
    pub fn child_records(&self, path: &str) -> Vec<(String, Arc<ZNRecord>)> {
        let tree = self.shared.read();
        let Some(names) = tree.children.get(path) else {
            return Vec::new();
        };
        let nodes: Vec<(String, CachedNode)> = names
            .iter()
            .filter_map(|name| {
                let node = tree.nodes.get(&join(path, name))?;
                Some((name.clone(), node.clone()))
            })
            .collect();
        drop(tree);
        nodes
            .into_iter()
            .filter_map(|(name, node)| match node.parse() {
                Ok(record) => Some((name, record?)),
                Err(reason) => {
                    warn!(path = %join(path, &name), %reason, "cached znode is not a valid ZNRecord");
                    None
                }
            })
            .collect()
    }

    /// How many znodes are cached.
    pub fn len(&self) -> usize {
        self.shared.read().nodes.len()
    }

    /// True when nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Change notifications with the changed paths. A receiver that falls
    /// behind gets `Lagged` and should re-read what it needs.
    pub fn subscribe(&self) -> broadcast::Receiver<CacheEvent> {
        self.shared.events.subscribe()
    }

    /// A lossless, coalescing subscription to the changed paths (see
    /// [`CacheFeed`]); for consumers that are busy between reads.
    pub fn feed(&self) -> CacheFeed {
        self.shared.feeds.subscribe()
    }

    /// A counter bumped after every applied batch of changes; waiting on it
    /// coalesces bursts into one wake-up.
    pub fn generation(&self) -> watch::Receiver<u64> {
        self.shared.generation.subscribe()
    }
}

/// Lists `root` and everything below it.
async fn load(zk: &Zk, root: &str, excluded: &Exclusion) -> Result<Vec<(String, CachedNode)>> {
    let mut found = Vec::new();
    let mut frontier = vec![root.to_owned()];
    while !frontier.is_empty() {
        let reads = futures::stream::iter(frontier.drain(..).map(|path| async move {
            let node = zk.get(&path).await?;
            let children = match node {
                Some(_) => zk.children(&path).await?,
                None => Vec::new(),
            };
            Ok::<_, ZkError>((path, node, children))
        }))
        .buffer_unordered(READ_CONCURRENCY)
        .collect::<Vec<_>>()
        .await;
        for read in reads {
            let (path, node, children) = read?;
            if let Some((data, stat)) = node {
                frontier.extend(
                    children
                        .iter()
                        .map(|child| join(&path, child))
                        .filter(|child| !excluded.excludes(child)),
                );
                found.push((path, CachedNode::new(data, stat)));
            }
        }
    }
    Ok(found)
}

/// Forwards a watch's events into the cache's queue.
fn spawn_pump(
    events: impl futures::Stream<Item = NodeEvent> + Send + 'static,
    queue: mpsc::UnboundedSender<NodeEvent>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut events = std::pin::pin!(events);
        while let Some(event) = events.next().await {
            if queue.send(event).is_err() {
                break;
            }
        }
    })
}

/// The cache's writer: applies watch events until the session ends.
async fn maintain(
    zk: Zk,
    shared: Arc<Shared>,
    queue_tx: mpsc::UnboundedSender<NodeEvent>,
    mut queue: mpsc::UnboundedReceiver<NodeEvent>,
    pump: tokio::task::JoinHandle<()>,
) {
    // Held only to keep the watch alive; replaced after a reconnect.
    let mut _pump = AbortOnDrop(pump);
    let mut rewatch = Backoff::default();
    while let Some(first) = queue.recv().await {
        let mut batch = vec![first];
        while let Ok(more) = queue.try_recv() {
            batch.push(more);
        }
        let mut dirty: Vec<String> = Vec::new();
        let mut seen = HashSet::new();
        let mut deleted = HashSet::new();
        // Paths whose last event in the batch is their deletion.
        let mut gone = HashSet::new();
        let mut resync = false;
        for event in batch {
            match event {
                NodeEvent::DataChanged(path) if shared.has_static_data(&path) => {}
                NodeEvent::Created(path) | NodeEvent::DataChanged(path) => {
                    if !shared.is_excluded(&path) {
                        gone.remove(&path);
                        if seen.insert(path.clone()) {
                            dirty.push(path);
                        }
                    }
                }
                NodeEvent::Deleted(path) => {
                    if !shared.is_excluded(&path) {
                        deleted.insert(path.clone());
                        gone.insert(path.clone());
                        if seen.insert(path.clone()) {
                            dirty.push(path);
                        }
                    }
                }
                NodeEvent::Disconnected => debug!(root = %shared.root, "cache disconnected"),
                NodeEvent::Reconnected => resync = true,
                NodeEvent::SessionEnded(event) => {
                    end(&shared, event);
                    return;
                }
            }
        }
        if resync {
            // zookeeper-client 0.11.2 does not re-register persistent
            // watches after a reconnect (its SetWatches carries only the
            // one-shot kinds), so watch again before re-reading. The new
            // watcher is registered before the old one is dropped, so the
            // server-side watch is never removed in between.
            match zk.watch_subtree(&shared.root).await {
                Ok(events) => {
                    _pump = AbortOnDrop(spawn_pump(events, queue_tx.clone()));
                    rewatch.reset();
                }
                Err(err) if err.is_session_expired() => {
                    end(&shared, SessionEvent::Expired);
                    return;
                }
                Err(err) => {
                    // Without a watch the cache would be deaf: try again
                    // (and re-list again) after a backoff.
                    let delay = rewatch.next_delay();
                    warn!(root = %shared.root, error = %err, ?delay, "could not watch again after a reconnect; retrying");
                    let queue = queue_tx.clone();
                    tokio::spawn(async move {
                        tokio::time::sleep(delay).await;
                        let _ = queue.send(NodeEvent::Reconnected);
                    });
                }
            }
        }
        let outcome = if resync {
            resync_all(&zk, &shared).await
        } else {
            refresh(&zk, &shared, dirty, &deleted, &gone).await
        };
        match outcome {
            Ok(()) => {}
            Err(err) if err.is_session_expired() => {
                end(&shared, SessionEvent::Expired);
                return;
            }
            Err(err) => {
                // A read failed mid-batch (e.g. the connection dropped):
                // the reconnect that follows triggers a full resync.
                warn!(root = %shared.root, error = %err, "cache refresh failed; resyncing");
                if let Err(err) = resync_all(&zk, &shared).await {
                    warn!(root = %shared.root, error = %err, "cache resync failed; waiting for reconnect");
                }
            }
        }
    }
}

fn end(shared: &Shared, event: SessionEvent) {
    debug!(root = %shared.root, ?event, "cache session ended");
    shared.feeds.session_ended();
    let _ = shared.events.send(CacheEvent::SessionEnded);
    shared.generation.send_modify(|g| *g += 1);
}

/// Re-reads the given znodes and applies what changed.
///
/// A znode found missing is removed only once its deletion event has
/// arrived (`deleted`). Reading it for an earlier event can already see it
/// gone; removing it then would show the deletion before changes that
/// happened earlier elsewhere in the tree and whose events are still
/// queued — e.g. a message gone before the current state its participant
/// wrote first. ZooKeeper delivers the deletion event after those.
async fn refresh(
    zk: &Zk,
    shared: &Shared,
    paths: Vec<String>,
    deleted: &HashSet<String>,
    gone: &HashSet<String>,
) -> Result<()> {
    let reads = futures::stream::iter(paths.into_iter().map(|path| async move {
        // A znode whose last event is its deletion is gone: nothing to read.
        let node = if gone.contains(&path) {
            None
        } else {
            zk.get(&path).await?
        };
        Ok::<_, ZkError>((path, node))
    }))
    .buffered(READ_CONCURRENCY)
    .collect::<Vec<_>>()
    .await;
    let mut changed = Vec::new();
    {
        let mut tree = shared.write();
        for read in reads {
            let (path, node) = read?;
            match node {
                Some((data, stat)) => {
                    let unchanged = tree.nodes.get(&path).is_some_and(|old| {
                        old.stat.mzxid == stat.mzxid && old.stat.czxid == stat.czxid
                    });
                    if !unchanged {
                        tree.insert(&path, CachedNode::new(data, stat));
                        changed.push(path);
                    }
                }
                None if deleted.contains(&path) => {
                    let before = changed.len();
                    tree.remove_subtree(&path, &mut changed);
                    // Deleted before this cache ever read it (created and
                    // removed between two reads): still reported, so a
                    // consumer that learnt of the znode elsewhere (its
                    // creator) hears it is gone.
                    if changed.len() == before {
                        changed.push(path);
                    }
                }
                // Its deletion event is still to come.
                None => {}
            }
        }
    }
    shared.publish(changed);
    Ok(())
}

/// Re-lists the whole subtree and reports every difference.
async fn resync_all(zk: &Zk, shared: &Shared) -> Result<()> {
    let fresh = load(zk, &shared.root, &shared.excluded).await?;
    let mut changed = Vec::new();
    {
        let mut tree = shared.write();
        let fresh_paths: HashSet<&str> = fresh.iter().map(|(p, _)| p.as_str()).collect();
        let gone: Vec<String> = tree
            .nodes
            .keys()
            .filter(|p| !fresh_paths.contains(p.as_str()))
            .cloned()
            .collect();
        for path in gone {
            tree.remove_subtree(&path, &mut changed);
        }
        for (path, node) in fresh {
            let same = tree.nodes.get(&path).is_some_and(|old| {
                old.stat.mzxid == node.stat.mzxid && old.stat.czxid == node.stat.czxid
            });
            if !same {
                tree.insert(&path, node);
                changed.push(path);
            }
        }
    }
    shared.publish(changed);
    shared.feeds.resynced();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exclusion_covers_the_subtree_and_nothing_else() {
        let excluded = vec!["/C/PROPERTYSTORE/STRAND/ARTEFACTS".to_owned()];
        assert!(is_under_any("/C/PROPERTYSTORE/STRAND/ARTEFACTS", &excluded));
        assert!(is_under_any(
            "/C/PROPERTYSTORE/STRAND/ARTEFACTS/ab/0000",
            &excluded
        ));
        assert!(!is_under_any(
            "/C/PROPERTYSTORE/STRAND/ARTEFACTSX",
            &excluded
        ));
        assert!(!is_under_any(
            "/C/PROPERTYSTORE/STRAND/PLUGINS/x",
            &excluded
        ));
        assert!(!is_under_any("/C", &[]));
    }

    #[test]
    fn split_parent_handles_root_children_and_deep_paths() {
        assert_eq!(split_parent("/a"), Some(("/", "a")));
        assert_eq!(split_parent("/a/b/c"), Some(("/a/b", "c")));
        assert_eq!(split_parent("/"), None);
    }

    #[test]
    fn tree_removes_whole_subtrees_and_unlinks_from_parent() {
        let stat = Stat {
            czxid: 1,
            mzxid: 1,
            pzxid: 1,
            ctime: 0,
            mtime: 0,
            version: 0,
            cversion: 0,
            aversion: 0,
            ephemeral_owner: 0,
            data_length: 0,
            num_children: 0,
        };
        let node = || CachedNode::new(Vec::new(), stat);
        let mut tree = Tree::default();
        for path in ["/c", "/c/x", "/c/x/y", "/c/z"] {
            tree.insert(path, node());
        }
        let mut removed = Vec::new();
        tree.remove_subtree("/c/x", &mut removed);
        removed.sort();
        assert_eq!(removed, vec!["/c/x".to_owned(), "/c/x/y".to_owned()]);
        assert_eq!(
            tree.children
                .get("/c")
                .map(|c| c.iter().cloned().collect::<Vec<_>>()),
            Some(vec!["z".to_owned()])
        );
        assert!(!tree.nodes.contains_key("/c/x/y"));
    }
}
