//! [`CommandRunner`]: runs a WASI command component (`wasi:cli/command`, what
//! a Rust `fn main` built for `wasm32-wasip2` becomes) once, sandboxed: the
//! given argv and stdin, stdout and stderr captured up to a bound, a
//! deadline (epoch interruption, as plugin calls) and a memory cap (the
//! plugin limiter), and nothing else — no files, no environment, no
//! network, no host stdio.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use wasmtime::component::Linker;
use wasmtime_wasi::p2::bindings::sync::Command;
use wasmtime_wasi::p2::pipe::{MemoryInputPipe, MemoryOutputPipe};
use wasmtime_wasi::{I32Exit, WasiCtxBuilder};

use crate::engine::PluginHost;
use crate::error::{HostInitError, LoadError};
use crate::offload::off_async_runtime;
use crate::state::HostState;

/// The default cap on each of stdout and stderr.
pub const DEFAULT_OUTPUT_BYTES: usize = 64 << 10;

/// Limits of one program run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandLimits {
    /// How long the program may run.
    pub deadline: Duration,
    /// The cap on the sum of its linear memories, in bytes.
    pub memory_bytes: usize,
    /// The cap on each of stdout and stderr, in bytes.
    pub output_bytes: usize,
}

impl Default for CommandLimits {
    fn default() -> Self {
        Self {
            deadline: Duration::from_secs(10),
            memory_bytes: 64 << 20,
            output_bytes: DEFAULT_OUTPUT_BYTES,
        }
    }
}

/// How a program run ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CommandStatus {
    /// `main` returned or the program called `exit`.
    Exited {
        /// The exit code: 0 for success, 1 for failure (WASI preview 2's
        /// `wasi:cli/exit` carries only success or failure).
        code: i32,
    },
    /// The deadline passed and the program was interrupted.
    TimedOut {
        /// The deadline.
        deadline: Duration,
    },
    /// The program tried to grow its memory beyond the cap.
    OutOfMemory {
        /// The cap.
        limit_bytes: usize,
    },
    /// The program wrote more than the output cap.
    OutputLimit {
        /// The cap.
        limit_bytes: usize,
    },
    /// The program trapped (panic, `unreachable`, bad memory access, …).
    Trapped {
        /// The trap.
        reason: String,
    },
}

impl CommandStatus {
    /// True for a zero exit code.
    pub fn success(&self) -> bool {
        matches!(self, Self::Exited { code: 0 })
    }
}

impl std::fmt::Display for CommandStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Exited { code } => write!(f, "exited with code {code}"),
            Self::TimedOut { deadline } => write!(f, "timed out after {deadline:?}"),
            Self::OutOfMemory { limit_bytes } => {
                write!(f, "exceeded its memory cap of {limit_bytes} bytes")
            }
            Self::OutputLimit { limit_bytes } => {
                write!(f, "wrote more than {limit_bytes} bytes of output")
            }
            Self::Trapped { reason } => write!(f, "trapped: {reason}"),
        }
    }
}

/// What a program run produced. Output is kept even when the run failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandOutput {
    /// How it ended.
    pub status: CommandStatus,
    /// Its standard output (at most the output cap).
    pub stdout: Vec<u8>,
    /// Its standard error (at most the output cap).
    pub stderr: Vec<u8>,
    /// How long it ran.
    pub elapsed: Duration,
}

/// Runs WASI command components. One per process is enough; it shares the
/// host's engine, compiled-artefact cache and epoch ticker.
pub struct CommandRunner {
    host: Arc<PluginHost>,
    linker: Linker<HostState>,
}

impl std::fmt::Debug for CommandRunner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CommandRunner").finish_non_exhaustive()
    }
}

