//! `strand plugin deploy | list | history | rollback | remove | gc |
//! config`: plugins deployed to a cluster (`strand-plugin-store`). Each
//! prints text, or with `--json` the store's own values (snake_case keys,
//! sizes as `…_bytes`); a refusal is one line on stderr and exit status 1,
//! and changes nothing.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, UNIX_EPOCH};

use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use serde::Serialize;
use strand_plugin_host::HostInspector;
use strand_plugin_store::{
    DEFAULT_MAX_SIZE, DeployOptions, Deployment, GcReport, PluginStore, PluginSummary,
    StoragePolicy, StoreError,
};
use strand_zk::Zk;

use super::CacheArg;
use crate::commands::GlobalArgs;
use crate::compile_progress::{self as progress, Progress};

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
    /// A network capability the plugin needs (repeatable):
    /// `http://HOST:PORT[/path-prefix]`, `tcp:HOST:PORT`, `tcp:HOST:LO-HI`
    /// or `dns`, with `{host}`/`{port}` for each instance's own. Recorded in
    /// the deployment; a participant loads the version only if its own
    /// grants (`strand participant --grant`) cover every request.
    #[arg(long = "request", value_name = "RULE", value_parser = parse_request)]
    pub requests: Vec<String>,
    /// The compiled cache validation uses.
    #[command(flatten)]
    pub cache: CacheArg,
}

/// A `--request` rule, checked and in its canonical spelling.
fn parse_request(value: &str) -> Result<String, String> {
    value
        .parse::<strand_plugin_host::net::NetRule>()
        .map(|r| r.to_string())
        .map_err(|e| e.to_string())
}

/// Options of `strand plugin gc`.
#[derive(Debug, Args)]
pub struct GcArgs {
    /// Cluster and output format.
    #[command(flatten)]
    pub target: ClusterArg,
    /// Keep this many earlier versions per plugin instead of the policy's.
    #[arg(long)]
    pub keep: Option<usize>,
    /// Only say what would be removed.
    #[arg(long)]
    pub dry_run: bool,
}

/// Options of `strand plugin config`.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Cluster and output format.
    #[command(flatten)]
    pub target: ClusterArg,
    /// Earlier versions each plugin keeps besides the active one.
    #[arg(long)]
    pub keep: Option<usize>,
    /// The most bytes (compressed artefacts) the cluster's plugins may hold
    /// in ZooKeeper (K/M/G suffixes, powers of 1024).
    #[arg(long, value_parser = parse_size)]
    pub budget: Option<usize>,
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
    /// Apply retention now.
    Gc(GcArgs),
    /// Show or set the storage policy.
    Config(ConfigArgs),
}

