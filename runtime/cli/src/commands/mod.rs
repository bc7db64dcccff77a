//! The subcommands of `strand`, one module each, and the flags they share.

mod plugin;

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

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
    /// ZooKeeper connect string: `host:port[,host:port…][/chroot]`.
    #[arg(long, global = true, env = "STRAND_ZK", default_value = "127.0.0.1:2181")]
    pub zk: String,
    /// More log output on stderr (-v info, -vv debug, -vvv trace).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Inspect and validate plugin components.
    #[command(subcommand)]
    Plugin(plugin::PluginCommand),
}

/// Runs the chosen subcommand.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Plugin(cmd) => plugin::run(&cli.global, cmd),
    }
}
