//! Building the plugin components: makes sure the `wasm32-wasip2` target is
//! installed, then builds the separate `plugins/` workspace in release mode;
//! [`test_sdk`] runs the plugin SDK's unit tests on the host;
//! [`build_polyglot_plugins`] builds the Python and JavaScript plugins with
//! `strand-plugin-build` (the same code the tests use).

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

const WASM_TARGET: &str = "wasm32-wasip2";

/// Installs the wasm target if missing and builds `root/plugins`; the
/// components land in `plugins/target/wasm32-wasip2/release/*.wasm`.
pub fn build_plugins(root: &Path) -> Result<()> {
    ensure_target()?;
    let dir = root.join("plugins");
    eprintln!("xtask: building plugins ({})", dir.display());
    let status = guest_cargo(&dir)
        .args(["build", "--release", "--target", WASM_TARGET])
        .status()
        .context("cannot run cargo")?;
    if !status.success() {
        bail!("building plugins/ failed ({status})");
    }
    Ok(())
}

/// Runs the unit tests of `plugins/sdk` (pure logic: model specs, lookups,
/// error mapping; with its `http` feature, URLs and JSON) on the host, in release mode so that they reuse the
/// proc-macros the plugin build compiled; with `no_run`, only compiles them.
pub fn test_sdk(root: &Path, no_run: bool) -> Result<()> {
    let host = host_triple()?;
    let dir = root.join("plugins");
    eprintln!(
        "xtask: testing the plugin SDK (cargo test --release -p strand-plugin-sdk --features http --target {host})"
    );
    let mut command = guest_cargo(&dir);
    command.args([
        "test",
        "--release",
        "-p",
        "strand-plugin-sdk",
        "--features",
        "http",
        "--target",
        &host,
    ]);
    if no_run {
        command.arg("--no-run");
    }
    let status = command.status().context("cannot run cargo")?;
    if !status.success() {
        bail!("the plugin SDK's tests failed ({status})");
    }
    Ok(())
}

/// `cargo` in the `plugins/` workspace `dir`, with its own target dir and
/// none of the host build's settings.
fn guest_cargo(dir: &Path) -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS");
    command
}

/// The host's target triple (`rustc -vV`).
fn host_triple() -> Result<String> {
    let out = Command::new("rustc")
        .arg("-vV")
        .output()
        .context("cannot run rustc")?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(str::to_owned)
        .context("`rustc -vV` names no host triple")
}

/// Builds the Python and JavaScript plugins (`plugins/python/*`,
/// `plugins/js/*`), installing their pinned toolchains on first use; an
/// unchanged plugin is not rebuilt.
pub fn build_polyglot_plugins(root: &Path) -> Result<()> {
    crate::setup::ensure_polyglot_prerequisites()?;
    let dir = root.join("plugins");
    eprintln!(
        "xtask: building Python and JavaScript plugins (toolchains in {})",
        strand_plugin_build::toolchain::root(&dir).display()
    );
    for report in strand_plugin_build::build_all(&dir)? {
        eprintln!(
            "xtask:   {} {} ({:.1} MiB, {:.1} s) -> {}",
            report.plugin.name,
            if report.cached { "up to date" } else { "built" },
            report.size_bytes as f64 / f64::from(1 << 20),
            report.elapsed.as_secs_f64(),
            report.output.display()
        );
    }
    Ok(())
}

fn ensure_target() -> Result<()> {
    let sysroot = Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .context("cannot run rustc")?;
    let sysroot = String::from_utf8_lossy(&sysroot.stdout).trim().to_owned();
    if Path::new(&sysroot)
        .join("lib/rustlib")
        .join(WASM_TARGET)
        .is_dir()
    {
        return Ok(());
    }
    eprintln!("xtask: installing the {WASM_TARGET} target (rustup target add {WASM_TARGET})");
    let status = Command::new("rustup")
        .args(["target", "add", WASM_TARGET])
        .status()
        .context("cannot run rustup; install the target with your toolchain manager")?;
    if !status.success() {
        bail!("rustup target add {WASM_TARGET} failed ({status})");
    }
    Ok(())
}
