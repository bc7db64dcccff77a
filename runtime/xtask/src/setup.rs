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
    ensure_programs(
        "Redis",
        &[
            ("redis-server", "redis-server"),
            ("redis-sentinel", "redis-sentinel"),
        ],
    )
}

/// Installs Debian's `chromium` and `chromium-driver` unless both are on
/// the `PATH`: the web console's test drives a real headless browser.
pub fn ensure_chromium() -> Result<()> {
    ensure_programs(
        "Chromium",
        &[
            ("chromium", "chromium"),
            ("chromedriver", "chromium-driver"),
        ],
    )
}

/// Installs the Debian package of each `(program, package)` whose program
/// is not on the `PATH`.
fn ensure_programs(what: &str, wanted: &[(&str, &str)]) -> Result<()> {
    let missing: Vec<&(&str, &str)> = wanted
        .iter()
        .filter(|(program, _)| !which(program))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let packages: Vec<&str> = missing.iter().map(|(_, package)| *package).collect();
    step(&format!(
        "installing {what} (apt-get install {})",
        packages.join(" ")
    ));
    apt(&["update", "-qq"])?;
    let mut install = vec!["install", "-y", "-qq"];
    install.extend(&packages);
    apt(&install)?;
    if let Some((program, _)) = missing.iter().find(|(program, _)| !which(program)) {
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
