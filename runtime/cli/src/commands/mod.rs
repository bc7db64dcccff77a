//! The subcommands of `strand`, one module each, and the flags they share.

mod admin;
mod bench;
mod controller;
mod participant;
mod plugin;
mod quickstart;
mod rest;
mod routes;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use strand_zk::{DigestCredentials, ZkConfig};

/// Strand: a Helix-compatible cluster manager whose state models are WebAssembly components.
#[derive(Debug, Parser)]
#[command(name = "strand", version, about, propagate_version = true)]
pub struct Cli {
    /// Flags accepted before or after any subcommand.
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every subcommand accepts, before or after its name.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// ZooKeeper connect string: `host:port[,host:port…][/chroot]`
    /// [default: 127.0.0.1:2181; `quickstart` starts its own ZooKeeper
    /// instead].
    #[arg(long, global = true, env = "STRAND_ZK")]
    pub zk: Option<String>,
    /// A file holding ZooKeeper digest credentials, one line
    /// `user:password` (credentials are never taken on the command line).
    #[arg(long, global = true, env = "STRAND_ZK_AUTH_FILE", value_name = "FILE")]
    pub zk_auth_file: Option<PathBuf>,
    /// More log output on stderr (-v info, -vv debug, -vvv trace;
    /// `RUST_LOG`, e.g. `strand_participant=debug`, overrides it).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// How log lines are written to stderr: `text`, or `json` (one object
    /// per line, with the cluster, instance, resource, partition and
    /// message id of the spans it happened in).
    #[arg(long, global = true, env = "STRAND_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

/// The format of log lines (`--log-format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

impl GlobalArgs {
    /// The ZooKeeper to use: `--zk`, `STRAND_ZK`, or the default.
    pub fn zk(&self) -> &str {
        self.zk.as_deref().unwrap_or(DEFAULT_ZK)
    }

    /// How to reach the ZooKeeper of [`GlobalArgs::zk`], with the
    /// credentials of `--zk-auth-file` when given.
    pub fn zk_config(&self) -> anyhow::Result<ZkConfig> {
        self.zk_config_for(self.zk())
    }

    /// [`GlobalArgs::zk_config`] for another connect string (a ZooKeeper
    /// the command started itself).
    pub fn zk_config_for(&self, connect: &str) -> anyhow::Result<ZkConfig> {
        let config = ZkConfig::new(connect);
        Ok(match &self.zk_auth_file {
            None => config,
            Some(path) => config.with_credentials(DigestCredentials::from_file(path)?),
        })
    }
}

/// Where ZooKeeper is looked for when `--zk` is not given.
pub const DEFAULT_ZK: &str = "127.0.0.1:2181";

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Administer clusters (like Helix's `helix-admin`).
    #[command(subcommand)]
    Admin(admin::AdminCommand),
    /// Run a controller for a cluster (leader election, rebalancing, views).
    Controller(controller::ControllerArgs),
    /// Run a participant that serves state transitions with plugin state models.
    Participant(participant::ParticipantArgs),
    /// Measure a local cluster: convergence, transitions/s, view latency,
    /// failover, pipeline time (prints JSON).
    Bench(bench::BenchArgs),
    /// Bring up a local demo cluster (starts its own ZooKeeper unless `--zk` is given).
    Quickstart(quickstart::QuickstartArgs),
    /// Show a cluster's routing table (live instance × partition × state).
    Routes(routes::RoutesArgs),
    /// Inspect and validate plugin components; deploy them to a cluster.
    #[command(subcommand)]
    Plugin(plugin::PluginCommand),
    /// Serve the Helix-compatible HTTP admin API (`/admin/v2/...`).
    Rest(rest::RestArgs),
}

/// Runs the chosen subcommand.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Admin(cmd) => runtime()?.block_on(admin::run(&cli.global, cmd)),
        Command::Bench(args) => runtime()?.block_on(bench::run(&cli.global, args)),
        Command::Quickstart(args) => runtime()?.block_on(quickstart::run(&cli.global, args)),
        Command::Controller(args) => runtime()?.block_on(controller::run(&cli.global, args)),
        Command::Participant(args) => runtime()?.block_on(participant::run(&cli.global, args)),
        Command::Routes(args) => runtime()?.block_on(routes::run(&cli.global, args)),
        Command::Plugin(cmd) => plugin::run(&cli.global, cmd),
        Command::Rest(args) => runtime()?.block_on(rest::run(&cli.global, args)),
    }
}

/// The async runtime the ZooKeeper-facing commands run on.
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}
