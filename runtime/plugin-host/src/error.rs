//! The errors of the plugin host: why a call failed ([`CallError`]) and why
//! a plugin could not be loaded or swapped in ([`LoadError`]).

use std::path::PathBuf;
use std::time::Duration;

use strand_model::plugin::Changes;

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
    /// The plugin trapped: a Rust panic, an uncaught Python or JavaScript
    /// exception, `unreachable`, a bad memory access, …
    #[error("{}", trap_message(trap, output.as_deref()))]
    Trap {
        /// wasmtime's trap (often only `wasm unreachable instruction
        /// executed`).
        trap: String,
        /// What the call wrote to stderr before it trapped (its end, at
        /// most a few KiB): the exception and traceback, or the panic
        /// message. `None` when it wrote nothing or had the host's stdio.
        output: Option<String>,
    },
    /// A fresh instance could not be created for the call.
    #[error("could not instantiate the plugin: {0}")]
    Instantiate(String),
}

/// A trap with the plugin's last words first: they say what went wrong,
/// the trap only how the guest stopped.
fn trap_message(trap: &str, output: Option<&str>) -> String {
    match output {
        Some(output) => format!(
            "plugin failed: {} (then trapped: {trap}); it wrote to stderr:\n{output}",
            guest_error_line(output)
        ),
        None => format!("plugin trapped: {trap}"),
    }
}

/// The line of a failed call's stderr that says what went wrong: a Python
/// exception after its traceback, the value a JavaScript plugin threw
/// (componentize-js reports it when it cannot be the `err` variant), a
/// Rust panic's message, else the last line that is not the runtime's
/// boilerplate.
pub fn guest_error_line(output: &str) -> String {
    let lines: Vec<&str> = output.lines().collect();
    if let Some(start) = lines
        .iter()
        .rposition(|l| l.trim_start() == "Traceback (most recent call last):")
        && let Some(exception) = lines[start + 1..]
            .iter()
            .find(|l| !l.is_empty() && !l.starts_with(char::is_whitespace))
    {
        return exception.trim().to_owned();
    }
    if let Some(thrown) = lines.iter().find_map(|l| {
        let (_, rest) = l.split_once("(received `")?;
        rest.rsplit_once("`)").map(|(value, _)| value)
    }) {
        return thrown.trim().to_owned();
    }
    if let Some(at) = lines.iter().position(|l| l.contains(" panicked at "))
        && let Some(message) = lines.get(at + 1)
    {
        return message.trim().to_owned();
    }
    let boilerplate = |l: &str| {
        l.starts_with("note: run with `RUST_BACKTRACE")
            || l.starts_with("Redirecting call to abort()")
            || l.trim().is_empty()
    };
    lines
        .iter()
        .rev()
        .find(|l| !boilerplate(l))
        .map_or_else(String::new, |l| l.trim().to_owned())
}

impl CallError {
    /// A trap without guest output.
    pub fn trap(trap: impl Into<String>) -> Self {
        Self::Trap {
            trap: trap.into(),
            output: None,
        }
    }

    /// The reason on one line, without the plugin's output (a trap says
    /// the line of it that names the error).
    pub fn summary(&self) -> String {
        match self {
            Self::Trap {
                trap,
                output: Some(output),
            } => format!(
                "plugin failed: {} (then trapped: {trap})",
                guest_error_line(output)
            ),
            other => one_line(&other.to_string()),
        }
    }

    /// What the plugin wrote to stderr before failing, if anything.
    pub fn guest_output(&self) -> Option<&str> {
        match self {
            Self::Trap { output, .. } => output.as_deref(),
            _ => None,
        }
    }

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
    /// It imports an interface (with functions or resources) that this
    /// host does not provide to plugins of its world.
    #[error("imports {import}, which this host does not provide (it provides: {provided})")]
    UnprovidedImport {
        /// The import, as the component names it
        /// (`acme:inventory/stock@0.1.0`).
        import: String,
        /// What the host provides to the world ([`crate::provided::describe`]).
        provided: String,
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
    /// The reason on one line (for `strand plugin check` and reports),
    /// without what the plugin wrote to stderr ([`LoadError::guest_output`]).
    pub fn one_line(&self) -> String {
        match self {
            Self::Describe(call) => format!("its self-description failed: {}", call.summary()),
            Self::Canary(call) => format!("canary call failed: {}", call.summary()),
            other => one_line(&other.to_string()),
        }
    }

    /// What the plugin wrote to stderr before its self-description or
    /// canary call failed, if anything.
    pub fn guest_output(&self) -> Option<&str> {
        match self {
            Self::Describe(call) | Self::Canary(call) => call.guest_output(),
            _ => None,
        }
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The plugin host could not start (engine configuration, linker, cache
/// directory).
#[derive(Debug, thiserror::Error)]
#[error("cannot start the plugin host: {0}")]
pub struct HostInitError(pub String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_error_line_of_each_toolchain() {
        let python = "noisy stderr: x\nTraceback (most recent call last):\n  File \"/0/app.py\", line 57, in transition\n  File \"/0/app.py\", line 36, in leave_online\nValueError: noisy cannot leave ONLINE\n\nthread '<unnamed>' (1) panicked at runtime/src/lib.rs:1293:29:\nPython function threw an unexpected exception\nnote: run with `RUST_BACKTRACE=1` environment variable to display a backtrace";
        assert_eq!(
            guest_error_line(python),
            "ValueError: noisy cannot leave ONLINE"
        );
        let js = "noisy stderr: x\ninvalid variant tag value `undefined` (received `Error: noisy cannot leave ONLINE`) specified for `TransitionError`\nStack:\n  export_model_0_1_0$transition@/tmp/x/sources/initializer.js:672:17\n\nRedirecting call to abort() to mozalloc_abort";
        assert_eq!(guest_error_line(js), "Error: noisy cannot leave ONLINE");
        let rust = "thread '<unnamed>' panicked at faulty/src/lib.rs:62:13:\ndeliberate trap in trap_0\nnote: run with `RUST_BACKTRACE=1` environment variable to display a backtrace";
        assert_eq!(guest_error_line(rust), "deliberate trap in trap_0");
        assert_eq!(
            guest_error_line("a\nsomething broke\n\n"),
            "something broke"
        );
        let e = CallError::Trap {
            trap: "wasm trap: wasm `unreachable` instruction executed".into(),
            output: Some(python.into()),
        };
        let shown = e.to_string();
        assert!(
            shown.starts_with(
                "plugin failed: ValueError: noisy cannot leave ONLINE (then trapped: wasm trap"
            ),
            "{shown}"
        );
        assert!(shown.contains("Traceback"), "{shown}");
    }
}
