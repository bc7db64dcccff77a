//! Paths of the plugin components built from `plugins/`.
//!
//! [`plugin_path`] returns the `.wasm` of one plugin, building the
//! `plugins/` workspace first (once per test process) with
//! `cargo build --release --target wasm32-wasip2`; cargo itself decides what
//! is stale, so an edited plugin or WIT file is rebuilt before it is used.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

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
    /// Traps in its definition.
    pub const FAULTY_DEFINITION: &str = "faulty-definition";
    /// Built for an incompatible world version.
    pub const WRONG_WORLD: &str = "wrong-world";
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

/// The built component of plugin `name` (a crate name in `plugins/`, see
/// [`names`]), building the plugins first if needed.
///
/// # Errors
/// When the wasm target is not installed, the build fails, or there is no
/// such plugin.
pub fn plugin_path(name: &str) -> Result<PathBuf> {
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
