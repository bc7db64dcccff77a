//! `cargo xtask`: the two commands a newcomer needs.
//!
//! * `cargo xtask quickstart [ARGS…]` installs what is missing, builds the
//!   plugins and `strand`, and runs `strand quickstart ARGS…` (a local
//!   cluster on a private ZooKeeper unless `--zk` is given).
//! * `cargo xtask test` installs what is missing, builds the plugins, runs
//!   the plugin SDK's unit tests and the whole test suite.
//! * `cargo xtask redis-failover [ARGS…]` (an example, not a set-up step)
//!   installs Redis and ZooKeeper if missing, builds the plugins, `strand`
//!   and `redis-failover`, and runs `redis-failover ARGS…`.
//! * `cargo xtask sentinel-bench [ARGS…]` (a benchmark) does the same with
//!   release builds and runs `redis-failover compare-sentinel ARGS…`: Strand
//!   against Redis Sentinel on the same redis-servers.
//!
//! Both say what they do before doing it, and stop at the first failing
//! step with its reason.

mod plugins;
mod setup;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context, Result, bail};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("xtask: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

const USAGE: &str = "usage: cargo xtask <quickstart [ARGS…] | test [CARGO TEST ARGS…] | redis-failover [ARGS…] | sentinel-bench [ARGS…]>";

fn run(args: &[String]) -> Result<()> {
    let root = workspace_root()?;
    let Some((command, rest)) = args.split_first() else {
        bail!("{USAGE}");
    };
    match command.as_str() {
        "quickstart" => quickstart(&root, rest),
        "test" => test(&root, rest),
        "redis-failover" => redis_failover(&root, rest, Profile::Debug),
        "sentinel-bench" => redis_failover(&root, rest, Profile::Release),
        "-h" | "--help" | "help" => {
            eprintln!("{USAGE}");
            Ok(())
        }
        other => bail!("unknown command `{other}`; {USAGE}"),
    }
}

fn quickstart(root: &Path, args: &[String]) -> Result<()> {
    let uses_own_zk = args.iter().any(|a| a == "--zk" || a.starts_with("--zk="));
    if !uses_own_zk {
        setup::ensure_zookeeper()?;
    }
    plugins::build_plugins(root)?;
    step("building strand");
    run_cargo(root, &["build", "--package", "strand"])?;
    step("running strand quickstart");
    let strand = target_dir(root).join("debug").join("strand");
    let plugin_dir = root.join("plugins/target/wasm32-wasip2/release");
    let status = Command::new(&strand)
        .arg("quickstart")
        .arg("--plugin-dir")
        .arg(&plugin_dir)
        .args(args)
        .status()
        .with_context(|| format!("running {}", strand.display()))?;
    if !status.success() {
        bail!("strand quickstart failed ({status})");
    }
    Ok(())
}

/// How `strand` and the example are built.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Profile {
    /// `cargo build`: the example (a demonstration).
    Debug,
    /// `cargo build --release`: the Sentinel comparison (a benchmark).
    Release,
}

fn redis_failover(root: &Path, args: &[String], profile: Profile) -> Result<()> {
    setup::ensure_zookeeper()?;
    setup::ensure_redis()?;
    plugins::build_plugins(root)?;
    let (what, mut build, dir) = match profile {
        Profile::Debug => ("", vec!["build"], "debug"),
        Profile::Release => (" (release)", vec!["build", "--release"], "release"),
    };
    step(&format!("building strand and redis-failover{what}"));
    build.extend(["--package", "strand", "--package", "strand-redis-failover"]);
    run_cargo(root, &build)?;
    step("running redis-failover");
    let bin = target_dir(root).join(dir);
    let mut command = Command::new(bin.join("redis-failover"));
    command
        .arg("--strand")
        .arg(bin.join("strand"))
        .arg("--plugin")
        .arg(root.join("plugins/target/wasm32-wasip2/release/redis_master_slave.wasm"));
    if profile == Profile::Release {
        command.arg("compare-sentinel");
    }
    let status = command
        .args(args)
        .status()
        .context("running redis-failover")?;
    if !status.success() {
        bail!("redis-failover failed ({status})");
    }
    Ok(())
}

fn test(root: &Path, args: &[String]) -> Result<()> {
    setup::ensure_zookeeper()?;
    setup::ensure_redis()?;
    setup::ensure_chromium()?;
    plugins::build_plugins(root)?;
    plugins::test_sdk(root, args.iter().any(|a| a == "--no-run"))?;
    plugins::build_polyglot_plugins(root)?;
    step("running the test suite (cargo test --workspace)");
    let mut cargo_args = vec!["test", "--workspace"];
    cargo_args.extend(args.iter().map(String::as_str));
    run_cargo(root, &cargo_args)
}

/// Prints a progress line.
pub(crate) fn step(what: &str) {
    eprintln!("==> {what}");
}

fn run_cargo(root: &Path, args: &[&str]) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(&cargo)
        .args(args)
        .current_dir(root)
        .status()
        .with_context(|| format!("running {cargo}"))?;
    if !status.success() {
        bail!("`cargo {}` failed ({status})", args.join(" "));
    }
    Ok(())
}

fn workspace_root() -> Result<PathBuf> {
    // `cargo xtask` (`cargo run`) says where xtask's manifest is at run
    // time; the compile-time value can name another checkout when a
    // target dir is shared between checkouts and cargo finds the binary
    // fresh.
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest
        .ancestors()
        .nth(2)
        .map(Path::to_path_buf)
        .context("xtask is not inside the workspace")
}

fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
}
