//! Serving one session: the message loop (Helix's `HelixTaskExecutor`)
//! and transition execution (`HelixTask` + `HelixStateTransitionHandler`).
//!
//! The loop wakes on changes of the instance's MESSAGES (a watched cache,
//! no polling) and when a transition finishes; it validates each new
//! message and hands accepted state transitions to a bounded pool. Each
//! transition: mark the message read → make sure the resource's current
//! state exists → call the state-model plugin → write the current state →
//! delete the message (in that order, as the Java participant does).
//!
//! # Guarantees
//! * Transitions of one partition run strictly one after another, in
//!   message creation order; different partitions run in parallel up to
//!   the configured bound.
//! * A plugin error, trap or timeout puts only that partition in ERROR,
//!   with the reason in `INFO`; everything else keeps being served.
//! * Stale, duplicate, wrong-session, malformed and unsupported messages are
//!   deleted with a warning that says why.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use strand_model::records::{DROPPED, ERROR};
use strand_model::{
    Message, MessageState, MessageType, PropertyPaths, SessionId, StateModelDefinition,
};
use strand_plugin_host::{
    CallError, CallOptions, CustomizedStateStore, PluginRegistry, Rejection, TransitionContext,
};
use strand_zk::{Accessor, CacheEvent, TreeCache, Update, Zk, ZkError};
use tokio::sync::{Notify, Semaphore};
use tracing::{debug, info, warn};

use crate::config::ParticipantConfig;
use crate::current_state::{CurrentStateWriter, Recorded};
use crate::customized::CustomizedStateProvider;
use strand_model::time::now_ms;

/// Why serving a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SessionEnd {
    /// Asked to stop.
    Stopped,
    /// The ZooKeeper session expired.
    Expired,
}

type Replica = (String, String);

