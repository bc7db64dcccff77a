//! [`Controller`]: the controller's life cycle — connect, take part in the
//! election, lead (pipeline runs driven by cache changes) until the
//! session ends or leadership is lost, then start over on a new session —
//! and the [`ControllerHandle`] to watch and stop it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures::StreamExt;
use strand_metrics::{RunOutcome, RunWrites};
use strand_model::PropertyPaths;
use strand_zk::{Backoff, CacheOptions, FeedBatch, SessionEvent, TreeCache, Zk, ZkConfig};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tracing::{Instrument, info, warn};

use crate::aggregate::Aggregators;
use crate::dirty::Dirty;
use crate::election::{self, Campaign};
use crate::error::{ControllerError, Result};
use crate::model::ClusterModel;
use crate::pipeline::{Pipeline, RunReport, VIEW_WRITE_INTERVAL};
use crate::plugin_aggregators::PluginAggregators;
use crate::status_record::StatusRecord;
use crate::trigger;

/// How a controller is set up.
#[derive(Debug, Clone)]
pub struct ControllerConfig {
    /// How to reach ZooKeeper.
    pub zk: ZkConfig,
    /// The cluster to manage.
    pub cluster: String,
    /// The controller's instance name (LEADER's id, messages' `SRC_NAME`).
    pub name: String,
    /// Aggregators bound to customized-state types.
    pub aggregators: Aggregators,
    /// Where compiled aggregator plugins are cached (by content hash);
    /// `None` compiles them in memory each time the controller starts.
    /// Plugins are loaded only when the cluster config binds one to a
    /// customized-state type (`STRAND_AGGREGATORS`).
    pub plugin_cache_dir: Option<std::path::PathBuf>,
    /// A leader re-runs the pipeline at least this often, even when nothing
    /// changed (so obsolete messages are purged; Helix's periodic
    /// rebalance). It reads only the cache.
    pub periodic_run: Duration,
    /// A view is written at most this often while it keeps changing,
    /// unless the change must be seen at once (a top state moves) or the
    /// cluster has converged; see the `views` module.
    pub view_interval: Duration,
}

impl ControllerConfig {
    /// A configuration with a one-minute periodic run and no aggregators.
    pub fn new(zk: ZkConfig, cluster: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            zk,
            cluster: cluster.into(),
            name: name.into(),
            aggregators: Aggregators::default(),
            plugin_cache_dir: None,
            periodic_run: Duration::from_secs(60),
            view_interval: VIEW_WRITE_INTERVAL,
        }
    }
}

/// What the controller is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Connecting to ZooKeeper or trying to take leadership.
    Connecting,
    /// Another controller leads; waiting for it to go away.
    Standby,
    /// Leading: pipeline runs are on.
    Leader,
    /// Shut down.
    Stopped,
}

/// The controller's observable state.
#[derive(Debug, Clone)]
pub struct Status {
    /// What it is doing.
    pub role: Role,
    /// Its current ZooKeeper session (hex), if connected.
    pub session: Option<String>,
    /// Pipeline runs completed since start.
    pub runs: u64,
    /// The last run's report.
    pub last_run: Option<RunReport>,
    /// State-transition messages sent since start, summed over all runs.
    pub messages_sent: u64,
    /// Time spent computing (reading the cache and deciding, no I/O),
    /// summed over all runs.
    pub compute_time: Duration,
    /// The last failure, if the last attempt failed.
    pub last_error: Option<String>,
}

struct Shared {
    session: std::sync::Mutex<Option<Zk>>,
    requests: AtomicU64,
    wake: Notify,
    shutdown: watch::Sender<bool>,
    status: watch::Sender<Status>,
}

/// The Strand controller.
///
/// Start one per process and cluster with [`Controller::start`]; several
/// may run for one cluster, and exactly one leads (Helix's STANDALONE
/// mode). The leader runs the pipeline whenever its cache of the cluster
/// changes; bursts of changes are coalesced into one run.
///
/// ```no_run
/// # async fn demo() -> Result<(), strand_controller::ControllerError> {
/// use strand_controller::Controller;
/// use strand_zk::ZkConfig;
///
/// let controller = Controller::start(ZkConfig::new("127.0.0.1:2181"), "MYCLUSTER", "ctl0").await?;
/// // … until it is time to stop:
/// controller.shutdown().await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Controller;

