//! One loaded version of a plugin: its type-checked pre-instantiated
//! component, its self-description, and a pool of idle instances reused
//! across calls. A call takes an instance from the pool (or instantiates
//! one), runs under the deadline, and gives the instance back unless the
//! call faulted: a store that trapped is dropped.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use serde::Serialize;
use strand_metrics::PluginCallOutcome;
use wasmtime::Store;
use wasmtime::component::Component;

use crate::customized::InMemoryCustomizedState;
use crate::engine::PluginHost;
use crate::error::{CallError, LoadError};
use crate::kind::Kind;
use crate::net::{InstanceAddress, NetPolicy};
use crate::offload::off_async_runtime;
use crate::options::{CallOptions, PluginOptions};
use crate::output::OutputLog;
use crate::state::HostState;
use crate::world::World;

/// Identifies a loaded plugin version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionInfo {
    /// The registry name of the plugin.
    pub name: String,
    /// Its world.
    pub world: World,
    /// The version string the plugin reports.
    pub version: String,
    /// The sha256 of the component's bytes.
    pub digest: String,
    /// When this version was loaded.
    pub loaded_at: SystemTime,
}

struct Worker<K: Kind> {
    store: Store<HostState>,
    bindings: K::Bindings,
}

/// A loaded, checked plugin version ready to serve calls.
pub(crate) struct Version<K: Kind> {
    pub(crate) info: Arc<VersionInfo>,
    pub(crate) descriptor: K::Descriptor,
    pre: K::Pre,
    options: PluginOptions,
    host: Arc<PluginHost>,
    label: Arc<str>,
    idle: Mutex<Vec<Worker<K>>>,
    /// The network policy of each calling instance, built on first use.
    policies: Mutex<HashMap<Option<InstanceAddress>, Arc<NetPolicy>>>,
}

impl<K: Kind> Version<K> {
    /// Type-checks, instantiates and describes a compiled component, then
    /// runs the canary. The instance used is kept for the first call.
    pub(crate) fn prepare(
        host: &Arc<PluginHost>,
        name: &str,
        component: &Component,
        digest: String,
        options: PluginOptions,
        canary: bool,
    ) -> Result<Self, LoadError> {
        off_async_runtime(|| Self::prepare_here(host, name, component, digest, options, canary))
    }

    fn prepare_here(
        host: &Arc<PluginHost>,
        name: &str,
        component: &Component,
        digest: String,
        options: PluginOptions,
        canary: bool,
    ) -> Result<Self, LoadError> {
        let pre = K::pre(host, component).map_err(|e| {
            match crate::provided::first_unprovided(K::WORLD, host.engine(), component) {
                Some(import) => LoadError::UnprovidedImport {
                    import,
                    provided: crate::provided::describe(K::WORLD),
                },
                None => LoadError::TypeCheck {
                    world: K::WORLD,
                    reason: format!("{e:#}"),
                },
            }
        })?;
        let deadline = host.config().canary_deadline.min(options.limits.deadline);
        let label: Arc<str> = Arc::from(name);
        let mut worker =
            new_worker::<K>(host, &pre, &options, &label, deadline).map_err(LoadError::Describe)?;
        let descriptor = run::<K, _>(&mut worker, host, deadline, |b, s| K::describe(b, s))
            .map_err(LoadError::Describe)?;
        K::validate(&descriptor).map_err(LoadError::InvalidDefinition)?;
        // From here on, what it prints is tagged with its version too.
        let label: Arc<str> = Arc::from(format!("{name}@{}", K::version(&descriptor)));
        worker.store.data_mut().relabel(label.clone());
        if canary {
            // A throwaway customized-state store: the canary has no effects.
            worker.store.data_mut().customized = Some(Arc::new(InMemoryCustomizedState::new()));
            run::<K, _>(&mut worker, host, deadline, |b, s| {
                K::canary(b, s, &descriptor)
            })
            .map_err(LoadError::Canary)?;
            worker.store.data_mut().customized = None;
        }
        let info = Arc::new(VersionInfo {
            name: name.to_owned(),
            world: K::WORLD,
            version: K::version(&descriptor).to_owned(),
            digest,
            loaded_at: SystemTime::now(),
        });
        Ok(Self {
            info,
            descriptor,
            pre,
            options,
            host: host.clone(),
            label,
            idle: Mutex::new(vec![worker]),
            policies: Mutex::new(HashMap::new()),
        })
    }

    /// What calls for `instance` may reach (resolved once per instance;
    /// rules that grant nothing for it are logged then).
    fn policy_for(&self, instance: Option<&InstanceAddress>) -> Arc<NetPolicy> {
        let rules = &self.options.grants.network;
        let mut policies = self.policies.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(policy) = policies.get(&instance.cloned()) {
            return policy.clone();
        }
        let policy = Arc::new(NetPolicy::new(rules, instance));
        for reason in policy.unusable() {
            tracing::warn!(plugin = %self.label, "network grant unusable: {reason}");
        }
        policies.insert(instance.cloned(), policy.clone());
        policy
    }

    /// Runs `f` on an instance of this version under the call's deadline.
    pub(crate) fn call<R: Send>(
        &self,
        opts: &CallOptions,
        f: impl FnOnce(&K::Bindings, &mut Store<HostState>) -> wasmtime::Result<R> + Send,
    ) -> Result<R, CallError> {
        off_async_runtime(|| self.call_here(opts, f))
    }

