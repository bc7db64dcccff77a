//! [`PluginHost`]: the process's one wasmtime `Engine`, its configuration,
//! the epoch ticker that enforces deadlines, the linkers of both worlds and
//! the compiled-artefact cache.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config, Engine, Store};

use crate::bindings::{aggregator as agg, state_model as sm};
use crate::cache::{ArtifactCache, digest};
use crate::error::{HostInitError, LoadError};
use crate::grants::Grants;
use crate::limits::Limits;
use crate::state::HostState;
use crate::world::World;

/// Settings of the plugin host.
#[derive(Debug, Clone)]
pub struct HostConfig {
    /// Where compiled components are cached; `None` compiles in memory
    /// every time (fine for one-shot tools such as `strand plugin check`).
    pub cache_dir: Option<PathBuf>,
    /// How often the epoch advances; deadlines are honoured to within about
    /// one tick.
    pub epoch_tick: Duration,
    /// Idle instances kept per plugin version for reuse (one per concurrent
    /// caller is enough).
    pub max_idle_instances: usize,
    /// The deadline of the self-description and canary calls of a load.
    pub canary_deadline: Duration,
}

impl Default for HostConfig {
    fn default() -> Self {
        Self {
            cache_dir: None,
            epoch_tick: Duration::from_millis(10),
            max_idle_instances: 64,
            canary_deadline: Duration::from_secs(5),
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
        // cheaper (wasm-host-notes §4.3).
        wasm.concurrency_support(false);
        let engine = Engine::new(&wasm).map_err(|e| err("engine", &e))?;

        let mut state_model_linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut state_model_linker)
            .map_err(|e| err("wasi", &e))?;
        sm::StateModel::add_to_linker::<HostState, HasSelf<HostState>>(
            &mut state_model_linker,
            |s| s,
        )
        .map_err(|e| err("state-model linker", &e))?;
        let mut aggregator_linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut aggregator_linker)
            .map_err(|e| err("wasi", &e))?;
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
        spawn_ticker(&engine, config.epoch_tick, ticker_stop.clone())
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
        let component = match &self.cache {
            Some(cache) => cache.load_or_compile(&self.engine, bytes, &digest)?,
            None => Component::new(&self.engine, bytes)
                .map_err(|e| LoadError::Compile(format!("{e:#}")))?,
        };
        Ok((component, digest))
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

    /// Epoch ticks for `deadline`: rounded up, plus one for the tick in
    /// progress, so a call gets at least `deadline` and at most one tick more.
    pub(crate) fn ticks(&self, deadline: Duration) -> u64 {
        let tick = self.config.epoch_tick.as_nanos().max(1);
        u64::try_from(deadline.as_nanos().div_ceil(tick)).unwrap_or(u64::MAX / 2) + 1
    }

    /// A fresh store for a plugin: its WASI grants, memory cap and label.
    pub(crate) fn new_store(
        &self,
        label: Arc<str>,
        limits: &Limits,
        grants: &Grants,
    ) -> Result<Store<HostState>, String> {
        let mut store = Store::new(
            &self.engine,
            HostState::new(grants.wasi_ctx()?, limits.memory_bytes, label),
        );
        store.limiter(|s| &mut s.limiter);
        Ok(store)
    }
}

impl Drop for PluginHost {
    fn drop(&mut self) {
        self.ticker_stop.store(true, Ordering::Relaxed);
    }
}

fn spawn_ticker(engine: &Engine, tick: Duration, stop: Arc<AtomicBool>) -> std::io::Result<()> {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("strand-epoch".into())
        .spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(tick);
                match weak.upgrade() {
                    Some(engine) => engine.increment_epoch(),
                    None => break,
                }
            }
        })?;
    Ok(())
}