impl Controller {
    /// Connects, checks the cluster is set up, and starts the controller in
    /// the background with default settings.
    ///
    /// # Errors
    /// [`ControllerError::Connect`] when ZooKeeper cannot be reached,
    /// [`ControllerError::ClusterNotSetUp`] when the cluster is missing.
    pub async fn start(
        zk: ZkConfig,
        cluster: impl Into<String>,
        name: impl Into<String>,
    ) -> Result<ControllerHandle> {
        Self::start_with(ControllerConfig::new(zk, cluster, name)).await
    }

    /// As [`Controller::start`], with a full configuration.
    ///
    /// # Errors
    /// As [`Controller::start`].
    pub async fn start_with(config: ControllerConfig) -> Result<ControllerHandle> {
        let zk = Zk::connect(config.zk.clone())
            .await
            .map_err(ControllerError::Connect)?;
        let paths = PropertyPaths::new(&config.cluster);
        for required in [
            paths.controller(),
            paths.ideal_states(),
            paths.live_instances(),
        ] {
            let found = zk
                .exists(&required)
                .await
                .map_err(ControllerError::Connect)?;
            if found.is_none() {
                return Err(ControllerError::ClusterNotSetUp {
                    cluster: config.cluster.clone(),
                    missing: required,
                });
            }
        }
        let (shutdown, _) = watch::channel(false);
        let (status, status_rx) = watch::channel(Status {
            role: Role::Connecting,
            session: None,
            runs: 0,
            last_run: None,
            messages_sent: 0,
            compute_time: Duration::ZERO,
            last_error: None,
        });
        let shared = Arc::new(Shared {
            session: std::sync::Mutex::new(None),
            requests: AtomicU64::new(0),
            wake: Notify::new(),
            shutdown,
            status,
        });
        let cluster = config.cluster.clone();
        let wake_shared = Arc::clone(&shared);
        let plugins = Arc::new(PluginAggregators::new(
            config.zk.clone(),
            &config.cluster,
            config.plugin_cache_dir.clone(),
            Arc::new(move || {
                wake_shared.requests.fetch_add(1, Ordering::SeqCst);
                wake_shared.wake.notify_one();
            }),
        ));
        let ctx = Context {
            paths,
            config,
            shared: Arc::clone(&shared),
            plugins,
        };
        // Every log line of this controller says which cluster and which
        // controller it is.
        let span = tracing::info_span!(
            "controller",
            cluster = %ctx.config.cluster,
            controller = %ctx.config.name
        );
        let task = tokio::spawn(supervise(ctx, zk).instrument(span));
        Ok(ControllerHandle {
            cluster,
            shared,
            status: status_rx,
            task: Some(task),
        })
    }
}

/// A running controller. Dropping it stops the controller too (without
/// waiting); prefer [`ControllerHandle::shutdown`].
pub struct ControllerHandle {
    cluster: String,
    shared: Arc<Shared>,
    status: watch::Receiver<Status>,
    task: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for ControllerHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ControllerHandle")
            .field("cluster", &self.cluster)
            .field("status", &*self.status.borrow())
            .finish()
    }
}

impl ControllerHandle {
    /// The current status.
    pub fn status(&self) -> Status {
        self.status.borrow().clone()
    }

    /// Status changes, for callers that want to follow them.
    pub fn subscribe(&self) -> watch::Receiver<Status> {
        self.status.clone()
    }