impl CommandRunner {
    /// A runner on `host`'s engine, linking WASI preview 2 only.
    ///
    /// # Errors
    /// When the WASI linker cannot be built.
    pub fn new(host: Arc<PluginHost>) -> Result<Self, HostInitError> {
        let mut linker = Linker::new(host.engine());
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)
            .and_then(|()| crate::net::bounded::shadow_blocking_io(&mut linker))
            .map_err(|e| HostInitError(format!("wasi: {e}")))?;
        Ok(Self { host, linker })
    }

    /// Runs `program` (component bytes) to completion or failure. Blocks
    /// the calling thread for up to `limits.deadline` (call it from
    /// `spawn_blocking` in async code).
    ///
    /// # Errors
    /// [`LoadError`] when the bytes are not a component, do not compile,
    /// are not a `wasi:cli/command` or cannot be instantiated; a program
    /// that fails while running is an `Ok` with a failed
    /// [`CommandOutput::status`].
    pub fn run(
        &self,
        program: &[u8],
        args: &[String],
        stdin: &[u8],
        limits: &CommandLimits,
    ) -> Result<CommandOutput, LoadError> {
        off_async_runtime(|| self.run_here(program, args, stdin, limits))
    }

    fn run_here(
        &self,
        program: &[u8],
        args: &[String],
        stdin: &[u8],
        limits: &CommandLimits,
    ) -> Result<CommandOutput, LoadError> {
        let (component, digest) = self.host.compile_named("program", program)?;
        let stdout = MemoryOutputPipe::new(limits.output_bytes);
        let stderr = MemoryOutputPipe::new(limits.output_bytes);
        // argv[0] is the program's name, as a shell would pass it.
        let mut argv = vec![format!("program-{}", &digest[..12.min(digest.len())])];
        argv.extend(args.iter().cloned());
        let wasi = WasiCtxBuilder::new()
            .args(&argv)
            .stdin(MemoryInputPipe::new(stdin.to_vec()))
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .build();
        let mut store = self.host.store_with(HostState::new(
            wasi,
            limits.memory_bytes,
            Arc::from(argv[0].as_str()),
            crate::net::SharedPolicy::default(),
        ));
        self.host.arm_deadline(&mut store, limits.deadline);
        let started = Instant::now();
        let command = Command::instantiate(&mut store, &component, &self.linker).map_err(|e| {
            LoadError::WrongWorld(format!("not a runnable wasi:cli/command component: {e:#}"))
        })?;
        let result = command.wasi_cli_run().call_run(&mut store);
        let elapsed = started.elapsed();
        let stdout = stdout.contents().to_vec();
        let stderr = stderr.contents().to_vec();
        let status = match result {
            Ok(Ok(())) => CommandStatus::Exited { code: 0 },
            Ok(Err(())) => CommandStatus::Exited { code: 1 },
            Err(e) => classify(&e, limits),
        };
        let status = name_the_cause(
            status,
            store.data().limiter.exceeded,
            stdout.len().max(stderr.len()),
            limits,
        );
        Ok(CommandOutput {
            status,
            stdout,
            stderr,
            elapsed,
        })
    }
}

/// Turns the error out of a run into how the run ended.
fn classify(e: &wasmtime::Error, limits: &CommandLimits) -> CommandStatus {
    if let Some(exit) = e.downcast_ref::<I32Exit>() {
        return CommandStatus::Exited { code: exit.0 };
    }
    if matches!(
        e.downcast_ref::<wasmtime::Trap>(),
        Some(wasmtime::Trap::Interrupt)
    ) {
        return CommandStatus::TimedOut {
            deadline: limits.deadline,
        };
    }
    CommandStatus::Trapped {
        reason: e.root_cause().to_string(),
    }
}

/// A failed run after a refused memory growth, or with an output stream
/// within one write (4 KiB, WASI's usual permit) of its cap, failed
/// because of that limit: Rust's allocation-failure handler aborts and
/// its `print!` panics on a failed write, hiding the cause.
fn name_the_cause(
    status: CommandStatus,
    memory_refused: bool,
    most_output: usize,
    limits: &CommandLimits,
) -> CommandStatus {
    if status.success() || matches!(status, CommandStatus::TimedOut { .. }) {
        return status;
    }
    if memory_refused {
        return CommandStatus::OutOfMemory {
            limit_bytes: limits.memory_bytes,
        };
    }
    if most_output + 4096 > limits.output_bytes {
        return CommandStatus::OutputLimit {
            limit_bytes: limits.output_bytes,
        };
    }
    status
}
