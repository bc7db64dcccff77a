//! `strand plugin deploy | list | history | rollback | remove`: plugins
//! deployed to a cluster (`strand-plugin-store`). Each prints text, or with
//! `--json` the store's own values; a refusal is one line on stderr and
//! exit status 1, and changes nothing.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, UNIX_EPOCH};

use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use serde::Serialize;
use strand_plugin_store::{
    DEFAULT_MAX_SIZE, DeployOptions, Deployment, PluginStore, PluginSummary, StoreError,
};
use strand_zk::Zk;

use crate::commands::GlobalArgs;

/// The cluster a store command works on.
#[derive(Debug, Args)]
pub struct ClusterArg {
    /// The cluster.
    #[arg(long)]
    pub cluster: String,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Options of `strand plugin deploy`.
#[derive(Debug, Args)]
pub struct DeployArgs {
    /// Cluster and output format.
    #[command(flatten)]
    pub target: ClusterArg,
    /// The component file.
    pub file: PathBuf,
    /// The plugin's name (default: the name the component reports, e.g.
    /// its state model definition's).
    #[arg(long)]
    pub name: Option<String>,
    /// Replace a definition resources use even though it changes their
    /// states, or a version already deployed with other bytes.
    #[arg(long)]
    pub force: bool,
    /// Refuse components larger than this (bytes, or with a K/M/G suffix,
    /// powers of 1024).
    #[arg(long, default_value = "64M", value_parser = parse_size)]
    pub max_size: usize,
    /// Recorded as who deployed (default: $USER).
    #[arg(long)]
    pub by: Option<String>,
}

/// Options of `strand plugin history`.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Cluster and output format.
    #[command(flatten)]
    pub target: ClusterArg,
    /// The plugin.
    pub name: String,
}

/// Options of `strand plugin rollback`.
#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// Cluster and output format.
    #[command(flatten)]
    pub target: ClusterArg,
    /// The plugin.
    pub name: String,
    /// The version (or a SHA-256 prefix of 8+ digits) to make active;
    /// default: the version active before the current one.
    #[arg(long)]
    pub to: Option<String>,
    /// Roll back even if the definition changes the states of a model in use.
    #[arg(long)]
    pub force: bool,
}

/// Options of `strand plugin remove`.
#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// Cluster and output format.
    #[command(flatten)]
    pub target: ClusterArg,
    /// The plugin.
    pub name: String,
    /// The version (or SHA-256 prefix) to remove; not the active one.
    #[arg(long)]
    pub version: String,
}

/// A store command.
#[derive(Debug)]
pub enum StoreCommand {
    /// Deploy a component.
    Deploy(DeployArgs),
    /// List plugins.
    List(ClusterArg),
    /// A plugin's versions.
    History(HistoryArgs),
    /// Make another version active.
    Rollback(RollbackArgs),
    /// Remove a version.
    Remove(RemoveArgs),
}

/// Runs a store command.
pub async fn run(global: &GlobalArgs, cmd: StoreCommand) -> Result<ExitCode> {
    let zk = Zk::connect(global.zk_config()?).await?;
    let cluster = |t: &ClusterArg| PluginStore::new(zk.clone(), &t.cluster);
    match cmd {
        StoreCommand::Deploy(args) => {
            let store = cluster(&args.target);
            let bytes = read_capped(&args.file, args.max_size)?;
            let mut opts = DeployOptions {
                name: args.name.clone(),
                force: args.force,
                max_size: args.max_size,
                ..DeployOptions::default()
            };
            if let Some(by) = args.by {
                opts.deployed_by = by;
            }
            let d = store.deploy(&bytes, &opts).await.map_err(refused)?;
            output(args.target.json, &d, || {
                format!(
                    "deployed {} {} ({}, sha256 {}, {} bytes) to {}; it is the active version\n",
                    d.name,
                    d.version,
                    d.kind,
                    short(&d.sha256),
                    d.size,
                    store.cluster()
                )
            })
        }
        StoreCommand::List(target) => {
            let list = cluster(&target).list().await.map_err(refused)?;
            output(target.json, &list, || render_list(&list))
        }
        StoreCommand::History(args) => {
            let history = cluster(&args.target)
                .history(&args.name)
                .await
                .map_err(refused)?;
            output(args.target.json, &history, || render_history(&history))
        }
        StoreCommand::Rollback(args) => {
            let d = cluster(&args.target)
                .rollback_with(&args.name, args.to.as_deref(), args.force)
                .await
                .map_err(refused)?;
            output(args.target.json, &d, || {
                format!(
                    "{} {} (sha256 {}) is the active version again\n",
                    d.name,
                    d.version,
                    short(&d.sha256)
                )
            })
        }
        StoreCommand::Remove(args) => {
            let d = cluster(&args.target)
                .remove(&args.name, &args.version)
                .await
                .map_err(refused)?;
            output(args.target.json, &d, || {
                format!(
                    "removed {} {} (sha256 {})\n",
                    d.name,
                    d.version,
                    short(&d.sha256)
                )
            })
        }
    }
}

