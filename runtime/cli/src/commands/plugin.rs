//! `strand plugin …`: inspect and check plugin components, and deploy them
//! to a cluster.
//!
//! * `strand plugin inspect FILE.wasm [--json]` prints the component's world,
//!   interface versions and its definition (state model) or info (aggregator).
//! * `strand plugin check FILE.wasm [--json]` loads it the way a hot swap
//!   would (compile, world and version check, definition, canary call),
//!   then runs every transition once in a sandbox, and exits with status 1
//!   and the reason (with what the plugin printed: an exception and its
//!   traceback) when it does not fit ([`local`]).
//! * `deploy`, `list`, `history`, `rollback`, `remove`, `gc`, `config` work on
//!   the plugins deployed to a cluster ([`cluster`]).
//!
//! Every command that compiles shares the compiled cache with participants
//! and controllers ([`CacheArg`]), and shows a compile that takes longer
//! than a second ([`crate::compile_progress`]).

mod cluster;
mod local;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Subcommand};
use strand_plugin_host::PluginHost;

use super::GlobalArgs;
use crate::compile_progress::Progress;
use crate::plugin_host::{host, new_host};

/// Where compiled components are cached.
#[derive(Debug, Clone, Args)]
pub struct CacheArg {
    /// Directory of compiled components, shared with participants and
    /// controllers (default: `strand-plugin-cache` in the system temp dir).
    #[arg(long, env = "STRAND_PLUGIN_CACHE")]
    pub cache_dir: Option<PathBuf>,
}

impl CacheArg {
    /// A plugin host on this cache, showing compiles as `progress` says.
    pub fn host(&self, progress: Progress) -> anyhow::Result<Arc<PluginHost>> {
        host(self.cache_dir.clone(), progress)
    }

    /// [`CacheArg::host`] for commands that report what plugins print
    /// themselves (`check`, `inspect`): their output is not logged too.
    pub fn reporting_host(&self, progress: Progress) -> anyhow::Result<Arc<PluginHost>> {
        new_host(self.cache_dir.clone(), progress, false)
    }
}

/// A component file to look at.
#[derive(Debug, Args)]
pub struct LocalArgs {
    /// The component file.
    pub file: PathBuf,
    /// Print JSON instead of text (and no progress).
    #[arg(long)]
    pub json: bool,
    /// The compiled cache.
    #[command(flatten)]
    pub cache: CacheArg,
}

/// Plugin subcommands.
#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Print a component's world, interface versions and definition.
    Inspect(LocalArgs),
    /// Validate a component and run each of its transitions once in a
    /// sandbox; exit 1 with the reason if it does not fit.
    Check(LocalArgs),
    /// Validate a component and deploy it to a cluster as the active version.
    Deploy(cluster::DeployArgs),
    /// List the plugins deployed to a cluster: what each holds in ZooKeeper
    /// and what each instance runs.
    List(cluster::ClusterArg),
    /// Every deployed version of a plugin.
    History(cluster::HistoryArgs),
    /// Make an earlier (or any kept) version the active one again.
    Rollback(cluster::RollbackArgs),
    /// Remove a version that is not active.
    // `--version V` names the version to remove, so no `--version` flag here.
    #[command(disable_version_flag = true)]
    Remove(cluster::RemoveArgs),
    /// Apply the retention policy now: drop versions beyond it and
    /// artefacts nothing uses.
    Gc(cluster::GcArgs),
    /// Show or set the cluster's plugin storage policy (retention, budget).
    Config(cluster::ConfigArgs),
}

/// Runs a plugin subcommand.
pub fn run(global: &GlobalArgs, cmd: PluginCommand) -> anyhow::Result<ExitCode> {
    let store_command = match cmd {
        PluginCommand::Inspect(args) => return local::inspect(&args),
        PluginCommand::Check(args) => return local::check(&args),
        PluginCommand::Deploy(args) => cluster::StoreCommand::Deploy(args),
        PluginCommand::List(args) => cluster::StoreCommand::List(args),
        PluginCommand::History(args) => cluster::StoreCommand::History(args),
        PluginCommand::Rollback(args) => cluster::StoreCommand::Rollback(args),
        PluginCommand::Remove(args) => cluster::StoreCommand::Remove(args),
        PluginCommand::Gc(args) => cluster::StoreCommand::Gc(args),
        PluginCommand::Config(args) => cluster::StoreCommand::Config(args),
    };
    super::runtime()?.block_on(cluster::run(global, store_command))
}