    fn call_here<R>(
        &self,
        opts: &CallOptions,
        f: impl FnOnce(&K::Bindings, &mut Store<HostState>) -> wasmtime::Result<R>,
    ) -> Result<R, CallError> {
        let started = Instant::now();
        let result = self.call_on_worker(opts, f);
        let outcome = match &result {
            Ok(_) | Err(CallError::Rejected { .. }) => PluginCallOutcome::Returned,
            Err(CallError::Trap { .. }) => PluginCallOutcome::Trap,
            Err(CallError::Timeout { .. }) => PluginCallOutcome::Timeout,
            Err(CallError::MemoryLimit { .. }) => PluginCallOutcome::MemoryLimit,
            Err(CallError::Instantiate(_)) => PluginCallOutcome::InstantiateFailed,
        };
        strand_metrics::global().plugins.call(
            &self.info.name,
            &self.info.version,
            outcome,
            started.elapsed(),
        );
        result
    }

    fn call_on_worker<R>(
        &self,
        opts: &CallOptions,
        f: impl FnOnce(&K::Bindings, &mut Store<HostState>) -> wasmtime::Result<R>,
    ) -> Result<R, CallError> {
        let deadline = opts.deadline.unwrap_or(self.options.limits.deadline);
        let pooled = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let mut worker = match pooled {
            Some(w) => w,
            None => new_worker::<K>(&self.host, &self.pre, &self.options, &self.label, deadline)?,
        };
        worker.store.data_mut().customized = opts
            .customized_state
            .clone()
            .or_else(|| self.options.customized_state.clone());
        worker.store.data_mut().routing = opts.routing.clone();
        if !self.options.grants.network.is_empty() {
            let policy = self.policy_for(opts.instance.as_ref());
            worker.store.data().net.store(policy);
        }
        let result = run::<K, _>(&mut worker, &self.host, deadline, f)?;
        worker.store.data_mut().customized = None;
        worker.store.data_mut().routing = None;
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < self.host.config().max_idle_instances {
            idle.push(worker);
        }
        Ok(result)
    }

    /// The type-checked component.
    pub(crate) fn pre(&self) -> &K::Pre {
        &self.pre
    }

    /// Instances currently idle in the pool.
    pub(crate) fn idle_instances(&self) -> usize {
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

fn new_worker<K: Kind>(
    host: &PluginHost,
    pre: &K::Pre,
    options: &PluginOptions,
    label: &Arc<str>,
    deadline: Duration,
) -> Result<Worker<K>, CallError> {
    let mut store = host
        .new_store(label.clone(), &options.limits, &options.grants)
        .map_err(CallError::Instantiate)?;
    // Armed before instantiating: the default deadline of 0 would interrupt
    // the component's start functions.
    host.arm_deadline(&mut store, deadline);
    let started = Instant::now();
    let output = begin_output(&store);
    let instantiated = K::instantiate(pre, &mut store);
    let stderr = output.as_ref().and_then(OutputLog::end_call);
    match instantiated {
        Ok(bindings) => Ok(Worker { store, bindings }),
        Err(e) => Err(
            match classify(e, &store, deadline, started.elapsed(), stderr) {
                trap @ CallError::Trap { .. } => CallError::Instantiate(trap.to_string()),
                other => other,
            },
        ),
    }
}

/// Starts a call's output accounting; the log to end it with.
fn begin_output(store: &Store<HostState>) -> Option<OutputLog> {
    let output = store.data().output.clone();
    if let Some(o) = &output {
        o.begin_call();
    }
    output
}

/// Runs `f` with the epoch deadline set; on error the worker must be dropped.
fn run<K: Kind, R>(
    worker: &mut Worker<K>,
    host: &PluginHost,
    deadline: Duration,
    f: impl FnOnce(&K::Bindings, &mut Store<HostState>) -> wasmtime::Result<R>,
) -> Result<R, CallError> {
    host.arm_deadline(&mut worker.store, deadline);
    let started = Instant::now();
    let output = begin_output(&worker.store);
    let result = f(&worker.bindings, &mut worker.store);
    let stderr = output.as_ref().and_then(OutputLog::end_call);
    result.map_err(|e| classify(e, &worker.store, deadline, started.elapsed(), stderr))
}

/// Turns a wasmtime error out of a call into the reason the caller sees.
fn classify(
    e: wasmtime::Error,
    store: &Store<HostState>,
    deadline: Duration,
    elapsed: Duration,
    stderr: Option<String>,
) -> CallError {
    let limiter = &store.data().limiter;
    if limiter.exceeded {
        return CallError::MemoryLimit {
            limit_bytes: limiter.cap(),
            trap: root_cause(&e),
        };
    }
    if matches!(
        e.downcast_ref::<wasmtime::Trap>(),
        Some(wasmtime::Trap::Interrupt)
    ) {
        return CallError::Timeout { deadline, elapsed };
    }
    CallError::Trap {
        trap: root_cause(&e),
        output: stderr,
    }
}

fn root_cause(e: &wasmtime::Error) -> String {
    e.root_cause().to_string()
}
