//! The follower's task: the session and cache it watches, the passes that
//! bring each plugin to its active version, and what it remembers between
//! passes (what it installed, which record's version failed, which status
//! writes are still owed).

use std::collections::HashMap;
use std::sync::Arc;

use strand_plugin_host::{Grants, PluginOptions, PluginRegistry, SwapPolicy};
use strand_plugin_store::{
    PluginKind, PluginRecord, PluginStore, StorePaths, VersionEntry, status,
};
use strand_zk::{Backoff, CacheEvent, TreeCache, Zk, ZkError};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::{debug, info, warn};

use crate::{Admission, FollowerConfig};

/// What was last done for a plugin.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seen {
    /// This SHA-256 runs; `reported` once every instance's status says so.
    Installed { sha256: String, reported: bool },
    /// The active version of the record at this modification (zxid)
    /// failed; `reported` once every instance's status says why.
    Failed {
        record_zxid: i64,
        version: String,
        sha256: String,
        reason: String,
        reported: bool,
    },
}

pub(crate) struct Follower {
    config: FollowerConfig,
    admission: Admission,
    paths: StorePaths,
    registry: Arc<PluginRegistry>,
    updates: watch::Sender<u64>,
    seen: HashMap<String, Seen>,
}

impl Follower {
    /// Connects, runs the first pass and spawns the task that follows.
    pub(crate) async fn start(
        config: FollowerConfig,
        admission: Admission,
        registry: Arc<PluginRegistry>,
        updates: watch::Sender<u64>,
        stop: watch::Receiver<bool>,
    ) -> Result<JoinHandle<()>, ZkError> {
        let mut follower = Self {
            paths: StorePaths::new(&config.cluster),
            config,
            admission,
            registry,
            updates,
            seen: HashMap::new(),
        };
        let (zk, cache) = follower.connect().await?;
        follower.sync(&zk, &cache).await;
        Ok(tokio::spawn(follower.run(zk, cache, stop)))
    }

    async fn connect(&self) -> Result<(Zk, TreeCache), ZkError> {
        let zk = Zk::connect(self.config.zk.clone()).await?;
        let cache = TreeCache::start(zk.clone(), &self.paths.plugins()).await?;
        Ok((zk, cache))
    }

    async fn run(mut self, mut zk: Zk, mut cache: TreeCache, mut stop: watch::Receiver<bool>) {
        let mut retry = Backoff::default();
        loop {
            let mut generation = cache.generation();
            let mut events = cache.subscribe();
            let session_ended = loop {
                let owed = self.owes_reports();
                tokio::select! {
                    _ = stop.changed() => return,
                    changed = generation.changed() => {
                        if changed.is_err() { break true; }
                        retry.reset();
                    }
                    event = events.recv() => {
                        if matches!(event, Ok(CacheEvent::SessionEnded)) { break true; }
                        continue;
                    }
                    // A status write failed: the next pass finishes it.
                    () = retry.wait(), if owed => {}
                }
                self.sync(&zk, &cache).await;
            };
            if session_ended {
                warn!(cluster = %self.config.cluster, kind = %self.config.kind,
                    "plugin follower lost its session; reconnecting");
                (zk, cache) = match self.reconnect(&mut stop).await {
                    Some(fresh) => fresh,
                    None => return,
                };
                // Failures are tried again on the new session.
                self.seen.retain(|_, s| matches!(s, Seen::Installed { .. }));
                self.sync(&zk, &cache).await;
            }
        }
    }

    async fn reconnect(&self, stop: &mut watch::Receiver<bool>) -> Option<(Zk, TreeCache)> {
        let mut backoff = Backoff::default();
        loop {
            if *stop.borrow() {
                return None;
            }
            match self.connect().await {
                Ok(fresh) => return Some(fresh),
                Err(err) => {
                    warn!(error = %err, "plugin follower: reconnect failed; retrying");
                    tokio::select! {
                        _ = stop.changed() => return None,
                        () = backoff.wait() => {}
                    }
                }
            }
        }
    }

    /// Whether a status write is still owed.
    fn owes_reports(&self) -> bool {
        !self.config.instances.is_empty()
            && self.seen.values().any(|s| match s {
                Seen::Installed { reported, .. } | Seen::Failed { reported, .. } => !reported,
            })
    }

    /// Brings every plugin of the followed kind to its active version.
    async fn sync(&mut self, zk: &Zk, cache: &TreeCache) {
        let root = self.paths.plugins();
        for name in cache.children(&root) {
            let Some(node) = cache.get(&strand_zk::join(&root, &name)) else {
                continue;
            };
            let Some(record) = node.record() else {
                continue;
            };
            let record = match PluginRecord::from_znrecord(&record) {
                Ok(r) => r,
                Err(why) => {
                    warn!(plugin = %name, %why, "unreadable plugin record; ignored");
                    continue;
                }
            };
            if record.kind != self.config.kind {
                continue;
            }
            let Some(active) = record.active_entry().cloned() else {
                continue;
            };
            self.bring_to(zk, &name, &active, node.stat().mzxid).await;
        }
    }