    /// The controller's current ZooKeeper session, for fault-injection
    /// tests (e.g. [`Zk::expire_session`]). Writing through it bypasses
    /// the controller's fence.
    pub fn session(&self) -> Option<Zk> {
        self.shared
            .session
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Whether this controller leads right now.
    pub fn is_leader(&self) -> bool {
        self.status.borrow().role == Role::Leader
    }

    /// Waits until this controller leads.
    ///
    /// # Errors
    /// [`ControllerError::Timeout`] when it does not within `timeout`.
    pub async fn wait_leader(&self, timeout: Duration) -> Result<()> {
        self.wait_for(timeout, "leadership", |s| s.role == Role::Leader)
            .await
            .map(|_| ())
    }

    /// Asks the leader for a pipeline run now (Helix's on-demand
    /// rebalance). Returns the request number runs report as
    /// [`RunReport::requested`].
    pub fn rebalance(&self) -> u64 {
        let n = self.shared.requests.fetch_add(1, Ordering::SeqCst) + 1;
        self.shared.wake.notify_one();
        n
    }

    /// Waits for a run that started after this call and found the cluster
    /// converged: every replica in its best possible state, no message
    /// pending. Meant for tests and tools.
    ///
    /// # Caveats
    /// A change written just before the call may not have reached the
    /// cache when that run starts; wait for the change's effect instead
    /// when that matters.
    ///
    /// # Errors
    /// [`ControllerError::Timeout`] when no such run happens in time.
    pub async fn wait_converged(&self, timeout: Duration) -> Result<RunReport> {
        let target = self.rebalance();
        let status = self
            .wait_for(timeout, "convergence", |s| {
                s.last_run
                    .as_ref()
                    .is_some_and(|r| r.requested >= target && r.converged)
            })
            .await?;
        status
            .last_run
            .ok_or(ControllerError::Timeout(timeout, "convergence"))
    }

    async fn wait_for(
        &self,
        timeout: Duration,
        what: &'static str,
        done: impl Fn(&Status) -> bool,
    ) -> Result<Status> {
        let mut rx = self.status.clone();
        match tokio::time::timeout(timeout, rx.wait_for(|s| done(s))).await {
            Ok(Ok(status)) => Ok(status.clone()),
            Ok(Err(_)) => Err(ControllerError::Stopped {
                cluster: self.cluster.clone(),
            }),
            Err(_) => Err(ControllerError::Timeout(timeout, what)),
        }
    }

    /// Stops the controller: a leader finishes or abandons its run, deletes
    /// LEADER (so a standby takes over at once) and closes its session.
    ///
    /// # Errors
    /// [`ControllerError::Stopped`] when the controller task had failed.
    pub async fn shutdown(mut self) -> Result<()> {
        self.shared.shutdown.send_replace(true);
        if let Some(task) = self.task.take() {
            task.await.map_err(|_| ControllerError::Stopped {
                cluster: self.cluster.clone(),
            })?;
        }
        Ok(())
    }
}

impl Drop for ControllerHandle {
    fn drop(&mut self) {
        self.shared.shutdown.send_replace(true);
    }
}

/// What the background task knows.
struct Context {
    paths: PropertyPaths,
    config: ControllerConfig,
    shared: Arc<Shared>,
    /// Aggregator plugins; kept across leadership terms, so a new term
    /// does not load them again.
    plugins: Arc<PluginAggregators>,
}

impl Context {
    fn set_role(&self, role: Role, session: Option<String>) {
        strand_metrics::global()
            .controller
            .leading(&self.config.cluster, role == Role::Leader);
        self.shared.status.send_modify(|s| {
            s.role = role;
            s.session = session;
        });
    }

    fn set_session(&self, zk: Option<Zk>) {
        *self
            .shared
            .session
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = zk;
    }

    fn set_error(&self, error: &ControllerError) {
        let text = error.to_string();
        self.shared
            .status
            .send_modify(|s| s.last_error = Some(text));
    }

    fn shutdown(&self) -> watch::Receiver<bool> {
        self.shared.shutdown.subscribe()
    }
}

/// Resolves once shutdown is asked for.
async fn stopped(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|stop| *stop).await;
}

/// How a session's service ended.
enum SessionExit {
    Shutdown,
    SessionEnded,
}

/// How a term as leader ended.
enum LeadExit {
    Shutdown,
    SessionEnded,
    Lost,
    Failed(ControllerError),
}

