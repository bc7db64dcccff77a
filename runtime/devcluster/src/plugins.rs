//! Paths of the plugin components built from `plugins/`.
//!
//! [`plugin_path`] returns the `.wasm` of one plugin. Rust plugins: the
//! `plugins/` workspace is built first (once per test process) with
//! `cargo build --release --target wasm32-wasip2`; cargo itself decides what
//! is stale, so an edited plugin or WIT file is rebuilt before it is used.
//! Python and JavaScript plugins (`py-…`, `js-…`): built by
//! [`strand_plugin_build`], the same code `cargo xtask test` runs, which
//! installs the pinned toolchain on first use and rebuilds only when the
//! sources, the WIT or the pin changed.
//!
//! [`compiled_cache_dir`] is a plugin-host cache directory that survives
//! test runs, so the ~10–30 s compile of a Python or JavaScript component
//! happens once per machine, not once per test.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock, PoisonError};

use anyhow::{Context, Result, anyhow, bail};

/// The plugins' build target.
pub const WASM_TARGET: &str = "wasm32-wasip2";

/// Registry names of the plugins in `plugins/` (the crate names).
pub mod names {
    /// Helix's MasterSlave model.
    pub const MASTER_SLAVE: &str = "master-slave";
    /// The same model at version 0.2.0 (for hot-swap tests).
    pub const MASTER_SLAVE_NEXT: &str = "master-slave-next";
    /// Helix's OnlineOffline model.
    pub const ONLINE_OFFLINE: &str = "online-offline";
    /// Helix's LeaderStandby model.
    pub const LEADER_STANDBY: &str = "leader-standby";
    /// Helix's default customized-view aggregation.
    pub const DEFAULT_VIEW: &str = "default-view";
    /// The partition-summary aggregator.
    pub const PARTITION_SUMMARY: &str = "partition-summary";
    /// Traps, spins or hogs memory depending on the partition name.
    pub const FAULTY: &str = "faulty";
    /// An aggregator that lowercases states and traps, fails or spins on
    /// request (states `TRAP`, `FAIL`, `SPIN`).
    pub const FAULTY_AGGREGATOR: &str = "faulty-aggregator";
    /// Traps in its definition.
    pub const FAULTY_DEFINITION: &str = "faulty-definition";
    /// Built for an incompatible world version.
    pub const WRONG_WORLD: &str = "wrong-world";
    /// Imports `acme:inventory/stock@0.1.0`, which no host provides.
    pub const UNPROVIDED_IMPORT: &str = "unprovided-import";
    /// MasterSlave that POSTs / writes each transition to the URL / TCP
    /// address in its resource config (`NOTIFY_URL`, `NOTIFY_TCP`).
    pub const HTTP_NOTIFY: &str = "http-notify";
    /// `HttpNotify` written in Python (`plugins/python/http-notify`, built
    /// with `wasi:http`): POSTs each transition to `NOTIFY_URL`.
    pub const PY_HTTP_NOTIFY: &str = "py-http-notify";
    /// `HttpNotify` written in JavaScript (`plugins/js/http-notify`, `fetch`
    /// through `wasi:http`): POSTs each transition to `NOTIFY_URL`.
    pub const JS_HTTP_NOTIFY: &str = "js-http-notify";
    /// MasterSlave keeping real Redis replication in step
    /// (`strand:plugins/replicated-state-model`).
    pub const REDIS_MASTER_SLAVE: &str = "redis-master-slave";
    /// MasterSlave that reports what `strand:routing` tells it (peers in
    /// transition notes, routing changes as `ROUTING` customized states).
    pub const ROUTING_PROBE: &str = "routing-probe";
    /// Helix's MasterSlave model written in Python (`plugins/python/master-slave`).
    pub const PY_MASTER_SLAVE: &str = "py-master-slave";
    /// Helix's MasterSlave model written in JavaScript (`plugins/js/master-slave`).
    pub const JS_MASTER_SLAVE: &str = "js-master-slave";
    /// A Python model that prints and whose ONLINE -> OFFLINE raises an
    /// uncaught exception (`plugins/python/noisy`).
    pub const PY_NOISY: &str = "py-noisy";
    /// A JavaScript model that logs and whose ONLINE -> OFFLINE throws an
    /// `Error` (`plugins/js/noisy`).
    pub const JS_NOISY: &str = "js-noisy";
    /// A WASI command program (`plugins/programs/hello`).
    pub const HELLO_PROGRAM: &str = "hello";
    /// A WASI command program that spins, allocates, floods, exits or
    /// panics on request (`plugins/programs/stress`).
    pub const STRESS_PROGRAM: &str = "stress";
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The `plugins/` workspace.
pub fn plugins_dir() -> PathBuf {
    repo_root().join("plugins")
}

/// Where the built components land.
pub fn wasm_dir() -> PathBuf {
    plugins_dir()
        .join("target")
        .join(WASM_TARGET)
        .join("release")
}

/// A plugin-host cache directory for compiled components that outlives the
/// test process (`plugins/target/compiled`). Artefact names carry the
/// component's sha256 and the engine's compatibility hash, so hosts of
/// other builds or settings never pick up each other's files.
pub fn compiled_cache_dir() -> PathBuf {
    plugins_dir().join("target").join("compiled")
}

/// The built component of plugin `name` (a crate name in `plugins/`, or a
/// `py-…` / `js-…` plugin; see [`names`]), building it first if needed.
///
/// # Errors
/// When the wasm target or a polyglot toolchain cannot be set up, the build
/// fails, or there is no such plugin.
pub fn plugin_path(name: &str) -> Result<PathBuf> {
    if let Some(plugin) = strand_plugin_build::find(&plugins_dir(), name)? {
        return polyglot_path(&plugin);
    }
    ensure_built()?;
    let path = wasm_dir().join(format!("{}.wasm", name.replace('-', "_")));
    if !path.is_file() {
        bail!(
            "no plugin {name}: {} does not exist after building plugins/",
            path.display()
        );
    }
    Ok(path)
}

/// Builds `plugins/` once per process; later calls return the first result.
///
/// # Errors
/// As [`plugin_path`].
pub fn ensure_built() -> Result<()> {
    static BUILT: OnceLock<Result<(), String>> = OnceLock::new();
    BUILT
        .get_or_init(|| build().map_err(|e| format!("{e:#}")))
        .clone()
        .map_err(|e| anyhow!(e))
}

/// Builds a Python or JavaScript plugin once per process (later calls
/// return the first result).
fn polyglot_path(plugin: &strand_plugin_build::PolyglotPlugin) -> Result<PathBuf> {
    static BUILT: Mutex<BTreeMap<String, Result<PathBuf, String>>> = Mutex::new(BTreeMap::new());
    let mut built = BUILT.lock().unwrap_or_else(PoisonError::into_inner);
    built
        .entry(plugin.name.clone())
        .or_insert_with(|| {
            strand_plugin_build::build(&plugins_dir(), plugin)
                .map(|report| {
                    tracing::info!(
                        plugin = %plugin.name,
                        cached = report.cached,
                        secs = report.elapsed.as_secs_f64(),
                        "polyglot plugin ready"
                    );
                    report.output
                })
                .map_err(|e| format!("{e:#}"))
        })
        .clone()
        .map_err(|e| anyhow!(e))
}

fn build() -> Result<()> {
    check_target_installed()?;
    let dir = plugins_dir();
    tracing::info!(dir = %dir.display(), "building plugins");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .args(["build", "--release", "--target", WASM_TARGET])
        .current_dir(&dir)
        // The host's settings must not leak into the guest build: its own
        // target dir (not the host's CARGO_TARGET_DIR), no host rustflags.
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_RUSTFLAGS")
        .output()
        .context("cannot run cargo to build plugins/")?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(30).collect();
        bail!(
            "building plugins/ failed (cargo build --release --target {WASM_TARGET} in {}):\n{}",
            dir.display(),
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        );
    }
    Ok(())
}

/// Fails with the fix when the toolchain has no `wasm32-wasip2` std.
fn check_target_installed() -> Result<()> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let out = Command::new(rustc)
        .args(["--print", "sysroot"])
        .output()
        .context("cannot run rustc")?;
    let sysroot = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    if !sysroot.join("lib/rustlib").join(WASM_TARGET).is_dir() {
        bail!(
            "the {WASM_TARGET} target is not installed in {}: run `rustup target add {WASM_TARGET}` \
             (or `cargo xtask test`, which installs it)",
            sysroot.display()
        );
    }
    Ok(())
}
