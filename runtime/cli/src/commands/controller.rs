//! `strand controller`: not wired yet (in progress).

use std::process::ExitCode;

use clap::Args;

use super::GlobalArgs;

/// Options of `strand controller`.
#[derive(Debug, Args)]
pub struct ControllerArgs {}

/// Runs it.
pub async fn run(_global: &GlobalArgs, _args: ControllerArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("strand controller is not available in this build yet")
}
