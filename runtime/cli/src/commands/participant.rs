//! `strand participant`: not wired yet (in progress).

use std::process::ExitCode;

use clap::Args;

use super::GlobalArgs;

/// Options of `strand participant`.
#[derive(Debug, Args)]
pub struct ParticipantArgs {}

/// Runs it.
pub async fn run(_global: &GlobalArgs, _args: ParticipantArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("strand participant is not available in this build yet")
}
