//! `strand`: the command-line front end of Strand.
//!
//! `main` parses the arguments, sets up logging and hands off to one module
//! per subcommand under [`commands`]. Errors are printed as one line on
//! stderr (`error: …`) and the process exits with status 1; a usage error
//! exits with status 2 (clap's convention). Log lines go to stderr,
//! coloured only on a terminal.
//!
//! The process allocates with mimalloc: the controller and participants
//! build and drop many small strings and maps per ZooKeeper event, where
//! glibc's allocator spent about a third of their CPU time (consolidating
//! and unlinking free chunks) in `strand bench`.

mod commands;
mod compile_progress;
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
    init_tracing(cli.global.verbose);
    match commands::run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Logs go to stderr, coloured only when stderr is a terminal (and
/// `NO_COLOR` is unset); `RUST_LOG` overrides the level chosen with `-v`.
fn init_tracing(verbose: u8) {
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
    let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour)
        .with_writer(std::io::stderr)
        .init();
}
