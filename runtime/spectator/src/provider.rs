//! [`RoutingTableProvider`]: keeps a cluster's [`RoutingSnapshot`] current
//! from ZooKeeper watches and hands it to readers lock-free.
//!
//! The provider mirrors four subtrees with [`TreeCache`]s (persistent
//! recursive watches, no polling): `EXTERNALVIEW`, `CUSTOMIZEDVIEW`,
//! `LIVEINSTANCES` and `CONFIGS/PARTICIPANT` — the changes Helix's provider
//! listens to. One updater task wakes on any change, drains what else has
//! queued (a burst becomes one rebuild), rebuilds the snapshot and swaps it
//! in with `arc_swap`; listeners get it through a `tokio::sync::watch`.
//! When the ZooKeeper session ends, the last snapshot keeps being served
//! while the provider opens a new session and re-reads everything.

use std::sync::Arc;
use std::time::Duration;

use arc_swap::{ArcSwap, Guard};
use strand_model::PropertyPaths;
use strand_zk::{Backoff, CacheEvent, TreeCache, Zk, ZkConfig};
use tokio::sync::{broadcast, watch};
use tracing::{debug, info, warn};

use crate::error::{Result, SpectatorError};
use crate::snapshot::{RoutingSnapshot, SnapshotInputs};
use crate::source::ViewSource;

/// What a provider watches.
#[derive(Debug, Clone)]
pub struct ProviderConfig {
    /// The ZooKeeper to connect to.
    pub zk: ZkConfig,
    /// The cluster.
    pub cluster: String,
    /// The view sources; the external view is always one of them.
    sources: Vec<ViewSource>,
}

impl ProviderConfig {
    /// Routes from the external view of `cluster`.
    pub fn new(zk: ZkConfig, cluster: impl Into<String>) -> Self {
        Self {
            zk,
            cluster: cluster.into(),
            sources: vec![ViewSource::ExternalView],
        }
    }

    /// Also routes from the customized view of `state_type`.
    ///
    /// # Errors
    /// [`SpectatorError::InvalidSource`] when the type is not a znode name.
    pub fn with_customized(mut self, state_type: &str) -> Result<Self> {
        let source = ViewSource::customized(state_type)?;
        if !self.sources.contains(&source) {
            self.sources.push(source);
        }
        Ok(self)
    }

    /// The view sources.
    pub fn sources(&self) -> &[ViewSource] {
        &self.sources
    }
}

/// State shared by the provider handle and its updater task.
struct Shared {
    current: ArcSwap<RoutingSnapshot>,
    listeners: watch::Sender<Arc<RoutingSnapshot>>,
    /// The session the caches run on (replaced after an expiry).
    session: std::sync::Mutex<Zk>,
}

impl Shared {
    fn set_session(&self, zk: Zk) {
        *self
            .session
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = zk;
    }

    fn publish(&self, snapshot: RoutingSnapshot) {
        let snapshot = Arc::new(snapshot);
        self.current.store(Arc::clone(&snapshot));
        self.listeners.send_replace(snapshot);
    }
}

/// Helix's `RoutingTableProvider`: a cluster's routing tables, current to
/// within a ZooKeeper round trip of each view write. Dropping it stops the
/// watches.
pub struct RoutingTableProvider {
    shared: Arc<Shared>,
    sources: Vec<ViewSource>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for RoutingTableProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RoutingTableProvider")
            .field("sources", &self.sources)
            .field("generation", &self.shared.current.load().generation())
            .finish_non_exhaustive()
    }
}

