//! The hot-swap registry: plugins by name, each installed or replaced by
//! compile → world check → self-description → comparison with the running
//! version → canary → atomic swap. A candidate that fails any step is never
//! installed and the running version keeps serving.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use serde::Serialize;
use wasmtime::component::Component;

use strand_model::plugin::Changes;

use crate::engine::PluginHost;
use crate::error::LoadError;
use crate::handles::{AggregatorHandle, StateModelHandle};
use crate::kind::{AggregatorKind, Kind, StateModelKind};
use crate::options::PluginOptions;
use crate::slot::Slot;
use crate::version::{Version, VersionInfo};
use crate::world::World;

/// What an install did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum SwapOutcome {
    /// The name was new; the plugin now serves under it.
    Installed,
    /// A new version replaced the running one.
    Swapped,
    /// The candidate is byte-for-byte the running version; nothing changed.
    Unchanged,
}

/// The report of a successful install or swap.
#[derive(Debug, Clone)]
pub struct SwapReport {
    /// The plugin's registry name.
    pub name: String,
    /// What happened.
    pub outcome: SwapOutcome,
    /// The version that served before, if any.
    pub previous: Option<Arc<VersionInfo>>,
    /// The version serving now.
    pub current: Arc<VersionInfo>,
    /// How the candidate's definition differs from the previous one.
    pub changes: Changes,
    /// Compile (or cache load), checks, description and canary.
    pub prepare_time: Duration,
    /// The swap itself (pointer exchange).
    pub swap_time: Duration,
}

/// A candidate refused, with the reason; the running version is untouched.
#[derive(Debug, thiserror::Error)]
#[error("plugin {name}: candidate refused: {error}")]
pub struct SwapError {
    /// The plugin's registry name.
    pub name: String,
    /// Why.
    #[source]
    pub error: LoadError,
}

#[derive(Clone)]
enum AnySlot {
    StateModel(Arc<Slot<StateModelKind>>),
    Aggregator(Arc<Slot<AggregatorKind>>),
}

impl AnySlot {
    fn world(&self) -> World {
        match self {
            Self::StateModel(_) => World::StateModel,
            Self::Aggregator(_) => World::Aggregator,
        }
    }

    fn info(&self) -> Arc<VersionInfo> {
        match self {
            Self::StateModel(s) => s.current().info.clone(),
            Self::Aggregator(s) => s.current().info.clone(),
        }
    }
}

/// Kinds that can live in the registry.
trait Slotted: Kind {
    fn wrap(slot: Arc<Slot<Self>>) -> AnySlot;
    fn unwrap(any: &AnySlot) -> Option<Arc<Slot<Self>>>;
}

impl Slotted for StateModelKind {
    fn wrap(slot: Arc<Slot<Self>>) -> AnySlot {
        AnySlot::StateModel(slot)
    }
    fn unwrap(any: &AnySlot) -> Option<Arc<Slot<Self>>> {
        match any {
            AnySlot::StateModel(s) => Some(s.clone()),
            AnySlot::Aggregator(_) => None,
        }
    }
}

impl Slotted for AggregatorKind {
    fn wrap(slot: Arc<Slot<Self>>) -> AnySlot {
        AnySlot::Aggregator(slot)
    }
    fn unwrap(any: &AnySlot) -> Option<Arc<Slot<Self>>> {
        match any {
            AnySlot::Aggregator(s) => Some(s.clone()),
            AnySlot::StateModel(_) => None,
        }
    }
}

/// Plugins by name, hot-swappable. Share it as `Arc<PluginRegistry>`.
pub struct PluginRegistry {
    host: Arc<PluginHost>,
    slots: RwLock<HashMap<String, AnySlot>>,
    /// Installs are rare; one at a time keeps "compare with the running
    /// version" honest.
    install_lock: Mutex<()>,
}

impl std::fmt::Debug for PluginRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginRegistry")
            .field("plugins", &self.versions())
            .finish()
    }
}

impl PluginRegistry {
    /// An empty registry on `host`.
    pub fn new(host: Arc<PluginHost>) -> Arc<Self> {
        Arc::new(Self {
            host,
            slots: RwLock::default(),
            install_lock: Mutex::default(),
        })
    }

    /// The host the registry runs plugins on.
    pub fn host(&self) -> &Arc<PluginHost> {
        &self.host
    }

    /// Installs the component in `path` under `name`, or swaps it in if
    /// `name` is taken (see [`PluginRegistry::install_bytes`]).
    ///
    /// # Errors
    /// [`SwapError`] with the step that refused the candidate.
    pub fn install_file(
        &self,
        name: &str,
        path: &Path,
        options: PluginOptions,
    ) -> Result<SwapReport, SwapError> {
        let bytes = std::fs::read(path).map_err(|source| SwapError {
            name: name.to_owned(),
            error: LoadError::Io {
                path: path.to_owned(),
                source,
            },
        })?;
        self.install_bytes(name, &bytes, options)
    }

