//! The participant's routing table, for plugins (`strand:routing`): what
//! `strand:routing/lookup` answers, and the `strand:routing/watch`
//! callbacks when the routing of a partition this instance holds changes.
//!
//! * [`Routing`] — one per participant (it outlives sessions): a spectator
//!   [`RoutingTableProvider`] on a ZooKeeper session of its own, started the
//!   first time a plugin that uses routing is called, so participants whose
//!   plugins never look pay nothing.
//! * [`follow`] — one task per session: on every new routing snapshot,
//!   each held partition whose model's plugin exports `watch` and whose
//!   routing (instances and their states) differs from what the plugin was
//!   last told gets one call. A call holds the partition like a transition
//!   does (no transition of it runs meanwhile, and it waits for one in
//!   flight); a failed call is tried again on the next change or after
//!   [`RETRY_AFTER`]. Replicas in ERROR, OFFLINE or DROPPED are not told.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use strand_plugin_host::routing::{Replica as WitReplica, RoutingChange, RoutingLookup};
use strand_plugin_host::{CallOptions, CustomizedStateStore, DEFAULT_DEADLINE, StateModelHandle};
use strand_spectator::{ProviderConfig, RoutingSnapshot, RoutingTableProvider};
use tokio::sync::OnceCell;
use tracing::{debug, info, warn};

use crate::customized::DeadlineBound;
use crate::engine::{Replica, Served, lock};

/// How long a failed callback waits before it is tried again (unless the
/// routing changes first).
pub const RETRY_AFTER: Duration = Duration::from_secs(1);

/// Callbacks of one snapshot run at most this many at once.
const PARALLEL_CALLBACKS: usize = 16;

/// The participant's routing table, started on first use.
pub(crate) struct Routing {
    config: ProviderConfig,
    provider: OnceCell<Arc<RoutingTableProvider>>,
    started: tokio::sync::watch::Sender<bool>,
}

impl Routing {
    pub(crate) fn new(config: ProviderConfig) -> Self {
        Self {
            config,
            provider: OnceCell::new(),
            started: tokio::sync::watch::channel(false).0,
        }
    }

    /// The lookup for a call of `handle`: `None` when its plugin does not
    /// use routing, or the table cannot be read yet (logged; the next call
    /// tries again and the plugin sees empty answers meanwhile).
    pub(crate) async fn lookup_for(
        &self,
        handle: &StateModelHandle,
    ) -> Option<Arc<dyn RoutingLookup>> {
        if !handle.uses_routing() {
            return None;
        }
        let provider = self
            .provider
            .get_or_try_init(|| async {
                let provider = RoutingTableProvider::start(self.config.clone()).await?;
                info!(cluster = %self.config.cluster, "routing table started for plugins");
                Ok::<_, strand_spectator::SpectatorError>(Arc::new(provider))
            })
            .await;
        match provider {
            Ok(provider) => {
                self.started.send_replace(true);
                Some(Arc::new(TableLookup(Arc::clone(provider))))
            }
            Err(err) => {
                warn!(cluster = %self.config.cluster, error = %err, "cannot read the routing table; plugins see no replicas for now");
                None
            }
        }
    }

    /// The table, once some call started it.
    async fn started(&self) -> Arc<RoutingTableProvider> {
        let mut started = self.started.subscribe();
        loop {
            if let Some(provider) = self.provider.get() {
                return Arc::clone(provider);
            }
            if started.changed().await.is_err() {
                // The sender lives as long as `self`: never reached.
                std::future::pending::<()>().await;
            }
        }
    }
}

/// Answers `strand:routing/lookup` from the current snapshot.
struct TableLookup(Arc<RoutingTableProvider>);

impl RoutingLookup for TableLookup {
    fn replicas(&self, resource: &str, partition: &str, state: Option<&str>) -> Vec<WitReplica> {
        replicas_of(&self.0.load(), resource, partition, state)
    }
}

/// The routed replicas of a partition, sorted by instance name.
fn replicas_of(
    snapshot: &RoutingSnapshot,
    resource: &str,
    partition: &str,
    state: Option<&str>,
) -> Vec<WitReplica> {
    let Some(states) = snapshot.external_view().state_map(resource, partition) else {
        return Vec::new();
    };
    states
        .iter()
        .filter(|(_, s)| state.is_none_or(|wanted| wanted == s.as_str()))
        .map(|(instance, s)| {
            let config = snapshot.instance_config(instance);
            WitReplica {
                instance: instance.clone(),
                host: config.and_then(|c| c.host()).unwrap_or_default().to_owned(),
                port: config.and_then(|c| c.port()).unwrap_or_default().to_owned(),
                state: s.clone(),
            }
        })
        .collect()
}

/// States whose replicas hear no routing changes.
fn is_quiet(state: &str) -> bool {
    ["ERROR", "OFFLINE", "DROPPED"]
        .iter()
        .any(|q| q.eq_ignore_ascii_case(state))
}

/// What a partition's plugin was last told: the routing it saw, or when to
/// try again after a failure.
enum Told {
    Saw(Vec<(String, String)>),
    Failed {
        routing: Vec<(String, String)>,
        retry_at: Instant,
    },
}

/// A partition's routing: instance → state, sorted by instance.
type Routes = Vec<(String, String)>;

