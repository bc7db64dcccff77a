//! Serving one session: the message loop (Helix's `HelixTaskExecutor`).
//!
//! The loop keeps the instance's MESSAGES in memory from a persistent
//! recursive watch: a created message is read once (`get` of that id
//! only); the participant's own marks and deletes are never read back;
//! after a reconnect (when ZooKeeper may have dropped events, and the
//! client does not restore persistent watches) it watches again, lists
//! MESSAGES, reads the ids it does not know, and re-reads its current
//! states. Each pass looks at every message not yet taken — handoffs
//! before bootstraps, by the state model's transition priorities, then
//! oldest first; one replica's messages in creation order
//! ([`crate::inbox`]) — and decides: run it (see [`crate::transition`]), let it wait, or
//! delete it with the reason. Passes are cheap however many messages
//! wait: what a message asks is classified once, when it is read
//! ([`crate::classify`]), ranked once, the inbox keeps the order, and a message whose resource has no free slot
//! waits without further checks.
//!
//! # Guarantees (level-triggered)
//! * Every message addressed to the current session is driven to an end:
//!   executed, recognised as already applied and deleted, or deleted with
//!   the reason. A failed ZooKeeper step is retried with [`Backoff`] until
//!   it succeeds or the session ends; nothing is dropped on an error.
//! * A plugin runs at most once per message (Helix's rule: a message not
//!   in state NEW is never executed again). A READ message this process
//!   did not mark is deleted as applied when its current state already
//!   shows the target state, otherwise deleted with the reason, so the
//!   controller sends a fresh one.
//! * Transitions of one partition run one after another, in message
//!   creation order; slots are shared by the rule of [`crate::scheduler`].
//! * Stale, duplicate, wrong-session, malformed and unsupported messages
//!   are deleted with a warning that says why (batched in one multi-op).

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures::{FutureExt, StreamExt};
use strand_model::{Message, MessageType, PropertyPaths, SessionId, ZNRecord};
use strand_plugin_host::PluginRegistry;
use strand_zk::{Backoff, NodeEvent, Zk, ZkError};
use tokio::sync::Notify;
use tracing::{Instrument, debug, error, warn};

use crate::classify::Shape;
use crate::config::ParticipantConfig;
use crate::current_state::{CurrentStates, ReplicaState};
use crate::customized::CustomizedStateProvider;
use crate::errors::ErrorLog;
use crate::inbox::{Inbox, Rank, Tracked};
use crate::lookups::Lookups;
use crate::routing::Routing;
use crate::scheduler::{Slots, Standing, Urgency};

/// Why serving a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SessionEnd {
    /// Asked to stop.
    Stopped,
    /// The ZooKeeper session expired.
    Expired,
}

/// A partition of a resource.
pub(crate) type Replica = (String, String);

