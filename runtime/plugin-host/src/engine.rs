//! [`PluginHost`]: the process's one wasmtime `Engine`, its configuration,
//! the epoch ticker that enforces deadlines ([`crate::deadline`]), the
//! linkers of both worlds and the compiled-artefact cache.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config, Engine, Store};

use crate::bindings::{aggregator as agg, state_model as sm};
use crate::cache::{ArtifactCache, digest};
use crate::deadline;
use crate::error::{HostInitError, LoadError};
use crate::grants::Grants;
use crate::limits::Limits;
use crate::net::{self, SharedPolicy};
use crate::output::OutputLog;
use crate::state::HostState;
use crate::world::World;

/// What the host tells a [`CompileObserver`]: only compiles that miss the
/// compiled cache (Cranelift runs), never cache hits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CompileEvent<'a> {
    /// A compile started.
    Started {
        /// The plugin's name (or the file's).
        what: &'a str,
        /// The component's size.
        bytes: usize,
    },
    /// It ended (compiled, or refused).
    Finished {
        /// As in `Started`.
        what: &'a str,
        /// As in `Started`.
        bytes: usize,
        /// How long it took.
        elapsed: Duration,
    },
}

/// Told about every compile that misses the cache; called on the compiling
/// thread, so it must return quickly.
pub type CompileObserver = Arc<dyn Fn(&CompileEvent<'_>) + Send + Sync>;

/// The directory the `strand` commands and participants share for compiled
/// components unless told otherwise: `strand-plugin-cache` in the system
/// temp dir. Sharing it is what makes a second `strand plugin check` of a
/// big component take milliseconds instead of a recompile.
pub fn default_cache_dir() -> PathBuf {
    std::env::temp_dir().join("strand-plugin-cache")
}

/// Settings of the plugin host.
#[derive(Clone)]
pub struct HostConfig {
    /// Where compiled components are cached; `None` compiles in memory
    /// every time (fine for one-shot tools such as `strand plugin check`).
    pub cache_dir: Option<PathBuf>,
    /// How often the epoch advances. Deadlines are wall-clock time and
    /// honoured to within about one tick plus the scheduling delay of a
    /// loaded machine.
    pub epoch_tick: Duration,
    /// Idle instances kept per plugin version for reuse (one per concurrent
    /// caller is enough).
    pub max_idle_instances: usize,
    /// The deadline of the self-description and canary calls of a load.
    pub canary_deadline: Duration,
    /// Told when a compile that misses the cache starts and ends (progress
    /// output); the host also logs both at `info`.
    pub compile_observer: Option<CompileObserver>,
    /// Whether plugins' stdout and stderr (when stdio is not granted) go to
    /// the log. Off for tools that report it themselves (`strand plugin
    /// check`); a failed call's stderr is in its [`CallError`] either way.
    ///
    /// [`CallError`]: crate::CallError
    pub log_guest_output: bool,
}

impl std::fmt::Debug for HostConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostConfig")
            .field("cache_dir", &self.cache_dir)
            .field("epoch_tick", &self.epoch_tick)
            .field("max_idle_instances", &self.max_idle_instances)
            .field("canary_deadline", &self.canary_deadline)
            .field("compile_observer", &self.compile_observer.is_some())
            .field("log_guest_output", &self.log_guest_output)
            .finish()
    }
}

impl Default for HostConfig {
    fn default() -> Self {
        Self {
            cache_dir: None,
            epoch_tick: Duration::from_millis(10),
            max_idle_instances: 64,
            canary_deadline: Duration::from_secs(5),
            compile_observer: None,
            log_guest_output: true,
        }
    }
}

/// The plugin host: create one per process (it owns the wasmtime `Engine`)
/// and share it as `Arc<PluginHost>`; everything else borrows it.
///
/// Epoch ticks run on a background thread that stops when the host is
/// dropped.
pub struct PluginHost {
    engine: Engine,
    state_model_linker: Linker<HostState>,
    aggregator_linker: Linker<HostState>,
    cache: Option<ArtifactCache>,
    config: HostConfig,
    ticker_stop: Arc<AtomicBool>,
}