/// One callback made: the partition, the routing it told, whether it
/// succeeded.
type Outcome = (Replica, Routes, bool);

/// One callback to make.
struct Due {
    key: Replica,
    handle: StateModelHandle,
    change: RoutingChange,
    routing: Routes,
}

/// Tells the plugins of `served`'s partitions about routing changes until
/// the session's serving ends (the task is aborted then).
pub(crate) async fn follow(served: Arc<Served>) {
    let provider = served.routing.started().await;
    let mut updates = provider.subscribe();
    let mut told: HashMap<Replica, Told> = HashMap::new();
    loop {
        let snapshot = Arc::clone(&updates.borrow_and_update());
        let (due, waiting) = due_calls(&served, &snapshot, &mut told);
        let results: Vec<Outcome> = futures::stream::iter(due)
            .map(|due| call(&served, due))
            .buffer_unordered(PARALLEL_CALLBACKS)
            .collect()
            .await;
        let mut failed = false;
        for (key, routing, ok) in results {
            let entry = if ok {
                Told::Saw(routing)
            } else {
                failed = true;
                Told::Failed {
                    routing,
                    retry_at: Instant::now() + RETRY_AFTER,
                }
            };
            told.insert(key, entry);
        }
        let recheck = if waiting {
            Some(Duration::from_millis(50))
        } else if failed || told.values().any(|t| matches!(t, Told::Failed { .. })) {
            Some(RETRY_AFTER)
        } else {
            None
        };
        tokio::select! {
            changed = updates.changed() => if changed.is_err() { return },
            () = sleep_or_forever(recheck) => {}
        }
    }
}

async fn sleep_or_forever(delay: Option<Duration>) {
    match delay {
        Some(delay) => tokio::time::sleep(delay).await,
        None => std::future::pending().await,
    }
}

/// The callbacks `snapshot` calls for (their partitions now held), and
/// whether some wait for a transition in flight.
fn due_calls(
    served: &Served,
    snapshot: &RoutingSnapshot,
    told: &mut HashMap<Replica, Told>,
) -> (Vec<Due>, bool) {
    let mut due = Vec::new();
    let mut waiting = false;
    let mut held_keys = std::collections::HashSet::new();
    for held in served.states.held() {
        let Some(handle) = served.registry.state_model(&held.model) else {
            continue;
        };
        if !handle.watches_routing() {
            continue;
        }
        for (partition, own_state) in held.partitions {
            let key = (held.resource.clone(), partition);
            held_keys.insert(key.clone());
            if is_quiet(&own_state) {
                continue;
            }
            let routing: Routes = snapshot
                .external_view()
                .state_map(&key.0, &key.1)
                .map(|m| m.iter().map(|(i, s)| (i.clone(), s.clone())).collect())
                .unwrap_or_default();
            let unchanged = match told.get(&key) {
                Some(Told::Saw(seen)) => *seen == routing,
                Some(Told::Failed {
                    routing: seen,
                    retry_at,
                }) => *seen == routing && Instant::now() < *retry_at,
                None => false,
            };
            if unchanged {
                continue;
            }
            if !lock(&served.busy).insert(key.clone()) {
                waiting = true; // a transition of it runs; look again after
                continue;
            }
            let change = RoutingChange {
                cluster: served.config.cluster.clone(),
                instance: served.config.instance.clone(),
                resource: key.0.clone(),
                partition: key.1.clone(),
                own_state,
                replicas: replicas_of(snapshot, &key.0, &key.1, None),
            };
            due.push(Due {
                key,
                handle: handle.clone(),
                change,
                routing,
            });
        }
    }
    told.retain(|key, _| held_keys.contains(key));
    (due, waiting)
}

/// Makes one callback, then frees the partition for transitions.
async fn call(served: &Served, due: Due) -> Outcome {
    let Due {
        key,
        handle,
        change,
        routing,
    } = due;
    let ends = Instant::now() + DEFAULT_DEADLINE;
    let options = CallOptions {
        routing: served.routing.lookup_for(&handle).await,
        instance: Some(served.config.address.clone()),
        customized_state: Some(
            Arc::new(DeadlineBound::new(Arc::clone(&served.provider), ends))
                as Arc<dyn CustomizedStateStore>,
        ),
        deadline: None,
    };
    let result = tokio::task::spawn_blocking(move || {
        let result = handle.routing_changed(&change, &options);
        (result, handle.version())
    })
    .await;
    lock(&served.busy).remove(&key);
    served.wake.notify_one();
    let ok = match result {
        Ok((Ok(_), version)) => {
            debug!(resource = %key.0, partition = %key.1, plugin = %version.name, "routing change told");
            true
        }
        Ok((Err(err), version)) => {
            warn!(
                instance = %served.config.instance, resource = %key.0, partition = %key.1,
                plugin = %format!("{}@{}", version.name, version.version),
                reason = %err, "routing callback failed; it is tried again"
            );
            false
        }
        Err(join) => {
            warn!(resource = %key.0, partition = %key.1, error = %join, "routing callback panicked");
            false
        }
    };
    (key, routing, ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_states_hear_nothing() {
        assert!(is_quiet("ERROR"));
        assert!(is_quiet("offline"));
        assert!(is_quiet("DROPPED"));
        assert!(!is_quiet("SLAVE"));
        assert!(!is_quiet("MASTER"));
    }
}