impl Drop for RoutingTableProvider {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl RoutingTableProvider {
    /// Connects, reads the cluster's views and returns once the first
    /// snapshot is built; from then on it follows every change.
    ///
    /// # Errors
    /// [`SpectatorError::ClusterNotSetUp`] for an unknown cluster,
    /// [`SpectatorError::Zk`] when ZooKeeper cannot be reached.
    pub async fn start(config: ProviderConfig) -> Result<Self> {
        let zk = Zk::connect(config.zk.clone()).await?;
        let paths = PropertyPaths::new(&config.cluster);
        if zk.exists(&paths.external_views()).await?.is_none() {
            return Err(SpectatorError::ClusterNotSetUp(config.cluster.clone()));
        }
        let caches = Caches::start(&zk, &paths).await?;
        let mut events = caches.subscribe();
        let first = caches.snapshot(None, 1, &config.sources, &paths);
        strand_metrics::global()
            .routing
            .published(&config.cluster, 1, &[]);
        let first = Arc::new(first);
        let shared = Arc::new(Shared {
            current: ArcSwap::new(Arc::clone(&first)),
            listeners: watch::channel(first).0,
            session: std::sync::Mutex::new(zk),
        });
        let sources = config.sources.clone();
        let task = tokio::spawn({
            let shared = Arc::clone(&shared);
            async move {
                let mut generation = 1;
                let mut caches = caches;
                loop {
                    follow(
                        &caches,
                        &mut events,
                        &shared,
                        &config,
                        &paths,
                        &mut generation,
                    )
                    .await;
                    info!(
                        cluster = config.cluster,
                        "spectator session ended; reconnecting"
                    );
                    let zk;
                    (zk, caches, events) = reconnect(&config, &paths).await;
                    shared.set_session(zk);
                    generation += 1;
                    shared.publish(caches.snapshot(None, generation, &config.sources, &paths));
                    strand_metrics::global()
                        .routing
                        .published(&config.cluster, generation, &[]);
                }
            }
        });
        Ok(Self {
            shared,
            sources,
            task,
        })
    }

    /// The current snapshot, shared.
    pub fn snapshot(&self) -> Arc<RoutingSnapshot> {
        self.shared.current.load_full()
    }

    /// The current snapshot, borrowed for a quick lookup (no reference
    /// count traffic; do not hold it across `.await`).
    pub fn load(&self) -> Guard<Arc<RoutingSnapshot>> {
        self.shared.current.load()
    }

    /// Change notifications (Helix's `RoutingTableChangeListener`): the
    /// receiver sees each new snapshot; a slow receiver skips to the newest.
    pub fn subscribe(&self) -> watch::Receiver<Arc<RoutingSnapshot>> {
        self.shared.listeners.subscribe()
    }

    /// The view sources.
    pub fn sources(&self) -> &[ViewSource] {
        &self.sources
    }

    /// The ZooKeeper session currently followed (for fault tests that
    /// expire it).
    pub fn zk(&self) -> Zk {
        self.shared
            .session
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Waits until a snapshot satisfies `done` and returns it, or `None`
    /// after `timeout`.
    pub async fn wait_for(
        &self,
        timeout: Duration,
        done: impl Fn(&RoutingSnapshot) -> bool,
    ) -> Option<Arc<RoutingSnapshot>> {
        let mut changes = self.subscribe();
        let wait = async {
            loop {
                let snapshot = Arc::clone(&changes.borrow_and_update());
                if done(&snapshot) {
                    return Some(snapshot);
                }
                if changes.changed().await.is_err() {
                    return None;
                }
            }
        };
        tokio::time::timeout(timeout, wait).await.ok().flatten()
    }
}

/// The watched subtrees of one session.
struct Caches {
    external_views: TreeCache,
    customized_views: TreeCache,
    live_instances: TreeCache,
    instance_configs: TreeCache,
}

impl Caches {
    async fn start(zk: &Zk, paths: &PropertyPaths) -> Result<Self> {
        Ok(Self {
            external_views: TreeCache::start(zk.clone(), &paths.external_views()).await?,
            customized_views: TreeCache::start(zk.clone(), &paths.customized_views()).await?,
            live_instances: TreeCache::start(zk.clone(), &paths.live_instances()).await?,
            instance_configs: TreeCache::start(zk.clone(), &paths.instance_configs()).await?,
        })
    }

    /// How long ago each of these view znodes was written (its mtime;
    /// removed views and clocks behind ZooKeeper's give nothing).
    fn view_lags(&self, views: &[Arc<Vec<String>>]) -> Vec<Duration> {
        let now = strand_model::time::now_ms();
        views
            .iter()
            .flat_map(|paths| paths.iter())
            .filter_map(|path| {
                let node = self
                    .external_views
                    .get(path)
                    .or_else(|| self.customized_views.get(path))?;
                let lag = now.checked_sub(node.stat().mtime)?;
                u64::try_from(lag).ok().map(Duration::from_millis)
            })
            .collect()
    }

    fn all(&self) -> [&TreeCache; 4] {
        [
            &self.external_views,
            &self.customized_views,
            &self.live_instances,
            &self.instance_configs,
        ]
    }

    fn subscribe(&self) -> Vec<broadcast::Receiver<CacheEvent>> {
        self.all().iter().map(|c| c.subscribe()).collect()
    }

