//! `strand`: the command-line front end of Strand.
//!
//! `main` parses the arguments, sets up logging and hands off to one module
//! per subcommand under [`commands`]. Errors are printed as one line on
//! stderr (`error: …`) and the process exits with status 1; a usage error
//! exits with status 2 (clap's convention). Log lines go to stderr, as
//! text (coloured only on a terminal) or, with `--log-format json`, one
//! JSON object per line.
//!
//! The process allocates with mimalloc: the controller and participants
//! build and drop many small strings and maps per ZooKeeper event, where
//! glibc's allocator spent about a third of their CPU time (consolidating
//! and unlinking free chunks) in `strand bench`.

mod commands;
mod compile_progress;
mod metrics_server;
mod plugin_host;
mod routing_table;
mod stop_signal;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = commands::Cli::parse();
    init_tracing(cli.global.verbose, cli.global.log_format);
    match commands::run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Logs go to stderr; `RUST_LOG` overrides the level chosen with `-v`.
/// Text is coloured only when stderr is a terminal (and `NO_COLOR` is
/// unset). JSON is one object per line: `timestamp`, `level`, `target`,
/// `message` and the event's fields at the top level, and `spans`, the
/// enclosing spans outermost first, each with its fields (`participant`:
/// `cluster`, `instance`; `transition`: `resource`, `partition`, `msg_id`;
/// `controller`: `cluster`, `controller`).
fn init_tracing(verbose: u8, format: commands::LogFormat) {
    let default = match verbose {
        // The ZooKeeper client warns on every reconnect attempt; those are
        // expected while a server starts or stops.
        0 => "warn,zookeeper_client=error",
        1 => "info,zookeeper_client=warn",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        commands::LogFormat::Text => {
            let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            builder.with_ansi(colour).init();
        }
        commands::LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(true)
            .init(),
    }
}
