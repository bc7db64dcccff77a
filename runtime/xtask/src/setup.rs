//! Installing what the commands need on a fresh machine: Debian's
//! `zookeeper` package (and with it a Java runtime), and for the Python and
//! JavaScript plugins Node.js with npm and Python's `venv` module (the
//! toolchains themselves come from PyPI and npm, see `strand-plugin-build`).

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::step;

/// The jar the local ZooKeeper launcher runs.
const ZOOKEEPER_JAR: &str = "/usr/share/java/zookeeper.jar";

/// Installs Debian's `zookeeper` package unless it is there already.
pub fn ensure_zookeeper() -> Result<()> {
    if Path::new(ZOOKEEPER_JAR).exists() && which("java") {
        return Ok(());
    }
    step("installing ZooKeeper (apt-get install zookeeper)");
    apt(&["update", "-qq"])?;
    apt(&["install", "-y", "-qq", "zookeeper"])?;
    if !Path::new(ZOOKEEPER_JAR).exists() {
        bail!("apt-get installed `zookeeper` but {ZOOKEEPER_JAR} is still missing");
    }
    Ok(())
}

/// Installs Debian's `redis-server` (with `redis-cli`) and `redis-sentinel`
/// unless both are on the `PATH`: the Redis failover example, its
/// comparison with Sentinel and their tests run real servers.
pub fn ensure_redis() -> Result<()> {
    let missing: Vec<&str> = ["redis-server", "redis-sentinel"]
        .into_iter()
        .filter(|program| !which(program))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    step(&format!(
        "installing Redis (apt-get install {})",
        missing.join(" ")
    ));
    apt(&["update", "-qq"])?;
    let mut install = vec!["install", "-y", "-qq"];
    install.extend(&missing);
    apt(&install)?;
    if let Some(program) = missing.iter().find(|program| !which(program)) {
        bail!("apt-get installed `{program}` but it is not on the PATH");
    }
    Ok(())
}

/// Installs Debian's `nodejs` and `npm` when npm is missing, and
/// `python3-venv` when `python3 -m venv` cannot work.
pub fn ensure_polyglot_prerequisites() -> Result<()> {
    let mut missing = Vec::new();
    if !which("npm") {
        missing.extend(["nodejs", "npm"]);
    }
    let has_venv = Command::new("python3")
        .args(["-c", "import venv, ensurepip"])
        .output()
        .is_ok_and(|out| out.status.success());
    if !has_venv {
        missing.extend(["python3", "python3-venv"]);
    }
    if missing.is_empty() {
        return Ok(());
    }
    step(&format!(
        "installing {} (apt-get install)",
        missing.join(" ")
    ));
    apt(&["update", "-qq"])?;
    let mut args = vec!["install", "-y", "-qq"];
    args.extend(missing);
    apt(&args)
}

fn apt(args: &[&str]) -> Result<()> {
    let as_root = is_root();
    let mut command = if as_root {
        Command::new("apt-get")
    } else {
        let mut sudo = Command::new("sudo");
        sudo.arg("apt-get");
        sudo
    };
    let status = command
        .args(args)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .context("running apt-get")?;
    if !status.success() {
        bail!("`apt-get {}` failed ({status})", args.join(" "));
    }
    Ok(())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
        .unwrap_or(false)
}

/// True when `program` is on the `PATH`.
pub fn which(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}