    fn snapshot(
        &self,
        previous: Option<&RoutingSnapshot>,
        generation: u64,
        sources: &[ViewSource],
        paths: &PropertyPaths,
    ) -> RoutingSnapshot {
        let inputs = SnapshotInputs {
            external_views: self.external_views.child_records(&paths.external_views()),
            customized_views: sources
                .iter()
                .filter_map(ViewSource::customized_type)
                .map(|t| {
                    let views = self
                        .customized_views
                        .child_records(&paths.customized_views_of_type(t));
                    (t.to_owned(), views)
                })
                .collect(),
            live_instances: self.live_instances.child_records(&paths.live_instances()),
            instance_configs: self
                .instance_configs
                .child_records(&paths.instance_configs()),
        };
        RoutingSnapshot::rebuild(previous, generation, sources, &inputs)
    }
}

/// What the caches reported since the last look.
enum Wake {
    /// Something changed; these view znodes among it (for the lag metric).
    Changed(Vec<Arc<Vec<String>>>),
    SessionEnded,
}

/// The receivers of [`Caches::subscribe`] whose changes are views.
const VIEW_CACHES: usize = 2;

/// Waits for the first event of any cache, then takes whatever else is
/// already queued, so a burst of writes becomes one rebuild.
async fn next_wake(events: &mut [broadcast::Receiver<CacheEvent>]) -> Wake {
    let waits = events.iter_mut().map(|rx| Box::pin(rx.recv()));
    let (first, index, _) = futures::future::select_all(waits).await;
    let mut wake = classify(first, index < VIEW_CACHES);
    for (index, rx) in events.iter_mut().enumerate() {
        loop {
            match rx.try_recv() {
                Ok(event) => match (&mut wake, classify(Ok(event), index < VIEW_CACHES)) {
                    (_, Wake::SessionEnded) => wake = Wake::SessionEnded,
                    (Wake::Changed(views), Wake::Changed(more)) => views.extend(more),
                    (Wake::SessionEnded, Wake::Changed(_)) => {}
                },
                Err(broadcast::error::TryRecvError::Lagged(_)) => {}
                Err(broadcast::error::TryRecvError::Empty) => break,
                Err(broadcast::error::TryRecvError::Closed) => {
                    wake = Wake::SessionEnded;
                    break;
                }
            }
        }
    }
    wake
}

fn classify(event: Result<CacheEvent, broadcast::error::RecvError>, views: bool) -> Wake {
    match event {
        Ok(CacheEvent::Changed(paths)) if views => Wake::Changed(vec![paths]),
        Ok(CacheEvent::Changed(_)) | Err(broadcast::error::RecvError::Lagged(_)) => {
            Wake::Changed(Vec::new())
        }
        Ok(CacheEvent::SessionEnded) | Err(broadcast::error::RecvError::Closed) => {
            Wake::SessionEnded
        }
    }
}

/// Rebuilds and publishes on every change until the session ends.
async fn follow(
    caches: &Caches,
    events: &mut [broadcast::Receiver<CacheEvent>],
    shared: &Shared,
    config: &ProviderConfig,
    paths: &PropertyPaths,
    generation: &mut u64,
) {
    loop {
        match next_wake(events).await {
            Wake::SessionEnded => return,
            Wake::Changed(views) => {
                *generation += 1;
                let previous = shared.current.load_full();
                let snapshot =
                    caches.snapshot(Some(&previous), *generation, &config.sources, paths);
                debug!(
                    cluster = config.cluster,
                    generation = *generation,
                    "routing table rebuilt"
                );
                shared.publish(snapshot);
                strand_metrics::global().routing.published(
                    &config.cluster,
                    *generation,
                    &caches.view_lags(&views),
                );
            }
        }
    }
}

/// Opens a new session and new caches, retrying with a growing pause.
async fn reconnect(
    config: &ProviderConfig,
    paths: &PropertyPaths,
) -> (Zk, Caches, Vec<broadcast::Receiver<CacheEvent>>) {
    let mut backoff = Backoff::default();
    loop {
        let attempt = async {
            let zk = Zk::connect(config.zk.clone()).await?;
            let caches = Caches::start(&zk, paths).await?;
            Ok::<_, SpectatorError>((zk, caches))
        };
        match attempt.await {
            Ok((zk, caches)) => {
                let events = caches.subscribe();
                return (zk, caches, events);
            }
            Err(err) => {
                warn!(cluster = config.cluster, error = %err, "spectator reconnect failed; retrying");
                backoff.wait().await;
            }
        }
    }
}