/// Runs a store command.
pub async fn run(global: &GlobalArgs, cmd: StoreCommand) -> Result<ExitCode> {
    let zk = Zk::connect(global.zk_config()?).await?;
    let cluster = |t: &ClusterArg| PluginStore::new(zk.clone(), &t.cluster);
    match cmd {
        StoreCommand::Deploy(args) => {
            let host = args.cache.host(Progress::for_command(args.target.json))?;
            let store = cluster(&args.target).with_inspector(HostInspector::new(host));
            let bytes = read_capped(&args.file, args.max_size)?;
            let mut opts = DeployOptions {
                name: args.name.clone(),
                force: args.force,
                max_size: args.max_size,
                requests: args.requests.clone(),
                ..DeployOptions::default()
            };
            if let Some(by) = args.by {
                opts.deployed_by = by;
            }
            let d = store.deploy(&bytes, &opts).await.map_err(refused)?;
            output(args.target.json, &d, || {
                format!(
                    "deployed {} {} ({}, sha256 {}, {}, {} stored) to {}; it is the active version\n",
                    d.name,
                    d.version,
                    d.kind,
                    short(&d.sha256),
                    size_of(d.size_bytes),
                    d.stored_bytes.map_or_else(|| "?".to_owned(), size_of),
                    store.cluster()
                ) + &if d.requests.is_empty() {
                    String::new()
                } else {
                    format!(
                        "it requests {}; participants load it only where their grants cover that\n",
                        d.requests.join(", ")
                    )
                }
            })
        }
        StoreCommand::List(target) => {
            let store = cluster(&target);
            let list = store.list().await.map_err(refused)?;
            let usage = store.usage().await.map_err(refused)?;
            let policy = store.policy().await.map_err(refused)?;
            output(target.json, &list, || {
                render_list(&list) + &render_usage(usage.stored_bytes, &policy)
            })
        }
        StoreCommand::Gc(args) => {
            let report = cluster(&args.target)
                .gc(args.keep, args.dry_run)
                .await
                .map_err(refused)?;
            output(args.target.json, &report, || render_gc(&report))
        }
        StoreCommand::Config(args) => {
            let store = cluster(&args.target);
            let mut policy = store.policy().await.map_err(refused)?;
            if args.keep.is_some() || args.budget.is_some() {
                if let Some(keep) = args.keep {
                    policy.retained_versions = keep;
                }
                if let Some(budget) = args.budget {
                    policy.budget_bytes = u64::try_from(budget).unwrap_or(u64::MAX);
                }
                store.set_policy(&policy).await.map_err(refused)?;
            }
            let usage = store.usage().await.map_err(refused)?;
            output(args.target.json, &policy, || {
                format!(
                    "keeps the active version and {} earlier per plugin\n{}",
                    policy.retained_versions,
                    render_usage(usage.stored_bytes, &policy)
                )
            })
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

/// Left-aligned columns as wide as their widest cell.
fn table(rows: &[Vec<String>]) -> Vec<String> {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    rows.iter()
        .map(|row| {
            let cells: Vec<String> = row
                .iter()
                .enumerate()
                .map(|(c, cell)| {
                    if c + 1 == row.len() {
                        cell.clone()
                    } else {
                        format!("{cell:<width$}", width = widths[c])
                    }
                })
                .collect();
            cells.join("  ").trim_end().to_owned()
        })
        .collect()
}

fn render_list(list: &[PluginSummary]) -> String {
    if list.is_empty() {
        return "no plugins deployed\n".into();
    }
    let mut rows = vec![
        ["NAME", "KIND", "ACTIVE", "SHA256", "STORED", "VERSIONS"]
            .map(String::from)
            .to_vec(),
    ];
    for p in list {
        let (version, sha) = p
            .active
            .as_ref()
            .map_or(("-", "-"), |a| (a.version.as_str(), short(&a.sha256)));
        rows.push(vec![
            p.name.clone(),
            p.kind.to_string(),
            version.to_owned(),
            sha.to_owned(),
            size_of(p.stored_bytes),
            p.versions.join(", "),
        ]);
    }
    let lines = table(&rows);
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        out += line;
        out.push('\n');
        let Some(p) = i.checked_sub(1).and_then(|i| list.get(i)) else {
            continue;
        };
        if let Some(active) = p.active.as_ref().filter(|a| !a.requests.is_empty()) {
            out += &format!("  requests {}\n", active.requests.join(", "));
        }
        for inst in &p.instances {
            let running = inst.status.active_version.as_deref().unwrap_or("none");
            out += &format!("  {} runs {running}", inst.instance);
            if let Some(error) = &inst.status.last_error {
                out += &format!(
                    "; {} failed to load: {error}",
                    inst.status.error_version.as_deref().unwrap_or("?")
                );
            }
            out.push('\n');
        }
    }
    out
}

fn render_usage(stored: u64, policy: &StoragePolicy) -> String {
    format!(
        "stored in ZooKeeper: {} of a {} budget\n",
        size_of(stored),
        size_of(policy.budget_bytes)
    )
}

fn render_gc(r: &GcReport) -> String {
    let verb = if r.dry_run { "would remove" } else { "removed" };
    let mut out = String::new();
    for (plugin, version) in &r.removed_versions {
        out += &format!("{verb} {plugin} {version}\n");
    }
    for (sha, bytes) in &r.deleted_artefacts {
        out += &format!("{verb} artefact {} ({})\n", short(sha), size_of(*bytes));
    }
    if out.is_empty() {
        out = "nothing to remove\n".into();
    }
    out + &render_usage(r.usage.stored_bytes, &r.policy)
}

fn size_of(bytes: u64) -> String {
    progress::size(usize::try_from(bytes).unwrap_or(usize::MAX))
}

fn render_history(history: &[Deployment]) -> String {
    let mut rows = vec![
        [
            "VERSION",
            "SHA256",
            "SIZE",
            "STORED",
            "DEPLOYED (UTC)",
            "BY",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for d in history {
        rows.push(vec![
            d.version.clone(),
            short(&d.sha256).to_owned(),
            size_of(d.size_bytes),
            d.stored_bytes.map_or_else(|| "-".to_owned(), size_of),
            time(d.deployed_at_ms),
            format!(
                "{}{}",
                d.deployed_by,
                if d.forced { " (forced)" } else { "" }
            ),
        ]);
    }
    let marks =
        std::iter::once(" ").chain(history.iter().map(|d| if d.active { "*" } else { " " }));
    let mut out = String::new();
    for (mark, line) in marks.zip(table(&rows)) {
        out += &format!("{mark} {line}\n");
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

    #[test]
    fn columns_are_as_wide_as_their_widest_cell() {
        let rows = vec![
            vec!["NAME".to_owned(), "ACTIVE".to_owned(), "X".to_owned()],
            vec![
                "MasterSlave".to_owned(),
                "0.1.0+python-with-a-long-build-tag".to_owned(),
                "y".to_owned(),
            ],
        ];
        let lines = table(&rows);
        assert_eq!(lines[0].find("ACTIVE"), lines[1].find("0.1.0"));
        assert_eq!(lines[0].find(" X"), lines[1].find(" y"));
    }
}