/// What a pass decided for one message.
enum Decision {
    /// Not now (partition busy, no plugin, no slot, a record unknown).
    Wait,
    /// Delete it without running it, for this reason (`None`: quietly);
    /// the first field names the reason for metrics.
    Discard(&'static str, Option<String>),
    /// Run the transition.
    Run(Box<Admitted>),
}

/// A transition that got a slot.
pub(crate) struct Admitted {
    pub id: String,
    pub message: Message,
    pub version: i32,
    pub key: Replica,
    pub model: String,
    pub factory: String,
    pub from: String,
    pub to: String,
    pub standing: Standing,
}

/// Everything one session serves with.
pub(crate) struct Served {
    pub(crate) config: ParticipantConfig,
    pub(crate) session: SessionId,
    pub(crate) zk: Zk,
    pub(crate) paths: PropertyPaths,
    pub(crate) registry: Arc<PluginRegistry>,
    pub(crate) provider: Arc<CustomizedStateProvider>,
    pub(crate) states: CurrentStates,
    pub(crate) lookups: Lookups,
    pub(crate) errors: ErrorLog,
    /// The participant's routing table, for plugins (module `routing`).
    pub(crate) routing: Arc<Routing>,
    root: String,
    messages: Mutex<Inbox>,
    /// Partitions with a transition (or a routing callback) in flight.
    pub(crate) busy: Mutex<HashSet<Replica>>,
    pub(crate) slots: Mutex<Slots>,
    warned_models: Mutex<HashSet<String>>,
    pub(crate) wake: Arc<Notify>,
    accepting: AtomicBool,
    in_flight: AtomicUsize,
    idle: Notify,
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Aborts a task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// What the message loop has to do after a batch of watch events.
#[derive(Default)]
struct Todo {
    /// Register the MESSAGES watch again (zookeeper-client 0.11.2 does not
    /// re-register persistent watches after a reconnect).
    rewatch: bool,
    relist: bool,
    reload_states: bool,
    fetch: Vec<String>,
    gone: Vec<String>,
}

impl Served {
    /// Reads this session's current states; nothing else is read until
    /// messages arrive.
    pub(crate) async fn new(
        zk: Zk,
        session: SessionId,
        config: ParticipantConfig,
        registry: Arc<PluginRegistry>,
        provider: Arc<CustomizedStateProvider>,
        routing: Arc<Routing>,
    ) -> Result<Arc<Self>, ZkError> {
        let paths = PropertyPaths::new(&config.cluster);
        let wake = Arc::new(Notify::new());
        let states = CurrentStates::new(zk.clone(), paths.clone(), &config.instance, session);
        states.load_all().await?;
        let lookups = Lookups::new(zk.clone(), paths.clone(), Arc::clone(&wake));
        let errors = ErrorLog::start(zk.clone(), paths.clone(), &config.instance, session);
        let slots = Mutex::new(Slots::new(config.max_parallel_transitions));
        Ok(Arc::new(Self {
            root: paths.messages(&config.instance),
            config,
            session,
            zk,
            paths,
            registry,
            provider,
            states,
            lookups,
            errors,
            routing,
            messages: Mutex::default(),
            busy: Mutex::default(),
            slots,
            warned_models: Mutex::default(),
            wake,
            accepting: AtomicBool::new(true),
            in_flight: AtomicUsize::new(0),
            idle: Notify::new(),
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
        let mut events = match self.zk.watch_subtree(&self.root).await {
            Ok(events) => events.boxed(),
            Err(err) => {
                warn!(instance = %self.config.instance, error = %err, "cannot watch MESSAGES");
                return SessionEnd::Expired;
            }
        };
        let mut plugin_updates = self.config.plugin_updates.clone();
        // Routing callbacks for this session's partitions, for as long as
        // it serves.
        let _routing_callbacks = AbortOnDrop(tokio::spawn(
            crate::routing::follow(Arc::clone(self)).in_current_span(),
        ));
        let mut todo = Todo {
            relist: true,
            ..Todo::default()
        };
        let mut backoff = Backoff::default();
        loop {
            if *stop.borrow() {
                return self.stopped();
            }
            if todo.rewatch {
                // The new watch is registered before the old one is
                // dropped, so the server-side watch never lapses; the
                // relist that follows finds what happened meanwhile.
                match self.zk.watch_subtree(&self.root).await {
                    Ok(fresh) => {
                        events = fresh.boxed();
                        todo.rewatch = false;
                    }
                    Err(err) if err.is_session_expired() => return self.expired(),
                    Err(err) => {
                        warn!(instance = %self.config.instance, error = %err, "cannot watch MESSAGES again; retrying");
                    }
                }
            }
            if todo.rewatch || !self.catch_up(&mut todo).await {
                // A read failed: try again after a delay (or sooner, on news).
                let delay = backoff.next_delay();
                let wake = Arc::clone(&self.wake);
                tokio::spawn(
                    async move {
                        tokio::time::sleep(delay).await;
                        wake.notify_one();
                    }
                    .in_current_span(),
                );
            } else {
                backoff.reset();
            }
            self.scan().await;
            tokio::select! {
                () = plugins_changed(&mut plugin_updates) => {}
                () = self.wake.notified() => {
                    // A group commit that landed wakes all its transitions
                    // at once, and each frees its slot: let them all do so
                    // before the next pass, which then starts (and marks
                    // read) their successors together.
                    tokio::task::yield_now().await;
                }
                event = events.next() => {
                    if !self.note(event, &mut todo) {
                        return self.expired();
                    }
                    // Take every event already there before acting once.
                    while let Some(event) = events.next().now_or_never() {
                        if !self.note(event, &mut todo) {
                            return self.expired();
                        }
                    }
                }
                _ = stop.changed() => return self.stopped(),
            }
        }
    }

    fn stopped(&self) -> SessionEnd {
        self.accepting.store(false, Ordering::SeqCst);
        SessionEnd::Stopped
    }

    fn expired(&self) -> SessionEnd {
        self.accepting.store(false, Ordering::SeqCst);
        SessionEnd::Expired
    }

    /// Notes one watch event; false when the session is over.
    fn note(&self, event: Option<NodeEvent>, todo: &mut Todo) -> bool {
        let child = |path: &str| {
            path.strip_prefix(self.root.as_str())
                .and_then(|rest| rest.strip_prefix('/'))
                .filter(|id| !id.is_empty() && !id.contains('/'))
                .map(str::to_owned)
        };
        match event {
            None | Some(NodeEvent::SessionEnded(_)) => return false,
            Some(NodeEvent::Created(path)) => {
                if let Some(id) = child(&path)
                    && !lock(&self.messages).contains(&id)
                {
                    todo.fetch.push(id);
                }
            }
            // The participant's own mark-read (possibly of a message it has
            // finished and forgotten since): never read back. A message
            // nobody created under this watch is found by the relist after
            // a reconnect.
            Some(NodeEvent::DataChanged(_)) => {}
            Some(NodeEvent::Deleted(path)) => {
                if let Some(id) = child(&path) {
                    todo.gone.push(id);
                }
            }
            Some(NodeEvent::Reconnected) => {
                todo.rewatch = true;
                todo.relist = true;
                todo.reload_states = true;
            }
            Some(NodeEvent::Disconnected) => {}
        }
        true
    }

    /// Brings the in-memory messages (and, after a reconnect, current
    /// states) up to date. False when a read failed (`todo` keeps what is
    /// left to do).
    async fn catch_up(&self, todo: &mut Todo) -> bool {
        {
            let mut messages = lock(&self.messages);
            for id in todo.gone.drain(..) {
                messages.gone(&id);
            }
        }
        if todo.reload_states {
            if let Err(err) = self.states.load_all().await {
                warn!(instance = %self.config.instance, error = %err, "re-reading current states failed; retrying");
                return false;
            }
            todo.reload_states = false;
        }
        if todo.relist {
            match self.zk.children(&self.root).await {
                Ok(ids) => {
                    let present: HashSet<&String> = ids.iter().collect();
                    let mut messages = lock(&self.messages);
                    messages.retain_present(&present);
                    todo.fetch
                        .extend(ids.iter().filter(|id| !messages.contains(id)).cloned());
                    todo.relist = false;
                }
                Err(err) => {
                    warn!(instance = %self.config.instance, error = %err, "listing MESSAGES failed; retrying");
                    return false;
                }
            }
        }
        todo.fetch.sort();
        todo.fetch.dedup();
        let wanted: Vec<String> = {
            let messages = lock(&self.messages);
            todo.fetch
                .drain(..)
                .filter(|id| !messages.contains(id))
                .collect()
        };
        let reads = wanted.iter().map(|id| {
            let path = self.paths.message(&self.config.instance, id);
            async move { (id, self.zk.get(&path).await) }
        });
        let mut ok = true;
        for (id, read) in futures::future::join_all(reads).await {
            match read {
                Ok(Some((data, stat))) => match ZNRecord::from_bytes(&data) {
                    Ok(Some(record)) => {
                        let message = Message::from(record);
                        strand_metrics::global()
                            .participant
                            .message_received(type_label(message.msg_type().as_ref()));
                        let shape = Shape::of(&message, self.session, strand_model::time::now_ms());
                        let tracked = Tracked::new(message, shape, stat.version);
                        lock(&self.messages).insert(id.clone(), tracked);
                    }
                    Ok(None) | Err(_) => self.discard_now(id, "it is not a valid ZNRecord"),
                },
                Ok(None) => {}
                Err(err) => {
                    warn!(message = %id, error = %err, "reading a message failed; retrying");
                    todo.fetch.push(id.clone());
                    ok = false;
                }
            }
        }
        ok
    }

    /// Waits until no transition runs, at most `deadline`. Returns whether
    /// everything finished.
    pub(crate) async fn drain(&self, deadline: Duration) -> bool {
        let wait = async {
            loop {
                let idle = self.idle.notified();
                if self.in_flight.load(Ordering::SeqCst) == 0 {
                    return;
                }
                idle.await;
            }
        };
        tokio::time::timeout(deadline, wait).await.is_ok()
    }

    /// Looks at every message not taken yet, in the inbox's order.
    async fn scan(self: &Arc<Self>) {
        if !self.accepting.load(Ordering::SeqCst) {
            return;
        }
        self.prepare().await;
        let mut discards = Vec::new();
        let mut admitted = Vec::new();
        {
            let mut messages = lock(&self.messages);
            messages.rank_new(|tracked| self.rank(tracked));
            let mut taken = Vec::new();
            for (id, tracked) in messages.waiting() {
                match self.decide(id, tracked) {
                    Decision::Wait => {}
                    Decision::Discard(kind, reason) => {
                        strand_metrics::global().participant.message_discarded(kind);
                        if let Some(reason) = reason {
                            warn!(instance = %self.config.instance, message = %id, "deleting message: {reason}");
                        }
                        taken.push(id.to_owned());
                        discards.push(id.to_owned());
                    }
                    Decision::Run(run) => {
                        taken.push(id.to_owned());
                        lock(&self.busy).insert(run.key.clone());
                        admitted.push(*run);
                    }
                }
            }
            for id in &taken {
                messages.take(id);
            }
        }
        if !discards.is_empty() {
            let this = Arc::clone(self);
            tokio::spawn(async move { this.delete_messages(discards).await }.in_current_span());
        }
        if !admitted.is_empty() {
            self.in_flight.fetch_add(admitted.len(), Ordering::SeqCst);
            strand_metrics::global()
                .participant
                .transitions_started(admitted.len());
            let this = Arc::clone(self);
            tokio::spawn(async move { this.run_batch(admitted).await }.in_current_span());
        }
    }

    /// Reads what the pending messages need and is not in memory yet:
    /// current states never read, and the watches of their models and
    /// resources.
    async fn prepare(&self) {
        let needed: Vec<(String, String)> = {
            let messages = lock(&self.messages);
            let pairs: HashSet<(&str, &str)> = messages
                .untaken()
                .filter_map(|t| match &t.shape {
                    Shape::Transition(t) => Some((t.key.0.as_str(), t.model.as_str())),
                    Shape::Discard(..) => None,
                })
                .collect();
            pairs
                .into_iter()
                .filter(|(resource, model)| {
                    self.states.needs_read(resource) || !self.lookups.is_watching(resource, model)
                })
                .map(|(resource, model)| (resource.to_owned(), model.to_owned()))
                .collect()
        };
        for (resource, model) in needed {
            if self.states.needs_read(&resource)
                && let Err(err) = self.states.reload(&resource).await
            {
                warn!(resource, error = %err, "reading the current state failed");
            }
            if !self.lookups.is_watching(&resource, &model)
                && let Err(err) = self.lookups.watch(&resource, &model).await
            {
                warn!(resource, model, error = %err, "watching the resource's records failed");
            }
        }
    }

    /// Forgets a message whose task ended (it is deleted, or the session is
    /// over).
    pub(crate) fn forget(&self, id: &str) {
        lock(&self.messages).forget(id);
    }

    /// A transition task ended: frees its partition and slot.
    pub(crate) fn finished(&self, key: &Replica, standing: Standing) {
        lock(&self.busy).remove(key);
        lock(&self.slots).release(&key.0, standing);
        strand_metrics::global().participant.transition_ended();
        if self.in_flight.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.idle.notify_waiters();
        }
        self.wake.notify_one();
    }

    fn decide(&self, id: &str, tracked: &Tracked) -> Decision {
        let t = match &tracked.shape {
            Shape::Discard(kind, reason) => {
                if reason.is_none() {
                    debug!(message = %id, "NO_OP acknowledged");
                }
                return Decision::Discard(kind, reason.clone());
            }
            Shape::Transition(t) => t,
        };
        let (resource, partition) = (t.key.0.as_str(), t.key.1.as_str());
        let (from, to, model) = (t.from.as_str(), t.to.as_str(), t.model.as_str());
        if t.read {
            // Not marked by this process (ours are taken): Helix never
            // executes a READ message again.
            return match self.states.replica(resource, partition) {
                ReplicaState::Recorded(state) if state.eq_ignore_ascii_case(to) => {
                    Decision::Discard(
                        "already_applied",
                        Some(format!("already applied: {resource} {partition} is {to}")),
                    )
                }
                _ => Decision::Discard(
                    "already_read",
                    Some(
                        "it was marked read but not run by this process; a READ message is \
                         never run again (the controller sends a fresh one)"
                            .to_owned(),
                    ),
                ),
            };
        }
        if lock(&self.busy).contains(&t.key) {
            return Decision::Wait; // runs after the transition in flight
        }
        if !lock(&self.slots).has_room(resource, tracked.rank.urgency) {
            // Nothing of this resource can start now: the rest of this
            // message's checks wait for a free slot (a pass then looks again).
            return Decision::Wait;
        }
        let Some(handle) = self.registry.state_model(model) else {
            if lock(&self.warned_models).insert(model.to_owned()) {
                warn!(instance = %self.config.instance, model, "no plugin serves this state model; its messages wait");
            }
            return Decision::Wait;
        };
        let definition = match self.lookups.model(model) {
            Ok(definition) => definition,
            Err(reason) => {
                debug!(message = %id, "waiting: {reason}");
                return Decision::Wait;
            }
        };
        let current = match self.states.replica(resource, partition) {
            ReplicaState::Recorded(state) => state,
            ReplicaState::Missing => match &definition {
                Some(def) => match def.initial_state() {
                    Some(initial) => initial.to_owned(),
                    None => {
                        error!(znode = %self.paths.state_model_def(model), "state model has no INITIAL_STATE; its messages wait");
                        return Decision::Wait;
                    }
                },
                None => handle.definition().initial_state,
            },
            ReplicaState::Unknown => {
                self.recheck_later(resource);
                return Decision::Wait;
            }
        };
        if to.eq_ignore_ascii_case(&current) {
            return Decision::Discard(
                "duplicate",
                Some(format!("duplicate: {resource} {partition} is already {to}")),
            );
        }
        if from != "*" && !from.eq_ignore_ascii_case(&current) {
            return Decision::Discard(
                "stale",
                Some(format!(
                    "stale: {resource} {partition} is {current}, the message expects {from}"
                )),
            );
        }
        let previous = if from == "*" {
            current.clone()
        } else {
            from.to_owned()
        };
        let urgency = match &definition {
            Some(def) => Urgency::of(def.top_state(), def.initial_state(), &previous, to),
            None => {
                let spec = handle.definition();
                let top = spec.states.first().map(|s| s.name.as_str());
                Urgency::of(top, Some(&spec.initial_state), &previous, to)
            }
        };
        let Some(standing) = lock(&self.slots).try_admit(resource, urgency) else {
            return Decision::Wait;
        };
        Decision::Run(Box::new(Admitted {
            id: id.to_owned(),
            message: tracked.message.clone(),
            version: tracked.version,
            key: t.key.clone(),
            model: t.model.clone(),
            factory: t.factory.clone(),
            from: previous,
            to: to.to_owned(),
            standing,
        }))
    }

    /// Where a transition goes in the inbox's order: its position in the
    /// state model's `STATE_TRANSITION_PRIORITYLIST` (the StateModelDef
    /// znode, or the plugin's definition when there is none), and which
    /// slots it may take. `None` while neither is known.
    fn rank(&self, tracked: &Tracked) -> Option<Rank> {
        let Shape::Transition(t) = &tracked.shape else {
            return None;
        };
        let (from, to) = (t.from.as_str(), t.to.as_str());
        let listed = |position: Option<usize>, count: usize| {
            u32::try_from(position.unwrap_or(count)).unwrap_or(u32::MAX - 1)
        };
        let matches = |f: &str, t: &str| {
            (from == "*" || f.eq_ignore_ascii_case(from)) && t.eq_ignore_ascii_case(to)
        };
        if let Ok(Some(definition)) = self.lookups.model(&t.model) {
            let transitions = definition.transitions();
            let position = transitions.iter().position(|&(f, t)| matches(f, t));
            return Some(Rank {
                order: listed(position, transitions.len()),
                urgency: Urgency::of(definition.top_state(), definition.initial_state(), from, to),
            });
        }
        let spec = self.registry.state_model(&t.model)?.definition();
        let position = spec
            .transitions
            .iter()
            .position(|tr| matches(&tr.from, &tr.to));
        Some(Rank {
            order: listed(position, spec.transitions.len()),
            urgency: Urgency::of(
                spec.states.first().map(|s| s.name.as_str()),
                Some(&spec.initial_state),
                from,
                to,
            ),
        })
    }

    /// A resource whose current state is unknown (does not parse): read it
    /// again after a delay, then look at its messages again.
    fn recheck_later(&self, resource: &str) {
        // `reload` logs the znode; the record is re-read by `prepare` once
        // marked unread again.
        let wake = Arc::clone(&self.wake);
        let delay = Backoff::new(Duration::from_secs(1), Duration::from_secs(1)).next_delay();
        self.states.forget(resource);
        tokio::spawn(
            async move {
                tokio::time::sleep(delay).await;
                wake.notify_one();
            }
            .in_current_span(),
        );
    }

    /// Deletes a malformed message at once (it cannot be tracked).
    fn discard_now(&self, id: &str, why: &str) {
        strand_metrics::global()
            .participant
            .message_discarded("not_a_record");
        warn!(instance = %self.config.instance, message = id, "deleting message: {why}");
        let zk = self.zk.clone();
        let path = self.paths.message(&self.config.instance, id);
        tokio::spawn(async move { delete_until_gone(&zk, &path).await }.in_current_span());
    }

    /// Deletes messages that will not run: one multi-op, falling back to
    /// one delete each (retried until gone) if the batch fails.
    async fn delete_messages(&self, ids: Vec<String>) {
        let paths: Vec<String> = ids
            .iter()
            .map(|id| self.paths.message(&self.config.instance, id))
            .collect();
        let mut multi = self.zk.multi();
        for path in &paths {
            multi.delete(path.clone(), None);
        }
        if multi.commit().await.is_err() {
            for path in &paths {
                delete_until_gone(&self.zk, path).await;
            }
        }
        for id in &ids {
            self.forget(id);
        }
        self.wake.notify_one();
    }
}

/// Deletes a znode, retrying with backoff until it is gone or the session
/// ends.
pub(crate) async fn delete_until_gone(zk: &Zk, path: &str) {
    let mut backoff = Backoff::default();
    loop {
        match zk.delete(path, None).await {
            Ok(()) | Err(ZkError::NoNode { .. }) | Err(ZkError::SessionExpired) => return,
            Err(err) => {
                warn!(znode = path, error = %err, "deleting the message failed; retrying");
                backoff.wait().await;
            }
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

/// The `type` label of a received message: Helix's name of its type,
/// `other` for any other, `none` without `MSG_TYPE`.
fn type_label(message_type: Option<&MessageType>) -> &'static str {
    match message_type {
        None => "none",
        Some(t) => t.standard_name().unwrap_or("other"),
    }
}
