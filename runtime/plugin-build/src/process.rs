//! Running a toolchain command: its output is captured and shown only when
//! it fails (the last lines, which carry the reason).

use std::process::Command;

use anyhow::{Context, Result, bail};

/// Lines of a failing command's output kept in the error.
const TAIL_LINES: usize = 40;

/// Runs `command`; `what` names it in errors.
///
/// # Errors
/// When it cannot be started or exits unsuccessfully.
pub(crate) fn run(mut command: Command, what: &str) -> Result<()> {
    tracing::debug!(?command, "{what}");
    let out = command
        .output()
        .with_context(|| format!("{what}: cannot run {:?}", command.get_program()))?;
    if out.status.success() {
        return Ok(());
    }
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = text.lines().collect();
    let tail = &lines[lines.len().saturating_sub(TAIL_LINES)..];
    bail!("{what} failed ({}):\n{}", out.status, tail.join("\n"));
}

/// True when `program` is an executable on the `PATH`.
pub(crate) fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}