/// The background task: one session after another until shutdown.
async fn supervise(ctx: Context, first: Zk) {
    let mut shutdown = ctx.shutdown();
    let mut next = Some(first);
    let mut backoff = Backoff::default();
    loop {
        let zk = match next.take() {
            Some(zk) => zk,
            None => {
                let connect = Zk::connect(ctx.config.zk.clone());
                let result = tokio::select! {
                    _ = stopped(&mut shutdown) => break,
                    result = connect => result,
                };
                match result {
                    Ok(zk) => zk,
                    Err(err) => {
                        let err = ControllerError::Connect(err);
                        warn!(cluster = ctx.config.cluster, error = %err, "reconnecting");
                        ctx.set_error(&err);
                        tokio::select! {
                            _ = stopped(&mut shutdown) => break,
                            _ = tokio::time::sleep(backoff.next_delay()) => continue,
                        }
                    }
                }
            }
        };
        backoff.reset();
        ctx.set_session(Some(zk.clone()));
        let exit = serve_session(&ctx, zk).await;
        ctx.set_session(None);
        match exit {
            SessionExit::Shutdown => break,
            SessionExit::SessionEnded => {
                info!(
                    cluster = ctx.config.cluster,
                    "ZooKeeper session ended; starting a new one"
                );
                ctx.set_role(Role::Connecting, None);
            }
        }
    }
    ctx.set_role(Role::Stopped, None);
}

/// Election and leadership on one session.
async fn serve_session(ctx: &Context, zk: Zk) -> SessionExit {
    let mut shutdown = ctx.shutdown();
    let mut backoff = Backoff::default();
    let session = zk.session_id();
    loop {
        ctx.set_role(Role::Connecting, Some(session.clone()));
        let campaign = election::campaign(&zk, &ctx.paths, &ctx.config.name);
        let outcome = tokio::select! {
            _ = stopped(&mut shutdown) => return SessionExit::Shutdown,
            outcome = campaign => outcome,
        };
        let failure = match outcome {
            Ok(Campaign::Won) => match lead(ctx, &zk).await {
                LeadExit::Shutdown => {
                    if let Err(err) = election::resign(&zk, &ctx.paths).await {
                        warn!(cluster = ctx.config.cluster, error = %err, "could not delete LEADER on shutdown");
                    }
                    return SessionExit::Shutdown;
                }
                LeadExit::SessionEnded => return SessionExit::SessionEnded,
                LeadExit::Lost => {
                    warn!(cluster = ctx.config.cluster, "lost leadership; standing by");
                    continue;
                }
                LeadExit::Failed(err) => err,
            },
            Ok(Campaign::Lost) => {
                ctx.set_role(Role::Standby, Some(session.clone()));
                let wait = election::wait_for_vacancy(&zk, &ctx.paths);
                let result = tokio::select! {
                    _ = stopped(&mut shutdown) => return SessionExit::Shutdown,
                    result = wait => result,
                };
                match result {
                    Ok(()) => {
                        backoff.reset();
                        continue;
                    }
                    Err(err) if err.is_session_expired() => return SessionExit::SessionEnded,
                    Err(err) => ControllerError::Election {
                        cluster: ctx.config.cluster.clone(),
                        source: err,
                    },
                }
            }
            Err(err) if err.is_session_expired() => return SessionExit::SessionEnded,
            Err(err) if err.is_no_node() => ControllerError::ClusterNotSetUp {
                cluster: ctx.config.cluster.clone(),
                missing: ctx.paths.controller(),
            },
            Err(err) => ControllerError::Election {
                cluster: ctx.config.cluster.clone(),
                source: err,
            },
        };
        if failure.is_session_expired() {
            return SessionExit::SessionEnded;
        }
        warn!(cluster = ctx.config.cluster, error = %failure, "controller step failed; retrying");
        ctx.set_error(&failure);
        tokio::select! {
            _ = stopped(&mut shutdown) => return SessionExit::Shutdown,
            _ = tokio::time::sleep(backoff.next_delay()) => {}
        }
    }
}

/// A successful run, in the process's metrics.
fn record_run(cluster: &str, report: &RunReport) {
    strand_metrics::global().controller.run(
        cluster,
        RunOutcome::Ok,
        report.compute,
        report.total,
        RunWrites {
            sent: report.sent,
            deleted: report.deleted,
            views_written: report.views_written,
            views_removed: report.views_removed,
        },
    );
}

