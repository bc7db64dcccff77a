//! [`Runner`]: a Strand participant that advertises itself as a code
//! runner (tagged, ONLINE for `CODE_RUNNER`) and runs the programs sent to
//! its inbox in the plugin host's sandbox — WASI command components only,
//! with a deadline, a memory cap and bounded output; never a shell.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result};
use strand_admin::Admin;
use strand_model::time::now_ms;
use strand_model::{Message, SessionId};
use strand_participant::{Participant, ParticipantConfig};
use strand_plugin_host::{
    CommandLimits, CommandRunner, HostConfig, PluginHost, PluginOptions, PluginRegistry,
};
use strand_zk::{Accessor, CacheEvent, CreateKind, TreeCache, Zk, ZkConfig};
use tokio::sync::{Semaphore, watch};
use tracing::{info, warn};

use crate::protocol::{Paths, RunReply, RunRequest, sha256};
use crate::setup::tag_runner;

/// How a runner is set up.
#[derive(Debug, Clone)]
pub struct RunnerConfig {
    /// ZooKeeper.
    pub zk: ZkConfig,
    /// The cluster (set up with [`crate::setup::ensure_cluster`]).
    pub cluster: String,
    /// This runner's instance name (`host_port`).
    pub instance: String,
    /// The OnlineOffline state-model plugin (`online_offline.wasm`).
    pub online_offline_plugin: PathBuf,
    /// The most a program may use; a request may ask for a shorter deadline.
    pub limits: CommandLimits,
    /// Programs run at the same time.
    pub max_parallel: usize,
    /// Where compiled components are cached.
    pub cache_dir: Option<PathBuf>,
}

impl RunnerConfig {
    /// Defaults: 10 s deadline, 64 MiB memory, 64 KiB output, 2 at a time.
    pub fn new(
        zk: ZkConfig,
        cluster: impl Into<String>,
        instance: impl Into<String>,
        online_offline_plugin: PathBuf,
    ) -> Self {
        Self {
            zk,
            cluster: cluster.into(),
            instance: instance.into(),
            online_offline_plugin,
            limits: CommandLimits::default(),
            max_parallel: 2,
            cache_dir: None,
        }
    }
}

/// A running code runner. [`Runner::shutdown`] leaves the cluster.
pub struct Runner {
    participant: Arc<Participant>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner")
            .field("instance", &self.participant.instance())
            .finish_non_exhaustive()
    }
}

/// What the request loop needs.
struct Serving {
    participant: Arc<Participant>,
    commands: Arc<CommandRunner>,
    limits: CommandLimits,
    paths: Paths,
    permits: Semaphore,
    /// Requests being handled, so a change event does not start one twice.
    in_flight: Mutex<HashSet<String>>,
}

impl Runner {
    /// Tags the instance, joins the cluster as a participant serving
    /// OnlineOffline, and starts taking programs.
    ///
    /// # Errors
    /// When ZooKeeper, the plugin host or the participant cannot start.
    pub async fn start(config: RunnerConfig) -> Result<Self> {
        let admin = Admin::connect_with(config.zk.clone()).await?;
        tag_runner(&admin, &config.cluster, &config.instance).await?;
        drop(admin);
        let host = PluginHost::new(HostConfig {
            cache_dir: config.cache_dir.clone(),
            ..HostConfig::default()
        })
        .context("starting the plugin host")?;
        let registry = PluginRegistry::new(Arc::clone(&host));
        registry
            .install_file(
                "OnlineOffline",
                &config.online_offline_plugin,
                PluginOptions::default(),
            )
            .context("loading the OnlineOffline plugin")?;
        let commands = CommandRunner::new(host).context("starting the command runner")?;
        let participant = Participant::start(
            ParticipantConfig::new(config.zk.clone(), &config.cluster, &config.instance),
            registry,
        )
        .await
        .with_context(|| format!("joining {} as {}", config.cluster, config.instance))?;
        let participant = Arc::new(participant);
        let serving = Arc::new(Serving {
            participant: Arc::clone(&participant),
            commands: Arc::new(commands),
            limits: config.limits,
            paths: Paths::new(&config.cluster),
            permits: Semaphore::new(config.max_parallel.max(1)),
            in_flight: Mutex::new(HashSet::new()),
        });
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(serve(serving, stopped));
        info!(instance = config.instance, "code runner is serving");
        Ok(Self {
            participant,
            stop,
            task,
        })
    }

    /// The instance name.
    pub fn instance(&self) -> &str {
        self.participant.instance()
    }

    /// Stops taking programs and leaves the cluster (the LiveInstance goes,
    /// so clients stop routing here at once).
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        if let Err(err) = self.task.await {
            warn!(error = %err, "request loop ended abnormally");
        }
        match Arc::try_unwrap(self.participant) {
            Ok(participant) => participant.shutdown().await,
            Err(_) => warn!("participant still shared at shutdown; left to its session timeout"),
        }
    }
}

