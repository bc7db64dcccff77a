//! `strand plugin …`: inspect and check plugin components, and deploy them
//! to a cluster.
//!
//! * `strand plugin inspect FILE.wasm [--json]` prints the component's world,
//!   interface versions and its definition (state model) or info (aggregator).
//! * `strand plugin check FILE.wasm` loads it the way a hot swap would
//!   (compile, world and version check, definition, canary call) and exits
//!   with status 1 and a one-line reason when it does not fit.
//! * `deploy`, `list`, `history`, `rollback`, `remove` work on the plugins
//!   deployed to a cluster ([`cluster`]).

mod cluster;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, anyhow};
use clap::Subcommand;
use strand_plugin_host::{HostConfig, PluginHost, PluginReport, inspect_file};

use super::GlobalArgs;

/// Plugin subcommands.
#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Print a component's world, interface versions and definition.
    Inspect {
        /// The component file.
        file: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Validate a component; exit 1 with a one-line reason if it does not fit.
    Check {
        /// The component file.
        file: PathBuf,
    },
    /// Validate a component and deploy it to a cluster as the active version.
    Deploy(cluster::DeployArgs),
    /// List the plugins deployed to a cluster, with what each instance runs.
    List(cluster::ClusterArg),
    /// Every deployed version of a plugin.
    History(cluster::HistoryArgs),
    /// Make an earlier (or any kept) version the active one again.
    Rollback(cluster::RollbackArgs),
    /// Remove a version that is not active.
    // `--version V` names the version to remove, so no `--version` flag here.
    #[command(disable_version_flag = true)]
    Remove(cluster::RemoveArgs),
}

/// Runs a plugin subcommand.
pub fn run(global: &GlobalArgs, cmd: PluginCommand) -> anyhow::Result<ExitCode> {
    let store_command = match cmd {
        PluginCommand::Inspect { file, json } => return inspect(&local_host()?, &file, json),
        PluginCommand::Check { file } => return Ok(check(&local_host()?, &file)),
        PluginCommand::Deploy(args) => cluster::StoreCommand::Deploy(args),
        PluginCommand::List(args) => cluster::StoreCommand::List(args),
        PluginCommand::History(args) => cluster::StoreCommand::History(args),
        PluginCommand::Rollback(args) => cluster::StoreCommand::Rollback(args),
        PluginCommand::Remove(args) => cluster::StoreCommand::Remove(args),
    };
    super::runtime()?.block_on(cluster::run(global, store_command))
}

fn local_host() -> anyhow::Result<Arc<PluginHost>> {
    PluginHost::new(HostConfig::default()).context("starting the plugin host")
}

fn inspect(host: &Arc<PluginHost>, file: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let report = inspect_file(host, file, false)
        .map_err(|e| anyhow!("{}: {}", file.display(), e.one_line()))?;
    if json {
        let mut value = serde_json::to_value(&report)?;
        if let Some(obj) = value.as_object_mut() {
            obj.insert("file".into(), file.display().to_string().into());
        }
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        print!("{}", render(file, &report));
    }
    Ok(ExitCode::SUCCESS)
}

fn check(host: &Arc<PluginHost>, file: &Path) -> ExitCode {
    match inspect_file(host, file, true) {
        Ok(report) => {
            let what = match (&report.definition, &report.aggregator) {
                (Some(d), _) => format!("state model {} {}", d.name, d.version),
                (None, Some(a)) => format!("aggregator {} {}", a.name, a.version),
                (None, None) => report.world.to_string(),
            };
            println!("ok: {}: {what} ({})", file.display(), report.wit_world);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{}: {}", file.display(), e.one_line());
            ExitCode::FAILURE
        }
    }
}

fn render(file: &Path, r: &PluginReport) -> String {
    let mut out = format!(
        "file:        {}\nsha256:      {}\nsize:        {} bytes\nworld:       {} ({})\nimports:     {}\nexports:     {}\n",
        file.display(),
        r.digest,
        r.size_bytes,
        r.wit_world,
        r.world,
        r.imports.join(", "),
        r.exports.join(", "),
    );
    if let Some(d) = &r.definition {
        let states: Vec<String> = d
            .states
            .iter()
            .map(|s| format!("{} [{}]", s.name, s.count.helix()))
            .collect();
        out += &format!(
            "model:       {} (plugin version {})\ninitial:     {}\nstates:      {}\ntransitions: {}\n",
            d.name,
            d.version,
            d.initial_state,
            states.join(", "),
            d.transition_priority_list().join(", "),
        );
    }
    if let Some(a) = &r.aggregator {
        out += &format!(
            "aggregator:  {} (plugin version {})\n             {}\n",
            a.name, a.version, a.description
        );
    }
    out
}
