//! [`Participant`]: a running participant and its session supervisor.
//!
//! # Guarantees
//! * On disconnect it keeps serving (the client reconnects within the
//!   session); on session expiry it joins again under a new session,
//!   carrying current states over, and continues.
//! * [`Participant::shutdown`] stops taking messages, lets transitions in
//!   flight finish within the configured deadline, and deletes the
//!   LiveInstance so a controller fails over at once; before it,
//!   [`Participant::drain`] (module `drain`) can hand the top states over.

use std::sync::{Arc, Mutex};

use strand_model::{PropertyPaths, SessionId};
use strand_plugin_host::PluginRegistry;
use strand_spectator::ProviderConfig;
use strand_zk::{Accessor, Backoff, Zk, ZkError};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::{Instrument, info, warn};

use crate::config::ParticipantConfig;
use crate::customized::CustomizedStateProvider;
use crate::engine::{Served, SessionEnd};
use crate::error::Result;
use crate::join::join;
use crate::routing::Routing;

/// What the current session offers to callers.
#[derive(Clone)]
struct Current {
    session: SessionId,
    zk: Zk,
    provider: Arc<CustomizedStateProvider>,
}

/// A running participant.
pub struct Participant {
    config: ParticipantConfig,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
    current: Arc<Mutex<Current>>,
}

impl std::fmt::Debug for Participant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Participant")
            .field("cluster", &self.config.cluster)
            .field("instance", &self.config.instance)
            .finish()
    }
}

impl Participant {
    /// Connects, joins and starts serving. Returns once the participant is
    /// live (its LiveInstance exists).
    ///
    /// # Errors
    /// When ZooKeeper is unreachable, the cluster is not set up, the
    /// instance is unknown (and may not add itself), or another process
    /// holds the instance.
    pub async fn start(config: ParticipantConfig, registry: Arc<PluginRegistry>) -> Result<Self> {
        // Every log line of this participant (its tasks are spawned in
        // this span) says which cluster and instance it is.
        let span = tracing::info_span!(
            "participant",
            cluster = %config.cluster,
            instance = %config.instance
        );
        let routing = Arc::new(Routing::new(ProviderConfig::new(
            config.zk.clone(),
            &config.cluster,
        )));
        let (zk, served) = connect_and_serve(&config, &registry, &routing)
            .instrument(span.clone())
            .await?;
        let current = Arc::new(Mutex::new(Current {
            session: served.session(),
            zk: zk.clone(),
            provider: served_provider(&zk, &config),
        }));
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(
            supervise(
                config.clone(),
                registry,
                routing,
                zk,
                served,
                stop_rx,
                Arc::clone(&current),
            )
            .instrument(span),
        );
        Ok(Self {
            config,
            stop,
            task,
            current,
        })
    }

    /// The instance name.
    pub fn instance(&self) -> &str {
        &self.config.instance
    }

    /// The cluster.
    pub fn cluster(&self) -> &str {
        &self.config.cluster
    }

    /// The session currently served.
    pub fn session(&self) -> SessionId {
        self.lock().session
    }

    /// The ZooKeeper session currently served (for reads, and for fault
    /// tests that expire it).
    pub fn zk(&self) -> Zk {
        self.lock().zk.clone()
    }

    /// The customized states of this participant (current session).
    pub fn customized_state(&self) -> Arc<CustomizedStateProvider> {
        Arc::clone(&self.lock().provider)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Current> {
        self.current
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Stops gracefully: no new messages, transitions in flight finish
    /// (within the shutdown deadline), the LiveInstance is removed.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        if let Err(err) = self.task.await {
            warn!(error = %err, "participant task ended abnormally");
        }
    }
}

fn served_provider(zk: &Zk, config: &ParticipantConfig) -> Arc<CustomizedStateProvider> {
    Arc::new(CustomizedStateProvider::new(
        Accessor::new(zk.clone()),
        &config.cluster,
        &config.instance,
    ))
}

async fn connect_and_serve(
    config: &ParticipantConfig,
    registry: &Arc<PluginRegistry>,
    routing: &Arc<Routing>,
) -> Result<(Zk, Arc<Served>)> {
    let zk = Zk::connect(config.zk.clone()).await?;
    // A shutdown drain left behind (a crash while stopping) would keep
    // the top states away from this new session.
    crate::drain::clear_own_drain(&zk, config).await;
    let session = join(&zk, config).await?;
    let provider = served_provider(&zk, config);
    let served = Served::new(
        zk.clone(),
        session,
        config.clone(),
        Arc::clone(registry),
        provider,
        Arc::clone(routing),
    )
    .await?;
    Ok((zk, served))
}

async fn supervise(
    config: ParticipantConfig,
    registry: Arc<PluginRegistry>,
    routing: Arc<Routing>,
    mut zk: Zk,
    mut served: Arc<Served>,
    stop: watch::Receiver<bool>,
    current: Arc<Mutex<Current>>,
) {
    loop {
        match served.run(stop.clone()).await {
            SessionEnd::Stopped => {
                leave(&config, &zk, &served).await;
                return;
            }
            SessionEnd::Expired => {
                warn!(instance = %config.instance, session = %served.session(), "session expired; joining again");
                let mut backoff = Backoff::default();
                loop {
                    if *stop.borrow() {
                        return;
                    }
                    match connect_and_serve(&config, &registry, &routing).await {
                        Ok((new_zk, new_served)) => {
                            zk = new_zk;
                            served = new_served;
                            let mut guard = current.lock().unwrap_or_else(|p| p.into_inner());
                            *guard = Current {
                                session: served.session(),
                                zk: zk.clone(),
                                provider: served_provider(&zk, &config),
                            };
                            break;
                        }
                        Err(err) => {
                            warn!(instance = %config.instance, error = %err, "rejoin failed; retrying");
                            backoff.wait().await;
                        }
                    }
                }
            }
        }
    }
}

/// The graceful part of a stop.
async fn leave(config: &ParticipantConfig, zk: &Zk, served: &Served) {
    if !served.drain(config.shutdown_deadline).await {
        warn!(instance = %config.instance, "transitions still running at the shutdown deadline");
    }
    let paths = PropertyPaths::new(&config.cluster);
    crate::join::record_offline(zk, &paths, &config.instance).await;
    let path = paths.live_instance(&config.instance);
    match zk.delete(&path, None).await {
        Ok(()) | Err(ZkError::NoNode { .. }) => {
            info!(instance = %config.instance, "left the cluster")
        }
        Err(err) => {
            warn!(instance = %config.instance, error = %err, "could not remove the LiveInstance")
        }
    }
    // Gone: the controller can no longer hand top states back, so the
    // shutdown drain (if any) ends; offline, the instance is an ordinary
    // one (delayed rebalance keeps its replicas placed).
    crate::drain::clear_own_drain(zk, config).await;
}