/// Reads the file, refusing one over the cap before reading it.
fn read_capped(file: &Path, max: usize) -> Result<Vec<u8>> {
    let size = std::fs::metadata(file)
        .with_context(|| format!("cannot read {}", file.display()))?
        .len();
    if usize::try_from(size).map_or(true, |s| s > max) {
        bail!(
            "{}: {}",
            file.display(),
            StoreError::TooLarge {
                size: usize::try_from(size).unwrap_or(usize::MAX),
                max
            }
        );
    }
    std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))
}

fn refused(e: StoreError) -> anyhow::Error {
    anyhow!("{e}")
}

fn output<T: Serialize>(json: bool, value: &T, text: impl FnOnce() -> String) -> Result<ExitCode> {
    if json {
        println!("{}", serde_json::to_string_pretty(value)?);
    } else {
        print!("{}", text());
    }
    Ok(ExitCode::SUCCESS)
}

fn render_list(list: &[PluginSummary]) -> String {
    if list.is_empty() {
        return "no plugins deployed\n".into();
    }
    let mut out = format!(
        "{:<24} {:<12} {:<12} {:<14} {}\n",
        "NAME", "KIND", "ACTIVE", "SHA256", "VERSIONS"
    );
    for p in list {
        let (version, sha) = p
            .active
            .as_ref()
            .map_or(("-", "-"), |a| (a.version.as_str(), short(&a.sha256)));
        out += &format!(
            "{:<24} {:<12} {:<12} {:<14} {}\n",
            p.name,
            p.kind.to_string(),
            version,
            sha,
            p.versions.join(", ")
        );
        for i in &p.instances {
            let running = i.status.active_version.as_deref().unwrap_or("none");
            out += &format!("  {:<22} runs {running}", i.instance);
            if let Some(error) = &i.status.last_error {
                out += &format!(
                    "; {} failed to load: {error}",
                    i.status.error_version.as_deref().unwrap_or("?")
                );
            }
            out.push('\n');
        }
    }
    out
}

fn render_history(history: &[Deployment]) -> String {
    let mut out = format!(
        "  {:<12} {:<14} {:>10}  {:<20} {}\n",
        "VERSION", "SHA256", "BYTES", "DEPLOYED (UTC)", "BY"
    );
    for d in history {
        out += &format!(
            "{} {:<12} {:<14} {:>10}  {:<20} {}{}\n",
            if d.active { "*" } else { " " },
            d.version,
            short(&d.sha256),
            d.size,
            time(d.deployed_at_ms),
            d.deployed_by,
            if d.forced { " (forced)" } else { "" }
        );
    }
    out + "(* = active)\n"
}

fn time(ms: i64) -> String {
    let at = UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0));
    humantime::format_rfc3339_seconds(at)
        .to_string()
        .replace('T', " ")
        .trim_end_matches('Z')
        .to_owned()
}

fn short(sha256: &str) -> &str {
    sha256.get(..12).unwrap_or(sha256)
}

/// `123`, `64K`, `64M`, `1G` (powers of 1024; `KiB`/`MiB`/`GiB` too).
fn parse_size(value: &str) -> Result<usize, String> {
    let v = value.trim();
    let digits = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    let (number, unit) = v.split_at(digits);
    let number: usize = number
        .parse()
        .map_err(|_| format!("expected a size like 64M, got {value:?}"))?;
    let factor: usize = match unit.to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KB" | "KIB" => 1 << 10,
        "M" | "MB" | "MIB" => 1 << 20,
        "G" | "GB" | "GIB" => 1 << 30,
        _ => return Err(format!("unknown size unit in {value:?}")),
    };
    number
        .checked_mul(factor)
        .ok_or_else(|| format!("size {value:?} is too large"))
}

/// The default cap, checked against the store's.
const _: () = assert!(DEFAULT_MAX_SIZE == 64 << 20);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_binary_suffixes() {
        assert_eq!(parse_size("123"), Ok(123));
        assert_eq!(parse_size("64M"), Ok(64 << 20));
        assert_eq!(parse_size("20MiB"), Ok(20 << 20));
        assert_eq!(parse_size("1k"), Ok(1024));
        assert!(parse_size("12X").is_err());
        assert!(parse_size("M").is_err());
    }
}