impl std::fmt::Debug for PluginHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginHost")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl PluginHost {
    /// Creates the engine, both linkers, the cache directory and the epoch
    /// ticker.
    ///
    /// # Errors
    /// When wasmtime rejects the configuration, the linkers cannot be built
    /// or the cache directory cannot be created.
    pub fn new(config: HostConfig) -> Result<Arc<Self>, HostInitError> {
        let err = |what: &str, e: &dyn std::fmt::Display| HostInitError(format!("{what}: {e}"));
        let mut wasm = Config::new();
        wasm.epoch_interruption(true);
        // Our worlds use no component-model async; without it each call is
        // cheaper.
        wasm.concurrency_support(false);
        let engine = Engine::new(&wasm).map_err(|e| err("engine", &e))?;

        let mut state_model_linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut state_model_linker)
            .map_err(|e| err("wasi", &e))?;
        // State models may reach their application over HTTP, as granted.
        wasmtime_wasi_http::p2::add_only_http_to_linker_sync(&mut state_model_linker)
            .map_err(|e| err("wasi:http", &e))?;
        net::bounded::shadow_blocking_io(&mut state_model_linker)
            .map_err(|e| err("wasi:io", &e))?;
        sm::StateModel::add_to_linker::<HostState, HasSelf<HostState>>(
            &mut state_model_linker,
            |s| s,
        )
        .map_err(|e| err("state-model linker", &e))?;
        let mut aggregator_linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut aggregator_linker)
            .map_err(|e| err("wasi", &e))?;
        net::bounded::shadow_blocking_io(&mut aggregator_linker).map_err(|e| err("wasi:io", &e))?;
        agg::Aggregator::add_to_linker::<HostState, HasSelf<HostState>>(
            &mut aggregator_linker,
            |s| s,
        )
        .map_err(|e| err("aggregator linker", &e))?;

        let cache = match &config.cache_dir {
            Some(dir) => Some(
                ArtifactCache::open(dir, &engine)
                    .map_err(|e| err(&dir.display().to_string(), &e))?,
            ),
            None => None,
        };
        let ticker_stop = Arc::new(AtomicBool::new(false));
        deadline::spawn_ticker(&engine, config.epoch_tick, ticker_stop.clone())
            .map_err(|e| err("epoch ticker", &e))?;
        Ok(Arc::new(Self {
            engine,
            state_model_linker,
            aggregator_linker,
            cache,
            config,
            ticker_stop,
        }))
    }

    /// The process's wasmtime engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The host's settings.
    pub fn config(&self) -> &HostConfig {
        &self.config
    }

    pub(crate) fn linker(&self, world: World) -> &Linker<HostState> {
        match world {
            World::StateModel => &self.state_model_linker,
            World::Aggregator => &self.aggregator_linker,
        }
    }

    /// Compiles `bytes` (or loads the cached artefact) and returns it with
    /// the bytes' sha256.
    ///
    /// # Errors
    /// [`LoadError::NotAComponent`] for anything but a component binary,
    /// [`LoadError::Compile`] / [`LoadError::Cache`] otherwise.
    pub fn compile(&self, bytes: &[u8]) -> Result<(Component, String), LoadError> {
        self.compile_named("component", bytes)
    }

    /// [`PluginHost::compile`], naming the component `what` in the log and
    /// to the [`HostConfig::compile_observer`] when it is not cached.
    ///
    /// # Errors
    /// As [`PluginHost::compile`].
    pub fn compile_named(
        &self,
        what: &str,
        bytes: &[u8],
    ) -> Result<(Component, String), LoadError> {
        // Header: magic, a 16-bit version, a 16-bit layer (1: component).
        match bytes {
            [0, b'a', b's', b'm', _, _, 1, 0, ..] => {}
            [0, b'a', b's', b'm', _, _, 0, 0, ..] => {
                return Err(LoadError::NotAComponent(
                    "a core WebAssembly module, not a component".into(),
                ));
            }
            _ => return Err(LoadError::NotAComponent("not a WebAssembly binary".into())),
        }
        let digest = digest(bytes);
        if let Some(component) = self
            .cache
            .as_ref()
            .and_then(|c| c.load(&self.engine, &digest))
        {
            return Ok((component, digest));
        }
        let compile = || -> Result<Component, LoadError> {
            match &self.cache {
                Some(cache) => cache.compile_and_store(&self.engine, bytes, &digest),
                None => Component::new(&self.engine, bytes)
                    .map_err(|e| LoadError::Compile(format!("{e:#}"))),
            }
        };
        let component = self.observed(what, bytes.len(), compile)?;
        Ok((component, digest))
    }

    /// Runs a compile, logging it and telling the observer.
    fn observed<T>(&self, what: &str, bytes: usize, compile: impl FnOnce() -> T) -> T {
        let mib = f64::from(u32::try_from(bytes).unwrap_or(u32::MAX)) / f64::from(1 << 20);
        tracing::info!(plugin = what, bytes, "compiling {what} ({mib:.1} MiB)…");
        if let Some(observer) = &self.config.compile_observer {
            observer(&CompileEvent::Started { what, bytes });
        }
        let started = std::time::Instant::now();
        let result = compile();
        let elapsed = started.elapsed();
        tracing::info!(
            plugin = what,
            bytes,
            elapsed_ms = elapsed.as_millis(),
            "compiled {what}"
        );
        if let Some(observer) = &self.config.compile_observer {
            observer(&CompileEvent::Finished {
                what,
                bytes,
                elapsed,
            });
        }
        result
    }

    /// The names of a component's imports and exports (they carry the
    /// interface versions).
    pub fn interface_names(&self, component: &Component) -> (Vec<String>, Vec<String>) {
        let ty = component.component_type();
        let imports = ty
            .imports(&self.engine)
            .map(|(n, _)| n.to_owned())
            .collect();
        let exports = ty
            .exports(&self.engine)
            .map(|(n, _)| n.to_owned())
            .collect();
        (imports, exports)
    }

    /// Which world a compiled component was built for.
    ///
    /// # Errors
    /// See [`World::detect`].
    pub fn detect_world(&self, component: &Component) -> Result<World, LoadError> {
        let ty = component.component_type();
        World::detect(ty.exports(&self.engine).map(|(n, _)| n))
    }

    /// Arms `store` for a call that must end within `deadline` (wall-clock
    /// time) from now.
    pub(crate) fn arm_deadline(&self, store: &mut Store<HostState>, deadline: Duration) {
        deadline::arm(store, self.config.epoch_tick, deadline);
    }

    /// A fresh store for a plugin: its WASI grants, memory cap and label.
    pub(crate) fn new_store(
        &self,
        label: Arc<str>,
        limits: &Limits,
        grants: &Grants,
    ) -> Result<Store<HostState>, String> {
        let output = OutputLog::new(
            label.clone(),
            limits.output_bytes,
            self.config.log_guest_output,
        );
        let policy = SharedPolicy::default();
        let wasi = grants.wasi_ctx(&output, &label, &policy)?;
        let mut state = HostState::new(wasi, limits.memory_bytes, label, policy);
        if !grants.stdio {
            state.output = Some(output);
        }
        Ok(self.store_with(state))
    }

    /// A store around `state` with the memory limiter and the deadline
    /// callback installed (not armed yet: see [`PluginHost::arm_deadline`]).
    pub(crate) fn store_with(&self, state: HostState) -> Store<HostState> {
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limiter);
        deadline::install_callback(&mut store, self.config.epoch_tick);
        store
    }
}

impl Drop for PluginHost {
    fn drop(&mut self) {
        self.ticker_stop.store(true, Ordering::Relaxed);
    }
}