    /// The SHA-256 the registry runs under `name`.
    fn running(&self, name: &str) -> Option<String> {
        match self.config.kind {
            PluginKind::StateModel => self
                .registry
                .state_model(name)
                .map(|h| h.version().digest.clone()),
            PluginKind::Aggregator => self
                .registry
                .aggregator(name)
                .map(|h| h.version().digest.clone()),
        }
    }

    async fn bring_to(&mut self, zk: &Zk, name: &str, active: &VersionEntry, record_zxid: i64) {
        if self.running(name).as_deref() == Some(active.sha256.as_str()) {
            // Installed by an earlier pass, or some other way (a local file
            // with the same bytes): make sure the statuses say so.
            let reported = matches!(
                self.seen.get(name),
                Some(Seen::Installed { sha256, reported: true }) if *sha256 == active.sha256
            );
            if !reported {
                let reported = self.report_active(zk, name, active).await;
                self.seen.insert(
                    name.to_owned(),
                    Seen::Installed {
                        sha256: active.sha256.clone(),
                        reported,
                    },
                );
            }
            return;
        }
        if let Some(Seen::Failed {
            record_zxid: failed_at,
            reported,
            ..
        }) = self.seen.get(name)
            && *failed_at == record_zxid
        {
            if !reported {
                self.report_failure(zk, name).await;
            }
            return;
        }
        match self.install(zk, name, active).await {
            Ok(()) => {
                let reported = self.report_active(zk, name, active).await;
                self.seen.insert(
                    name.to_owned(),
                    Seen::Installed {
                        sha256: active.sha256.clone(),
                        reported,
                    },
                );
                self.updates.send_modify(|n| *n += 1);
            }
            Err(reason) => {
                warn!(
                    cluster = %self.config.cluster, plugin = %name, version = %active.version,
                    %reason, "deployed plugin not loaded; the running version keeps serving"
                );
                self.seen.insert(
                    name.to_owned(),
                    Seen::Failed {
                        record_zxid,
                        version: active.version.clone(),
                        sha256: active.sha256.clone(),
                        reason,
                        reported: false,
                    },
                );
                self.report_failure(zk, name).await;
            }
        }
    }

    /// Fetches, verifies and installs; the reason on failure.
    async fn install(&self, zk: &Zk, name: &str, active: &VersionEntry) -> Result<(), String> {
        // What it may reach: exactly its requests, if the grants cover them.
        let network = self
            .admission
            .grants
            .admit(name, &active.requests, &self.admission.addresses)
            .map_err(|e| e.to_string())?;
        let store = PluginStore::new(zk.clone(), &self.config.cluster);
        let bytes = store
            .fetch_artefact(&active.sha256)
            .await
            .map_err(|e| e.to_string())?;
        debug!(plugin = %name, version = %active.version, bytes = bytes.len(), "artefact fetched");
        let registry = Arc::clone(&self.registry);
        let label = name.to_owned();
        // The store already refused definition changes that resources in
        // use would not survive (unless forced): take what it accepted.
        let options = PluginOptions {
            swap_policy: SwapPolicy::AnyChange,
            grants: Grants {
                network,
                ..Grants::default()
            },
            ..PluginOptions::default()
        };
        let report =
            tokio::task::spawn_blocking(move || registry.install_bytes(&label, &bytes, options))
                .await
                .map_err(|e| format!("install task failed: {e}"))?
                .map_err(|e| e.error.one_line())?;
        if report.current.version != active.version {
            warn!(
                plugin = %name, reported = %report.current.version, deployed = %active.version,
                "the component reports another version than its deployment"
            );
        }
        info!(
            cluster = %self.config.cluster, plugin = %name, kind = %self.config.kind,
            version = %active.version, outcome = ?report.outcome,
            prepare_ms = report.prepare_time.as_secs_f64() * 1e3, "deployed plugin active"
        );
        Ok(())
    }

    /// Records in every instance's status that `active` runs; whether all
    /// writes landed.
    async fn report_active(&self, zk: &Zk, name: &str, active: &VersionEntry) -> bool {
        let mut all = true;
        for instance in &self.config.instances {
            if let Err(err) = status::record_active(
                zk,
                &self.paths,
                instance,
                name,
                &active.version,
                &active.sha256,
            )
            .await
            {
                warn!(%instance, error = %err, "could not record the plugin status; will retry");
                all = false;
            }
        }
        all
    }

    /// Records the failure remembered for `name` in every instance's
    /// status, and remembers whether all writes landed.
    async fn report_failure(&mut self, zk: &Zk, name: &str) {
        let Some(Seen::Failed {
            version,
            sha256,
            reason,
            ..
        }) = self.seen.get(name).cloned()
        else {
            return;
        };
        let mut all = true;
        for instance in &self.config.instances {
            if let Err(err) =
                status::record_error(zk, &self.paths, instance, name, &version, &sha256, &reason)
                    .await
            {
                warn!(%instance, error = %err, "could not record the plugin error; will retry");
                all = false;
            }
        }
        if let Some(Seen::Failed { reported, .. }) = self.seen.get_mut(name) {
            *reported = all;
        }
    }
}
