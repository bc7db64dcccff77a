//! The errors of the plugin host: why a call failed ([`CallError`]) and why
//! a plugin could not be loaded or swapped in ([`LoadError`]).

use std::path::PathBuf;
use std::time::Duration;

use crate::definition::Changes;
use crate::world::World;

/// How the plugin itself rejected a call (its `err` result).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Rejection {
    /// `transition-error.fatal`: the partition goes to ERROR.
    Fatal,
    /// `transition-error.retryable`: the host may retry.
    Retryable,
    /// `transition-error.illegal-transition`: the model forbids the pair.
    IllegalTransition,
    /// `aggregate-error.invalid-input`.
    InvalidInput,
    /// `aggregate-error.failed`.
    Failed,
}

/// Why one plugin call failed. The host keeps serving: the store that ran a
/// faulting call is discarded, never reused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// The plugin returned its `err` case.
    #[error("plugin rejected the call ({kind:?}): {message}")]
    Rejected {
        /// Which `err` case.
        kind: Rejection,
        /// The plugin's message.
        message: String,
    },
    /// The call ran past its deadline and was interrupted.
    #[error("plugin call timed out after {elapsed:?} (deadline {deadline:?})")]
    Timeout {
        /// The deadline of the call.
        deadline: Duration,
        /// When it was interrupted.
        elapsed: Duration,
    },
    /// The plugin tried to grow its memory beyond the cap.
    #[error("plugin exceeded its memory cap of {limit_bytes} bytes: {trap}")]
    MemoryLimit {
        /// The cap.
        limit_bytes: usize,
        /// The trap that followed the refused growth.
        trap: String,
    },
    /// The plugin trapped (panic, `unreachable`, bad memory access, …).
    #[error("plugin trapped: {0}")]
    Trap(String),
    /// A fresh instance could not be created for the call.
    #[error("could not instantiate the plugin: {0}")]
    Instantiate(String),
}

impl CallError {
    /// Whether the host may retry the call later (only a `retryable` reject).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::Rejected {
                kind: Rejection::Retryable,
                ..
            }
        )
    }

    /// Whether the plugin faulted (trap, timeout, memory), as opposed to
    /// rejecting the call in an orderly way.
    pub fn is_fault(&self) -> bool {
        !matches!(self, Self::Rejected { .. })
    }
}

/// Why a plugin could not be loaded, checked or swapped in. A candidate that
/// fails any step is never installed; the running version keeps serving.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The bytes are not a WebAssembly component.
    #[error("not a component: {0}")]
    NotAComponent(String),
    /// wasmtime could not compile it (or load its cached artefact).
    #[error("cannot compile: {0}")]
    Compile(String),
    /// It exports none of the plugin interfaces this host knows.
    #[error("wrong world: {0}")]
    WrongWorld(String),
    /// It is built for a plugin world of another kind than expected.
    #[error("wrong world: expected a {expected} plugin, found a {found} plugin")]
    KindMismatch {
        /// The kind the slot runs.
        expected: World,
        /// The kind of the candidate.
        found: World,
    },
    /// It targets a version of a Strand interface this host cannot serve.
    #[error("incompatible version: exports {found}, this host supports {supported}")]
    IncompatibleVersion {
        /// The interface the component exports.
        found: String,
        /// What the host supports.
        supported: String,
    },
    /// Its imports or exports do not type-check against the world.
    #[error("does not fit the {world} world: {reason}")]
    TypeCheck {
        /// The world checked against.
        world: World,
        /// wasmtime's message.
        reason: String,
    },
    /// Calling `definition` / `info` failed (trap, timeout, …).
    #[error("its self-description failed: {0}")]
    Describe(CallError),
    /// Its definition is unusable.
    #[error("invalid definition: {0}")]
    InvalidDefinition(String),
    /// Its definition differs from the running version's and the swap policy
    /// refuses the change.
    #[error("definition changed and the swap policy refuses it: {0}")]
    DefinitionChanged(Changes),
    /// The canary call failed.
    #[error("canary call failed: {0}")]
    Canary(CallError),
    /// The compiled-artefact cache failed.
    #[error("artefact cache: {0}")]
    Cache(String),
}

impl LoadError {
    /// The reason on one line (for `strand plugin check` and reports).
    pub fn one_line(&self) -> String {
        self.to_string()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The plugin host could not start (engine configuration, linker, cache
/// directory).
#[derive(Debug, thiserror::Error)]
#[error("cannot start the plugin host: {0}")]
pub struct HostInitError(pub String);