/// Watches the inbox (one cache per ZooKeeper session) until stopped.
async fn serve(serving: Arc<Serving>, mut stopped: watch::Receiver<bool>) {
    let instance = serving.participant.instance().to_owned();
    let inbox = serving.paths.requests(&instance);
    let mut handlers = tokio::task::JoinSet::new();
    loop {
        let zk = serving.participant.zk();
        let cache = match watch_inbox(&zk, &inbox).await {
            Ok(cache) => cache,
            Err(err) => {
                warn!(%instance, error = %err, "cannot watch the inbox; retrying");
                tokio::select! {
                    _ = stopped.changed() => {
                        handlers.shutdown().await;
                        return;
                    }
                    _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
                }
            }
        };
        let mut events = cache.subscribe();
        loop {
            for name in cache.children(&inbox) {
                start_request(&serving, &mut handlers, &zk, &cache, &inbox, name);
            }
            while handlers.try_join_next().is_some() {}
            tokio::select! {
                _ = stopped.changed() => {
                    // Runs in progress are abandoned (their programs stop at
                    // their deadline); the participant is shut down next.
                    handlers.shutdown().await;
                    return;
                }
                event = events.recv() => match event {
                    Ok(CacheEvent::SessionEnded) | Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                    _ => {}
                },
            }
        }
        info!(%instance, "session ended; watching the inbox on the new session");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn watch_inbox(zk: &Zk, inbox: &str) -> strand_zk::Result<TreeCache> {
    zk.create_all(inbox).await?;
    TreeCache::start(zk.clone(), inbox).await
}

fn start_request(
    serving: &Arc<Serving>,
    handlers: &mut tokio::task::JoinSet<()>,
    zk: &Zk,
    cache: &TreeCache,
    inbox: &str,
    name: String,
) {
    let path = format!("{inbox}/{name}");
    let Some(record) = cache.record(&path) else {
        return;
    };
    {
        let mut in_flight = serving
            .in_flight
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if !in_flight.insert(name.clone()) {
            return;
        }
    }
    let serving = Arc::clone(serving);
    let zk = zk.clone();
    handlers.spawn(async move {
        let message = Message::from((*record).clone());
        handle(&serving, &zk, &path, &message).await;
        if let Err(err) = zk.delete(&path, None).await
            && !err.is_no_node()
        {
            warn!(path, error = %err, "cannot delete a handled request");
        }
        serving
            .in_flight
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .remove(&name);
    });
}

/// Runs one request and writes its reply; a bad request gets a reply
/// saying why (when it names where to reply) and changes nothing else.
async fn handle(serving: &Serving, zk: &Zk, path: &str, message: &Message) {
    let instance = serving.participant.instance();
    let request = match RunRequest::from_message(message) {
        Ok(request) => request,
        Err(reason) => {
            warn!(path, reason, "discarding a malformed request");
            return;
        }
    };
    let session: SessionId = serving.participant.session();
    if !request.is_for_session(session) {
        warn!(
            path,
            "discarding a request addressed to another session of this instance"
        );
        return;
    }
    let reply = match fetch(zk, &serving.paths, &request).await {
        Err(reason) => RunReply::refused(instance, reason),
        Ok((program, stdin)) => {
            let Ok(_permit) = serving.permits.acquire().await else {
                return;
            };
            let limits = CommandLimits {
                deadline: request.deadline.min(serving.limits.deadline),
                ..serving.limits
            };
            info!(instance, program = %&request.program[..12], args = ?request.args, "running a program");
            let commands = Arc::clone(&serving.commands);
            let args = request.args.clone();
            // The run blocks its thread until the program ends or its
            // deadline passes.
            let outcome =
                tokio::task::spawn_blocking(move || commands.run(&program, &args, &stdin, &limits))
                    .await;
            match outcome {
                Ok(Ok(output)) => RunReply::ran(instance, &output),
                Ok(Err(err)) => RunReply::refused(instance, err.to_string()),
                Err(err) => RunReply::refused(instance, format!("the run failed: {err}")),
            }
        }
    };
    let reply_path = serving.paths.reply(&request.correlation_id, instance);
    let message = reply.to_message(&request, now_ms());
    if let Err(err) = write_reply(zk, &reply_path, &message).await {
        warn!(path = reply_path, error = %err, "cannot write a reply");
    }
}

/// Reads the program and stdin the request names, checking their hashes.
async fn fetch(zk: &Zk, paths: &Paths, request: &RunRequest) -> Result<(Vec<u8>, Vec<u8>), String> {
    let read = |path: String, sha: String| async move {
        let Some((bytes, _)) = zk.get(&path).await.map_err(|e| e.to_string())? else {
            return Err(format!("no such upload: {path}"));
        };
        if sha256(&bytes) != sha {
            return Err(format!("{path} does not match its sha256"));
        }
        Ok(bytes)
    };
    let program = read(paths.program(&request.program), request.program.clone()).await?;
    let stdin = match &request.input {
        Some(sha) => read(paths.input(sha), sha.clone()).await?,
        None => Vec::new(),
    };
    Ok((program, stdin))
}

async fn write_reply(zk: &Zk, path: &str, message: &Message) -> strand_zk::Result<()> {
    let accessor = Accessor::new(zk.clone());
    match accessor
        .create(path, message.record(), CreateKind::Persistent)
        .await
    {
        Err(err) if err.is_no_node() => {
            // The client gave up and removed the replies node.
            Ok(())
        }
        other => other.map(|_| ()),
    }
}