    /// Installs a component under `name`; if a version is running, the
    /// candidate must be of the same world, describe itself, pass the swap
    /// policy of `options` and its canary call before it replaces it.
    ///
    /// # Errors
    /// [`SwapError`] with the step that refused the candidate; the running
    /// version keeps serving.
    pub fn install_bytes(
        &self,
        name: &str,
        bytes: &[u8],
        options: PluginOptions,
    ) -> Result<SwapReport, SwapError> {
        let _one_at_a_time = self
            .install_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let result = self.install_locked(name, bytes, options);
        match &result {
            Ok(r) if r.outcome != SwapOutcome::Unchanged => tracing::info!(
                plugin = name,
                outcome = ?r.outcome,
                from = r.previous.as_ref().map(|p| p.version.as_str()),
                to = %r.current.version,
                changes = %r.changes,
                prepare_ms = r.prepare_time.as_secs_f64() * 1e3,
                "plugin installed"
            ),
            Ok(_) => tracing::debug!(plugin = name, "plugin unchanged"),
            Err(e) => {
                tracing::warn!(plugin = name, reason = %e.one_line(), "plugin candidate refused")
            }
        }
        result.map_err(|error| SwapError {
            name: name.to_owned(),
            error,
        })
    }

    fn install_locked(
        &self,
        name: &str,
        bytes: &[u8],
        options: PluginOptions,
    ) -> Result<SwapReport, LoadError> {
        let started = Instant::now();
        let existing = self
            .slots
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(name)
            .cloned();
        if let Some(slot) = &existing {
            let info = slot.info();
            if info.digest == crate::cache::digest(bytes) {
                return Ok(SwapReport {
                    name: name.to_owned(),
                    outcome: SwapOutcome::Unchanged,
                    previous: Some(info.clone()),
                    current: info,
                    changes: Changes::default(),
                    prepare_time: started.elapsed(),
                    swap_time: Duration::ZERO,
                });
            }
        }
        let (component, digest) = self.host.compile_named(name, bytes)?;
        let world = self.host.detect_world(&component)?;
        if let Some(slot) = &existing
            && slot.world() != world
        {
            return Err(LoadError::KindMismatch {
                expected: slot.world(),
                found: world,
            });
        }
        match world {
            World::StateModel => {
                self.place::<StateModelKind>(name, existing, &component, digest, options, started)
            }
            World::Aggregator => {
                self.place::<AggregatorKind>(name, existing, &component, digest, options, started)
            }
        }
    }

    fn place<K: Slotted>(
        &self,
        name: &str,
        existing: Option<AnySlot>,
        component: &Component,
        digest: String,
        options: PluginOptions,
        started: Instant,
    ) -> Result<SwapReport, LoadError> {
        let policy = options.swap_policy;
        let candidate = Version::<K>::prepare(&self.host, name, component, digest, options, true)?;
        let report = |outcome, previous, current, changes, swap_time| SwapReport {
            name: name.to_owned(),
            outcome,
            previous,
            current,
            changes,
            prepare_time: started.elapsed(),
            swap_time,
        };
        let Some(slot) = existing.as_ref().and_then(K::unwrap) else {
            let current = candidate.info.clone();
            let slot = Arc::new(Slot::new(candidate));
            self.slots
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(name.to_owned(), K::wrap(slot));
            return Ok(report(
                SwapOutcome::Installed,
                None,
                current,
                Changes::default(),
                Duration::ZERO,
            ));
        };
        let changes = K::changes(&candidate.descriptor, &slot.current().descriptor);
        if !policy.allows(&changes) {
            return Err(LoadError::DefinitionChanged(changes));
        }
        let current = candidate.info.clone();
        let candidate = Arc::new(candidate);
        let prepared = report(SwapOutcome::Swapped, None, current, changes, Duration::ZERO);
        let swap_started = Instant::now();
        let (old, evicted) = slot.swap(candidate);
        let swap_time = swap_started.elapsed();
        drop(evicted);
        Ok(SwapReport {
            previous: Some(old.info.clone()),
            swap_time,
            ..prepared
        })
    }

    /// Puts back the version the last swap of `name` replaced; returns the
    /// version now serving, or `None` if there is nothing to roll back to.
    pub fn rollback(&self, name: &str) -> Option<Arc<VersionInfo>> {
        let _one_at_a_time = self
            .install_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let slot = self
            .slots
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(name)
            .cloned()?;
        match slot {
            AnySlot::StateModel(s) => s.rollback().map(|_| s.current().info.clone()),
            AnySlot::Aggregator(s) => s.rollback().map(|_| s.current().info.clone()),
        }
    }

    /// Removes `name`; calls in flight finish. Returns whether it existed.
    pub fn remove(&self, name: &str) -> bool {
        let removed = self
            .slots
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(name);
        match &removed {
            Some(AnySlot::StateModel(s)) => s.retire(),
            Some(AnySlot::Aggregator(s)) => s.retire(),
            None => {}
        }
        removed.is_some()
    }

    /// The state-model plugin installed under `name`.
    pub fn state_model(&self, name: &str) -> Option<StateModelHandle> {
        let slots = self.slots.read().unwrap_or_else(PoisonError::into_inner);
        slots
            .get(name)
            .and_then(StateModelKind::unwrap)
            .map(|slot| StateModelHandle { slot })
    }

    /// The aggregator plugin installed under `name`.
    pub fn aggregator(&self, name: &str) -> Option<AggregatorHandle> {
        let slots = self.slots.read().unwrap_or_else(PoisonError::into_inner);
        slots
            .get(name)
            .and_then(AggregatorKind::unwrap)
            .map(|slot| AggregatorHandle { slot })
    }

    /// The versions serving now, sorted by name.
    pub fn versions(&self) -> Vec<Arc<VersionInfo>> {
        let slots = self.slots.read().unwrap_or_else(PoisonError::into_inner);
        let mut v: Vec<_> = slots.values().map(AnySlot::info).collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        v
    }
}