/// Everything one session serves with.
pub(crate) struct Served {
    config: ParticipantConfig,
    session: SessionId,
    zk: Zk,
    accessor: Accessor,
    paths: PropertyPaths,
    registry: Arc<PluginRegistry>,
    provider: Arc<CustomizedStateProvider>,
    writer: CurrentStateWriter,
    messages: TreeCache,
    ideal_states: TreeCache,
    resource_configs: TreeCache,
    models: TreeCache,
    /// The state of every replica this session has touched.
    replicas: Mutex<HashMap<Replica, String>>,
    /// Replicas with a transition running.
    busy: Mutex<HashSet<Replica>>,
    /// Messages already taken (running or finished); pruned as they leave
    /// the cache.
    taken: Mutex<HashSet<String>>,
    /// State models with no plugin, already warned about.
    warned_models: Mutex<HashSet<String>>,
    permits: Arc<Semaphore>,
    wake: Notify,
    accepting: AtomicBool,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Served {
    /// Starts watching what the session needs.
    pub(crate) async fn new(
        zk: Zk,
        session: SessionId,
        config: ParticipantConfig,
        registry: Arc<PluginRegistry>,
        provider: Arc<CustomizedStateProvider>,
    ) -> Result<Arc<Self>, ZkError> {
        let paths = PropertyPaths::new(&config.cluster);
        let accessor = Accessor::new(zk.clone());
        let messages = TreeCache::start(zk.clone(), &paths.messages(&config.instance)).await?;
        let ideal_states = TreeCache::start(zk.clone(), &paths.ideal_states()).await?;
        let resource_configs = TreeCache::start(zk.clone(), &paths.resource_configs()).await?;
        let models = TreeCache::start(zk.clone(), &paths.state_model_defs()).await?;
        let writer =
            CurrentStateWriter::new(accessor.clone(), paths.clone(), &config.instance, session);
        let permits = Arc::new(Semaphore::new(config.max_parallel_transitions.max(1)));
        Ok(Arc::new(Self {
            config,
            session,
            zk,
            accessor,
            paths,
            registry,
            provider,
            writer,
            messages,
            ideal_states,
            resource_configs,
            models,
            replicas: Mutex::default(),
            busy: Mutex::default(),
            taken: Mutex::default(),
            warned_models: Mutex::default(),
            permits,
            wake: Notify::new(),
            accepting: AtomicBool::new(true),
        }))
    }

    /// The session served.
    pub(crate) fn session(&self) -> SessionId {
        self.session
    }

    /// Serves messages until asked to stop or the session ends.
    pub(crate) async fn run(
        self: &Arc<Self>,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) -> SessionEnd {
        let mut generation = self.messages.generation();
        let mut events = self.messages.subscribe();
        let mut plugin_updates = self.config.plugin_updates.clone();
        self.scan();
        loop {
            tokio::select! {
                () = plugins_changed(&mut plugin_updates) => {}
                changed = generation.changed() => {
                    if changed.is_err() {
                        return SessionEnd::Expired;
                    }
                }
                () = self.wake.notified() => {}
                event = events.recv() => {
                    if matches!(event, Ok(CacheEvent::SessionEnded)) {
                        self.accepting.store(false, Ordering::SeqCst);
                        return SessionEnd::Expired;
                    }
                }
                _ = stop.changed() => {
                    self.accepting.store(false, Ordering::SeqCst);
                    return SessionEnd::Stopped;
                }
            }
            if *stop.borrow() {
                self.accepting.store(false, Ordering::SeqCst);
                return SessionEnd::Stopped;
            }
            self.scan();
        }
    }

    /// Waits until no transition runs, at most `deadline`. Returns whether
    /// everything finished.
    pub(crate) async fn drain(&self, deadline: Duration) -> bool {
        let all = u32::try_from(self.config.max_parallel_transitions.max(1)).unwrap_or(u32::MAX);
        match tokio::time::timeout(deadline, self.permits.acquire_many(all)).await {
            Ok(Ok(permits)) => {
                drop(permits);
                true
            }
            _ => false,
        }
    }

    /// Looks at every message in the cache once.
    fn scan(self: &Arc<Self>) {
        if !self.accepting.load(Ordering::SeqCst) {
            return;
        }
        let root = self.paths.messages(&self.config.instance);
        let names = self.messages.children(&root);
        {
            // Forget taken ids that left the cache (deleted).
            let present: HashSet<&String> = names.iter().collect();
            lock(&self.taken).retain(|id| present.contains(id));
        }
        let mut found: Vec<(i64, String, Option<Message>)> = names
            .into_iter()
            .filter(|id| !lock(&self.taken).contains(id))
            .filter_map(|id| {
                let node = self.messages.get(&strand_zk::join(&root, &id))?;
                let message = node.record().map(|r| Message::from((*r).clone()));
                let created = message
                    .as_ref()
                    .and_then(Message::create_timestamp)
                    .unwrap_or(0);
                Some((created, id, message))
            })
            .collect();
        // Oldest first (Helix's comparator sorts newest first by mistake,
        // helix-spec §4.2; creation order is what the controller meant).
        found.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        for (_, id, message) in found {
            match message {
                None => self.discard(&id, "it is not a valid ZNRecord"),
                Some(message) => self.consider(id, message),
            }
        }
    }

    /// Deletes a message that will not be executed.
    fn discard(self: &Arc<Self>, id: &str, why: &str) {
        warn!(instance = %self.config.instance, message = id, "deleting message: {why}");
        lock(&self.taken).insert(id.to_owned());
        let this = Arc::clone(self);
        let id = id.to_owned();
        tokio::spawn(async move { this.delete_message(&id).await });
    }

    fn consider(self: &Arc<Self>, id: String, message: Message) {
        match message.msg_type() {
            Some(MessageType::NoOp) => {
                debug!(message = %id, "NO_OP acknowledged");
                lock(&self.taken).insert(id.clone());
                let this = Arc::clone(self);
                tokio::spawn(async move { this.delete_message(&id).await });
                return;
            }
            Some(MessageType::StateTransition) => {}
            Some(other) => {
                return self.discard(&id, &format!("unsupported message type {}", other.as_str()));
            }
            None => return self.discard(&id, "it has no MSG_TYPE"),
        }
        if !message.is_for_session(self.session) {
            let target = message.tgt_session_id().unwrap_or("none").to_owned();
            return self.discard(
                &id,
                &format!("it targets session {target}, not {}", self.session),
            );
        }
        if message.msg_state() != Some(MessageState::New) {
            return;
        }
        if let Err(err) = message.validate() {
            return self.discard(&id, &format!("it is malformed: {err}"));
        }
        let (Some(resource), Some(partition), Some(from), Some(to), Some(model)) = (
            message.resource_name(),
            message.partition_name(),
            message.from_state(),
            message.to_state(),
            message.state_model_def(),
        ) else {
            return self.discard(&id, "it lacks a resource, partition, state or state model");
        };
        let key: Replica = (resource.to_owned(), partition.to_owned());
        if lock(&self.busy).contains(&key) {
            return; // runs after the transition in flight
        }
        if self.registry.state_model(model).is_none() {
            if lock(&self.warned_models).insert(model.to_owned()) {
                warn!(instance = %self.config.instance, model, "no plugin serves this state model; its messages wait");
            }
            return;
        }
        let current = self.replica_state(&key, model);
        if to == current {
            return self.discard(
                &id,
                &format!("duplicate: {resource} {partition} is already {to}"),
            );
        }
        if from != "*" && !from.eq_ignore_ascii_case(&current) {
            return self.discard(
                &id,
                &format!("stale: {resource} {partition} is {current}, the message expects {from}"),
            );
        }
        lock(&self.taken).insert(id.clone());
        lock(&self.busy).insert(key.clone());
        let this = Arc::clone(self);
        tokio::spawn(async move {
            this.execute(id, message, key).await;
        });
    }

    /// The replica's state in this session: what it last became, or the
    /// model's initial state.
    fn replica_state(&self, key: &Replica, model: &str) -> String {
        if let Some(state) = lock(&self.replicas).get(key) {
            return state.clone();
        }
        self.initial_state(model)
    }

    fn initial_state(&self, model: &str) -> String {
        self.models
            .record(&self.paths.state_model_def(model))
            .and_then(|r| {
                StateModelDefinition::from((*r).clone())
                    .initial_state()
                    .map(str::to_owned)
            })
            .or_else(|| {
                self.registry
                    .state_model(model)
                    .map(|h| h.definition().initial_state)
            })
            .unwrap_or_else(|| "OFFLINE".to_owned())
    }

    async fn execute(self: Arc<Self>, id: String, message: Message, key: Replica) {
        let Ok(_permit) = Arc::clone(&self.permits).acquire_owned().await else {
            return;
        };
        let outcome = self.transition(&id, &message, &key).await;
        if let Err(err) = outcome {
            warn!(instance = %self.config.instance, message = %id, error = %err, "transition bookkeeping failed");
        }
        lock(&self.busy).remove(&key);
        self.wake.notify_one();
    }

    async fn transition(&self, id: &str, message: &Message, key: &Replica) -> Result<(), ZkError> {
        let (resource, partition) = (key.0.as_str(), key.1.as_str());
        let from = message.from_state().unwrap_or_default().to_owned();
        let to = message.to_state().unwrap_or_default().to_owned();
        let model = message.state_model_def().unwrap_or_default().to_owned();
        let factory = message
            .state_model_factory_name()
            .unwrap_or("DEFAULT")
            .to_owned();
        let triggered_by = message.src_name().unwrap_or_default().to_owned();

        // 1. Mark it read; a message deleted meanwhile is not executed.
        let path = self.paths.message(&self.config.instance, id);
        let session = self.session;
        let marked = self
            .accessor
            .update(&path, false, |current| match current {
                Some(record) => {
                    let mut m = Message::from(record);
                    m.mark_read(now_ms(), session);
                    Update::Write(m.into_record())
                }
                None => Update::Keep,
            })
            .await?;
        if marked.is_none() {
            debug!(message = id, "message vanished before it ran");
            return Ok(());
        }

        // 2. The resource's current state exists before the callback.
        self.writer.ensure(resource, &model, &factory).await?;

        // 3. The plugin.
        let start_ms = now_ms();
        let previous = if from == "*" {
            self.replica_state(key, &model)
        } else {
            from.clone()
        };
        let (state, info) = match self.call_plugin(message, key, &model, &previous, &to).await {
            Ok((note, version)) => {
                info!(
                    instance = %self.config.instance, resource, partition, from = %previous, to = %to,
                    plugin = %model, version = %version, "transition done"
                );
                (to.clone(), note)
            }
            Err(reason) => {
                warn!(
                    instance = %self.config.instance, resource, partition, from = %previous, to = %to,
                    reason = %reason, "transition failed; partition goes to ERROR"
                );
                (ERROR.to_owned(), reason)
            }
        };

        // 4. The current state, then 5. the message.
        self.writer
            .record(
                resource,
                &Recorded {
                    partition,
                    state: &state,
                    previous: &previous,
                    start_ms,
                    end_ms: now_ms(),
                    info: &info,
                    triggered_by: &triggered_by,
                },
            )
            .await?;
        {
            let mut replicas = lock(&self.replicas);
            if state == DROPPED {
                replicas.remove(key);
            } else {
                replicas.insert(key.clone(), state);
            }
        }
        self.delete_message(id).await;
        Ok(())
    }

    /// Runs the plugin (retrying `retryable` rejections); the note and the
    /// serving version, or the failure's reason.
    async fn call_plugin(
        &self,
        message: &Message,
        key: &Replica,
        model: &str,
        from: &str,
        to: &str,
    ) -> Result<(String, String), String> {
        let context = TransitionContext {
            cluster: self.config.cluster.clone(),
            instance: self.config.instance.clone(),
            resource: key.0.clone(),
            partition: key.1.clone(),
            from_state: from.to_owned(),
            to_state: to.to_owned(),
            message_id: message.msg_id().to_owned(),
            config: self.resource_config(&key.0),
        };
        let mut options = CallOptions {
            customized_state: Some(Arc::clone(&self.provider) as Arc<dyn CustomizedStateStore>),
            ..CallOptions::default()
        };
        if let Some(timeout) = message.timeout().filter(|t| *t > 0) {
            options.deadline = Some(Duration::from_millis(
                u64::try_from(timeout).unwrap_or(u64::MAX),
            ));
        }
        let mut attempt = 0;
        loop {
            let Some(handle) = self.registry.state_model(model) else {
                return Err(format!("no plugin serves state model {model}"));
            };
            let (context, options) = (context.clone(), options.clone());
            let result =
                tokio::task::spawn_blocking(move || handle.transition(&context, &options)).await;
            match result {
                Ok(Ok(outcome)) => return Ok((outcome.note, outcome.version.version.clone())),
                Ok(Err(CallError::Rejected {
                    kind: Rejection::Retryable,
                    message,
                })) if attempt < self.config.retry_limit => {
                    attempt += 1;
                    debug!(attempt, reason = %message, "plugin asked for a retry");
                    tokio::time::sleep(Duration::from_millis(100 * u64::from(attempt))).await;
                }
                Ok(Err(err)) => return Err(err.to_string()),
                Err(join) => return Err(format!("plugin call panicked: {join}")),
            }
        }
    }

    /// The resource's ResourceConfig and IdealState simple fields.
    fn resource_config(&self, resource: &str) -> Vec<(String, String)> {
        let mut config = Vec::new();
        for record in [
            self.ideal_states.record(&self.paths.ideal_state(resource)),
            self.resource_configs
                .record(&self.paths.resource_config(resource)),
        ]
        .into_iter()
        .flatten()
        {
            config.extend(
                record
                    .simple_fields
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone())),
            );
        }
        config
    }

    async fn delete_message(&self, id: &str) {
        let path = self.paths.message(&self.config.instance, id);
        match self.zk.delete(&path, None).await {
            Ok(()) | Err(ZkError::NoNode { .. }) => {}
            Err(err) => warn!(message = id, error = %err, "could not delete message"),
        }
    }
}

/// Resolves when plugins were installed or swapped; never without a source.
async fn plugins_changed(updates: &mut Option<tokio::sync::watch::Receiver<u64>>) {
    match updates {
        Some(rx) => {
            if rx.changed().await.is_err() {
                // The source is gone: nothing more will change.
                *updates = None;
            }
        }
        None => std::future::pending().await,
    }
}
