//! The wasmtime host for Strand plugins: Helix state models and
//! customized-view aggregators as WebAssembly components (`wit/`).
//!
//! Start with [`PluginHost::new`] (one per process: it owns the wasmtime
//! `Engine`), put plugins in a [`PluginRegistry`] with
//! [`PluginRegistry::install_file`] or [`PluginRegistry::watch_dir`], and call
//! them through a [`StateModelHandle`] (participants: one call per replica
//! transition) or an [`AggregatorHandle`] (controllers).
//!
//! # Guarantees
//! - Compiled components are cached on disk by content hash and engine
//!   compatibility hash ([`HostConfig::cache_dir`]).
//! - Calls reuse pooled instances (a call, not an instantiation, per
//!   transition); concurrent calls run on separate instances in parallel.
//! - Every call has a wall-clock deadline (default 30 s), honoured on a
//!   loaded machine too, and every instance a memory cap (default 64 MiB).
//! - Plugins get no files, network, environment or stdio unless
//!   [`Grants`] say so; their stdout and stderr go to the host's log, line
//!   by line, tagged `name@version`, capped per call. Network grants are
//!   rules ([`net::NetRule`]: `http://HOST:PORT[/prefix]`, `tcp:HOST:PORT`,
//!   `dns`); a denied request or connection fails in the plugin with a
//!   permission error and is logged. Waits in `wasi:io` (polls, blocking
//!   stream calls, HTTP responses) end at the call's deadline.
//! - A trap, timeout, memory blow-up or `err` result is a [`CallError`];
//!   a trap carries what the call wrote to stderr (a Python traceback, a
//!   JavaScript exception, a Rust panic message); a store that faulted is
//!   dropped, never reused.
//! - Guest code never runs on a thread that drives an async runtime (see
//!   `offload`), so WASI's sync bindings work from async callers.
//! - A swap is atomic: calls in flight finish on the old version, a call
//!   never mixes versions, and a refused candidate is never installed.
//!
//! [`CommandRunner`] runs whole WASI command programs (`fn main`) under
//! the same deadline and memory machinery, for the remote code runner.

pub mod bindings;
mod cache;
pub mod command;
pub mod customized;
mod deadline;
mod engine;
pub mod error;
mod grants;
mod handles;
mod inspect;
mod kind;
mod limits;
pub mod net;
mod offload;
mod options;
mod output;
pub mod provided;
mod registry;
pub mod routing;
mod slot;
mod state;
mod swap;
mod version;
mod watch;
mod world;

pub use command::{CommandLimits, CommandOutput, CommandRunner, CommandStatus};
pub use customized::{CustomizedStateStore, InMemoryCustomizedState, StateStoreError};
pub use engine::{CompileEvent, CompileObserver, HostConfig, PluginHost, default_cache_dir};
pub use error::{CallError, HostInitError, LoadError, Rejection, guest_error_line};
pub use grants::Grants;
pub use handles::{
    AggregateOutcome, AggregatorHandle, InstanceState, PartitionStates, StateModelHandle,
    TransitionContext, TransitionOutcome,
};
pub use inspect::{
    HostInspector, PluginReport, SandboxOutcome, SandboxRun, check_bytes, check_file,
    inspect_bytes, inspect_file,
};
pub use limits::{DEFAULT_DEADLINE, DEFAULT_MEMORY_BYTES, DEFAULT_OUTPUT_BYTES, Limits};
pub use options::{CallOptions, PluginOptions};
pub use registry::{PluginRegistry, SwapError, SwapOutcome, SwapReport};
pub use state::HostState;
pub use strand_model::plugin::{AggregatorInfo, Changes, StateDef, StateModelSpec, Transition};
pub use swap::SwapPolicy;
pub use version::VersionInfo;
pub use watch::{DirWatcher, WatchError};
pub use world::World;

/// Raw wasmtime access for benchmarks that compare the host's call path
/// with a bare typed call on the same component. Not a stable API.
#[doc(hidden)]
pub mod raw {
    use wasmtime::Store;
    use wasmtime::component::Component;

    pub use crate::bindings::state_model::{StateModel, StateModelPre};
    use crate::{Grants, HostState, Limits, PluginHost};

    /// The typed pre-instantiated state model, as the host builds it.
    pub fn state_model_pre(
        host: &PluginHost,
        component: &Component,
    ) -> wasmtime::Result<StateModelPre<HostState>> {
        StateModelPre::new(
            host.linker(crate::World::StateModel)
                .instantiate_pre(component)?,
        )
    }

    /// A store with default limits and no grants, deadline far away.
    pub fn store(host: &PluginHost) -> Result<Store<HostState>, String> {
        let mut store = host.new_store("bench".into(), &Limits::default(), &Grants::default())?;
        store.set_epoch_deadline(u64::MAX / 4);
        Ok(store)
    }
}
