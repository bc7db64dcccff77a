//! The data of every plugin store and the host functions plugins import:
//! `strand:host/log`, `strand:host/clock` and
//! `strand:statemodel/customized-state` (`strand:routing/lookup` is in
//! `routing`); the views wasmtime-wasi and wasmtime-wasi-http take of it.

use std::sync::{Arc, LazyLock};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use wasmtime_wasi::{ResourceTable, WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::bindings::state_model::strand::host::{clock, log};
use crate::bindings::state_model::strand::statemodel::customized_state::{self, StateError};
use crate::bindings::{aggregator as agg, state_model as sm};
use crate::customized::{CustomizedStateStore, StateStoreError};
use crate::limits::MemoryLimiter;
use crate::net::SharedPolicy;
use crate::net::bounded::BoundedIo;
use crate::net::http::HttpHooks;
use crate::output::OutputLog;
use crate::routing::RoutingLookup;

/// The fixed point `monotonic-ns` counts from.
static MONOTONIC_BASE: LazyLock<Instant> = LazyLock::new(Instant::now);

/// Per-store data: WASI context, limiter, who the plugin is, and the
/// customized-state store of the current call.
pub struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(crate) limiter: MemoryLimiter,
    plugin: Arc<str>,
    pub(crate) customized: Option<Arc<dyn CustomizedStateStore>>,
    /// The routing table of the current call's participant.
    pub(crate) routing: Option<Arc<dyn RoutingLookup>>,
    /// When the running call must end (wall-clock), see [`crate::deadline`].
    pub(crate) deadline_at: Option<Instant>,
    /// Where the guest's stdout and stderr go, unless stdio was granted.
    pub(crate) output: Option<OutputLog>,
    /// What the running call may reach (shared with the socket check).
    pub(crate) net: SharedPolicy,
    http: WasiHttpCtx,
    http_hooks: HttpHooks,
}

impl HostState {
    pub(crate) fn new(
        wasi: WasiCtx,
        memory_bytes: usize,
        plugin: Arc<str>,
        net: SharedPolicy,
    ) -> Self {
        Self {
            wasi,
            table: ResourceTable::new(),
            limiter: MemoryLimiter::new(memory_bytes),
            http_hooks: HttpHooks {
                plugin: plugin.clone(),
                policy: net.clone(),
                deadline: None,
            },
            plugin,
            customized: None,
            routing: None,
            deadline_at: None,
            output: None,
            net,
            http: WasiHttpCtx::new(),
        }
    }

    /// The resource table with the running call's deadline, for the
    /// bounded `wasi:io` waits.
    pub(crate) fn bounded_io(&mut self) -> BoundedIo<'_> {
        BoundedIo {
            table: &mut self.table,
            deadline: self.deadline_at,
        }
    }

    /// Renames the plugin in log records (once its version is known).
    pub(crate) fn relabel(&mut self, plugin: Arc<str>) {
        if let Some(output) = &self.output {
            output.relabel(plugin.clone());
        }
        self.http_hooks.plugin = plugin.clone();
        self.plugin = plugin;
    }

    fn store(&self) -> Result<&Arc<dyn CustomizedStateStore>, StateError> {
        self.customized.as_ref().ok_or_else(|| {
            StateError::Unavailable("no customized-state store is attached to this call".into())
        })
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        self.http_hooks.deadline = self.deadline_at;
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.http_hooks,
        }
    }
}

impl log::Host for HostState {
    fn log(&mut self, lvl: log::Level, message: String) {
        let plugin = &*self.plugin;
        match lvl {
            log::Level::Trace => tracing::trace!(target: "strand_plugin", plugin, "{message}"),
            log::Level::Debug => tracing::debug!(target: "strand_plugin", plugin, "{message}"),
            log::Level::Info => tracing::info!(target: "strand_plugin", plugin, "{message}"),
            log::Level::Warn => tracing::warn!(target: "strand_plugin", plugin, "{message}"),
            log::Level::Error => tracing::error!(target: "strand_plugin", plugin, "{message}"),
        }
    }
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl clock::Host for HostState {
    fn now_ms(&mut self) -> u64 {
        now_ms()
    }

    fn monotonic_ns(&mut self) -> u64 {
        u64::try_from(MONOTONIC_BASE.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }
}

fn to_wit(e: StateStoreError) -> StateError {
    match e {
        StateStoreError::NotPermitted(m) => StateError::NotPermitted(m),
        StateStoreError::Unavailable(m) => StateError::Unavailable(m),
    }
}

fn check_names(state_type: &str, resource: &str, partition: &str) -> Result<(), StateError> {
    if state_type.is_empty() || resource.is_empty() || partition.is_empty() {
        return Err(StateError::NotPermitted(
            "state type, resource and partition must not be empty".into(),
        ));
    }
    Ok(())
}

impl customized_state::Host for HostState {
    fn update(
        &mut self,
        state_type: String,
        resource: String,
        partition: String,
        mut fields: Vec<(String, String)>,
    ) -> Result<(), StateError> {
        check_names(&state_type, &resource, &partition)?;
        // Helix's CustomizedStateProvider stamps every update (helix-spec §7).
        fields.retain(|(k, _)| k != "START_TIME");
        fields.push(("START_TIME".into(), now_ms().to_string()));
        self.store()?
            .update(&state_type, &resource, &partition, fields)
            .map_err(to_wit)
    }

    fn get(
        &mut self,
        state_type: String,
        resource: String,
        partition: String,
    ) -> Result<Option<Vec<(String, String)>>, StateError> {
        check_names(&state_type, &resource, &partition)?;
        self.store()?
            .get(&state_type, &resource, &partition)
            .map_err(to_wit)
    }

    fn delete(
        &mut self,
        state_type: String,
        resource: String,
        partition: String,
    ) -> Result<(), StateError> {
        check_names(&state_type, &resource, &partition)?;
        self.store()?
            .delete(&state_type, &resource, &partition)
            .map_err(to_wit)
    }
}

impl sm::strand::statemodel::types::Host for HostState {}
impl agg::strand::aggregator::types::Host for HostState {}