/// One term as leader: the whole loop, level-triggered. Cache changes
/// update the model and mark what they affect; a run recomputes what is
/// marked and writes the result; a failed run is retried with backoff over
/// everything (whatever it left behind is found again); a reconnect, the
/// periodic timer and on-demand requests mark everything. Changes that
/// arrive while a run writes accumulate in the cache's feed and make the
/// next run.
async fn lead(ctx: &Context, zk: &Zk) -> LeadExit {
    let mut shutdown = ctx.shutdown();
    let mut session_events = std::pin::pin!(zk.session_events());
    let cache = match start_cache(ctx, zk).await {
        Ok(cache) => cache,
        Err(exit) => return exit,
    };
    // Subscribe before loading: a change applied after the load is in the
    // feed, one applied before is in the load.
    let mut feed = cache.feed();
    let mut model = ClusterModel::new(ctx.paths.clone());
    let mut dirty = Dirty::default();
    model.load(&cache, &mut dirty);
    dirty.because(Some(trigger::CONTROLLER_CHANGE));
    ctx.set_role(Role::Leader, Some(zk.session_id()));
    let mut status_record = StatusRecord::new(&ctx.paths, &ctx.config.name, zk.session_id());
    let mut pipeline = Pipeline::new(
        zk.clone(),
        ctx.paths.clone(),
        &ctx.config.name,
        ctx.config.aggregators.clone(),
        Arc::clone(&ctx.plugins),
        ctx.config.view_interval,
    );
    let mut retry_at: Option<Instant> = None;
    let mut backoff = Backoff::default();
    let period = ctx.config.periodic_run;
    let mut periodic = tokio::time::interval_at(Instant::now() + period, period);
    periodic.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut requested = false;
    // The on-demand request counter as of the last run's start: a wake-up
    // for a request that run already covered asks for nothing more.
    let mut last_asked = 0;

    loop {
        if *shutdown.borrow() {
            return LeadExit::Shutdown;
        }
        if std::mem::take(&mut dirty.leader) && pipeline.check_fence(&cache).is_err() {
            return LeadExit::Lost;
        }
        status_record.write_if_due(zk).await;
        let now = Instant::now();
        if retry_at.is_some_and(|at| at <= now) {
            retry_at = None;
        }
        let views_due = pipeline.next_due(&model).map(Instant::from_std);
        let due = retry_at.is_none()
            && (requested || !dirty.is_empty() || views_due.is_some_and(|at| at <= now));
        if due {
            requested = false;
            let asked = ctx.shared.requests.load(Ordering::SeqCst);
            last_asked = asked;
            let marks = std::mem::take(&mut dirty);
            match pipeline.run(&mut model, &cache, marks, asked).await {
                Ok(report) => {
                    backoff.reset();
                    record_run(&ctx.config.cluster, &report);
                    strand_metrics::global()
                        .controller
                        .gaps(&ctx.config.cluster, &pipeline.resource_gaps(&model));
                    ctx.shared.status.send_modify(|s| {
                        s.runs += 1;
                        s.messages_sent += report.sent as u64;
                        s.compute_time += report.compute;
                        s.last_run = Some(report);
                        s.last_error = None;
                    });
                }
                Err(ControllerError::LostLeadership { .. }) => return LeadExit::Lost,
                Err(err) if err.is_session_expired() => return LeadExit::SessionEnded,
                Err(err) => {
                    strand_metrics::global().controller.run(
                        &ctx.config.cluster,
                        RunOutcome::Failed,
                        Duration::ZERO,
                        Duration::ZERO,
                        RunWrites::default(),
                    );
                    warn!(cluster = ctx.config.cluster, error = %err, "pipeline run failed; retrying");
                    ctx.set_error(&err);
                    pipeline.after_failure();
                    dirty.everything();
                    dirty.because(Some(trigger::RETRY_REBALANCE));
                    retry_at = Some(Instant::now() + backoff.next_delay());
                }
            }
            status_record.update(&ctx.shared.status.borrow());
            // Take what arrived during the run without waiting.
            let batch = feed.take();
            if let Some(exit) = absorb(&mut model, &mut pipeline, &cache, &mut dirty, batch) {
                return exit;
            }
            continue;
        }
        let delay_due = delay_ends(&model);
        let relay_due = model.next_relay_deadline().map(instant_at);
        let wake_at = [
            retry_at,
            views_due,
            delay_due,
            relay_due,
            status_record.next_due(),
        ]
        .into_iter()
        .flatten()
        .min();
        let timer = async {
            match wake_at {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            _ = stopped(&mut shutdown) => return LeadExit::Shutdown,
            event = session_events.next() => match event {
                // The cache re-registers its watch and re-lists on its own;
                // recompute everything from it once it has (level-triggered).
                Some(SessionEvent::Reconnected) => {
                    info!(cluster = ctx.config.cluster, "reconnected; recomputing everything");
                    dirty.everything();
                    dirty.because(Some(trigger::RETRY_REBALANCE));
                }
                Some(event) if event.is_terminal() => return LeadExit::SessionEnded,
                Some(_) => {}
                None => return LeadExit::SessionEnded,
            },
            batch = feed.next() => {
                if let Some(exit) = absorb(&mut model, &mut pipeline, &cache, &mut dirty, batch) {
                    return exit;
                }
            }
            _ = ctx.shared.wake.notified() => {
                if ctx.shared.requests.load(Ordering::SeqCst) > last_asked {
                    requested = true;
                    dirty.everything();
                    dirty.because(Some(trigger::ON_DEMAND_REBALANCE));
                }
            }
            _ = periodic.tick() => {
                dirty.everything();
                dirty.because(Some(trigger::PERIODICAL_REBALANCE));
            }
            () = timer => {
                // A delayed rebalance's delay ended: its instance's replicas
                // may move now (Helix's RebalanceScheduler).
                if delay_due.is_some_and(|at| at <= Instant::now()) {
                    dirty.everything();
                    dirty.because(Some(trigger::PERIODICAL_REBALANCE));
                }
                // A relayed message did not arrive in time: the controller
                // sends the promotion itself (the next run).
                if relay_due.is_some_and(|at| at <= Instant::now()) {
                    model.expire_relays(strand_model::time::now_ms(), &mut dirty);
                    dirty.because(Some(trigger::PERIODICAL_REBALANCE));
                }
            }
        }
    }
}

/// When the earliest delayed-rebalance delay ends (an offline instance's
/// replicas may then move), as a timer instant.
fn delay_ends(model: &ClusterModel) -> Option<Instant> {
    if model.snapshot.offline_since.is_empty() {
        return None;
    }
    strand_rebalance::delay::next_expiry(&model.snapshot).map(instant_at)
}

/// The timer instant of a wall-clock time (ms since the epoch).
fn instant_at(at_ms: i64) -> Instant {
    let wait = u64::try_from(at_ms.saturating_sub(strand_model::time::now_ms())).unwrap_or(0);
    Instant::now() + Duration::from_millis(wait)
}

/// Applies a batch of cache changes to the model; `Some` when the session
/// ended.
fn absorb(
    model: &mut ClusterModel,
    pipeline: &mut Pipeline,
    cache: &TreeCache,
    dirty: &mut Dirty,
    batch: FeedBatch,
) -> Option<LeadExit> {
    if batch.session_ended {
        return Some(LeadExit::SessionEnded);
    }
    for path in &batch.paths {
        model.apply(cache, path, dirty);
    }
    if batch.resynced {
        pipeline.settle_after_resync(model, cache, dirty);
        dirty.everything();
    }
    None
}

/// Caches the whole cluster (on a new persistent watch) except the plugin
/// store's artefacts (`PROPERTYSTORE/STRAND/ARTEFACTS`, strand-plugin-store):
/// megabytes of component chunks per deployed version the pipeline never
/// reads. Messages are followed as they come and go, not as participants
/// mark them read: their later edits change no decision, and not reading
/// them saves one request per transition.
async fn start_cache(ctx: &Context, zk: &Zk) -> Result<TreeCache, LeadExit> {
    let root = ctx.paths.cluster();
    let messages_root = root.clone();
    let options = CacheOptions {
        // The plugin store's artefacts, and the leader's own status record
        // (written, never read).
        excluded: vec![
            ctx.plugins.excluded_subtree(),
            format!("{root}/{}", crate::status_record::STATUS_RECORD),
        ],
        skip: None,
        static_data: Some(Arc::new(move |path: &str| {
            matches!(
                trigger::classify(&messages_root, path),
                trigger::Node::Message { .. }
            )
        })),
    };
    match TreeCache::start_with(zk.clone(), &root, options).await {
        Ok(cache) => Ok(cache),
        Err(err) if err.is_session_expired() => Err(LeadExit::SessionEnded),
        Err(err) => Err(LeadExit::Failed(ControllerError::Cache {
            cluster: ctx.config.cluster.clone(),
            source: err,
        })),
    }
}
