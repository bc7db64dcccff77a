//! `strand plugin inspect` and `strand plugin check` on a local component
//! file: what it is, and whether it fits — loaded as a hot swap would load
//! it, then (check) each transition run once in a sandbox.
//!
//! Text goes to stdout; a refusal is a line on stderr naming the file and
//! the reason, followed by what the plugin wrote to stderr (a Python or
//! JavaScript exception with its traceback, a Rust panic), indented, and
//! exit status 1. `--json` prints the host's report instead (and a
//! refusal as `{"file", "error", "output"}` on stdout, still exit 1).

use std::path::Path;
use std::process::ExitCode;

use anyhow::anyhow;
use serde_json::json;
use strand_plugin_host::{
    LoadError, PluginReport, SandboxOutcome, check_file, guest_error_line, inspect_file,
};

use super::LocalArgs;
use crate::compile_progress::{self as progress, Progress};

/// `strand plugin inspect`.
pub fn inspect(args: &LocalArgs) -> anyhow::Result<ExitCode> {
    let host = args
        .cache
        .reporting_host(Progress::for_command(args.json))?;
    let file = &args.file;
    let report = inspect_file(&host, file, false)
        .map_err(|e| anyhow!("{}: {}", file.display(), e.one_line()))?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&with_file(&report, file)?)?
        );
    } else {
        print!("{}", render(file, &report));
    }
    Ok(ExitCode::SUCCESS)
}

/// `strand plugin check`.
pub fn check(args: &LocalArgs) -> anyhow::Result<ExitCode> {
    let host = args
        .cache
        .reporting_host(Progress::for_command(args.json))?;
    let file = &args.file;
    let report = match check_file(&host, file) {
        Ok(report) => report,
        Err(e) => return Ok(refused(args.json, file, &e)),
    };
    let failed = report.sandbox_failures().count();
    if args.json {
        let mut value = with_file(&report, file)?;
        if let Some(obj) = value.as_object_mut() {
            obj.insert("ok".into(), (failed == 0).into());
        }
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        let what = match (&report.definition, &report.aggregator) {
            (Some(d), _) => format!("state model {} {}", d.name, d.version),
            (None, Some(a)) => format!("aggregator {} {}", a.name, a.version),
            (None, None) => report.world.to_string(),
        };
        if failed == 0 {
            println!("ok: {}: {what} ({})", file.display(), report.wit_world);
        } else {
            eprintln!(
                "{}: {what}: {failed} of {} transitions failed in the sandbox",
                file.display(),
                report.sandbox.len()
            );
        }
        for run in &report.sandbox {
            match &run.outcome {
                SandboxOutcome::Ok { .. } => println!("  {:<24} ok", run.transition),
                SandboxOutcome::Rejected { kind, message } => println!(
                    "  {:<24} refused ({kind:?}): {}",
                    run.transition,
                    one_line(message)
                ),
                SandboxOutcome::Failed { error, output } => {
                    eprintln!(
                        "  {:<24} FAILED: {}",
                        run.transition,
                        summary(error, output)
                    );
                    if let Some(output) = output {
                        eprint!("{}", indented(output));
                    }
                }
            }
        }
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// A load that failed: one line, then the plugin's own output.
fn refused(json: bool, file: &Path, e: &LoadError) -> ExitCode {
    let output = e.guest_output();
    if json {
        let value = json!({
            "file": file.display().to_string(),
            "ok": false,
            "error": e.to_string(),
            "output": output,
        });
        println!("{value:#}");
    } else {
        eprintln!("{}: {}", file.display(), e.one_line());
        if let Some(output) = output {
            eprint!("{}", indented(output));
        }
    }
    ExitCode::FAILURE
}

/// The error on one line: the line of the plugin's output that says what
/// went wrong (the exception after its traceback), else the error itself.
fn summary(error: &str, output: &Option<String>) -> String {
    match output.as_deref().map(guest_error_line) {
        Some(line) if !line.is_empty() => format!("{line} (its output below)"),
        _ => one_line(error),
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn indented(text: &str) -> String {
    text.lines().map(|l| format!("    | {l}\n")).collect()
}

fn with_file(report: &PluginReport, file: &Path) -> anyhow::Result<serde_json::Value> {
    let mut value = serde_json::to_value(report)?;
    if let Some(obj) = value.as_object_mut() {
        obj.insert("file".into(), file.display().to_string().into());
    }
    Ok(value)
}

/// What the component's imports say about the network: which network
/// interfaces it imports, and that they reach nothing unless granted.
fn network_line(imports: &[String]) -> String {
    let network: Vec<&str> = imports
        .iter()
        .map(String::as_str)
        .filter(|i| {
            i.starts_with("wasi:http/outgoing-handler")
                || i.starts_with("wasi:sockets/tcp")
                || i.starts_with("wasi:sockets/ip-name-lookup")
                || i.starts_with("wasi:sockets/udp")
        })
        .collect();
    if network.is_empty() {
        return "imports no network interface".into();
    }
    format!(
        "imports {}; reaches nothing unless granted (strand participant --grant, deploy --request)",
        network.join(", ")
    )
}

fn render(file: &Path, r: &PluginReport) -> String {
    let mut out = format!(
        "file:        {}\nsha256:      {}\nsize:        {} bytes ({})\nworld:       {} ({})\nimports:     {}\nexports:     {}\n",
        file.display(),
        r.digest,
        r.size_bytes,
        progress::size(r.size_bytes),
        r.wit_world,
        r.world,
        r.imports.join(", "),
        r.exports.join(", "),
    );
    out += &format!("network:     {}\n", network_line(&r.imports));
    if let Some(d) = &r.definition {
        let states: Vec<String> = d
            .states
            .iter()
            .map(|s| format!("{} [{}]", s.name, s.count.to_field()))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_is_the_exception_line_after_the_traceback() {
        let output = Some(
            "Traceback (most recent call last):\n  File \"app.py\", line 3\nValueError: boom\n"
                .to_owned(),
        );
        assert_eq!(
            summary("plugin failed: …", &output),
            "ValueError: boom (its output below)"
        );
        assert_eq!(summary("plugin  trapped:\n x", &None), "plugin trapped: x");
    }
}
