//! `strand plugin …`: inspect and check plugin components (owned by the plugin-host work).

use std::process::ExitCode;

use clap::Subcommand;

use super::GlobalArgs;

/// Plugin subcommands.
#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Print a component's world, interface versions and definition.
    Inspect {
        /// The component file.
        file: std::path::PathBuf,
    },
}

/// Runs a plugin subcommand.
pub fn run(_global: &GlobalArgs, cmd: PluginCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        PluginCommand::Inspect { file } => anyhow::bail!("not built yet: {}", file.display()),
    }
}
