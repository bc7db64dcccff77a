//! `redis-failover`: the example end to end (see the crate docs and
//! `examples/redis-failover/README.md`); prints the report as JSON and
//! exits with 1 when a promise was broken.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Parser;
use strand_redis_failover::scenario::{Options, run};

/// Strand keeping real Redis servers highly available, end to end.
#[derive(Debug, Parser)]
struct Args {
    /// The `strand` executable (default: next to this one).
    #[arg(long)]
    strand: Option<PathBuf>,
    /// The RedisMasterSlave component (default: the one built in
    /// `plugins/`).
    #[arg(long)]
    plugin: Option<PathBuf>,
    /// Partitions of the resource (3 replicas each).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=200))]
    partitions: u32,
    /// Keep the processes' logs here.
    #[arg(long)]
    logs: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match main_inner().await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("redis-failover: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn main_inner() -> Result<ExitCode> {
    let args = Args::parse();
    let strand = match args.strand {
        Some(path) => path,
        None => std::env::current_exe()?
            .parent()
            .context("no directory around this executable")?
            .join("strand"),
    };
    let plugin = match args.plugin {
        Some(path) => path,
        None => strand_devcluster::plugins::plugin_path(
            strand_devcluster::plugins::names::REDIS_MASTER_SLAVE,
        )?,
    };
    eprintln!(
        "redis-failover: 3 nodes, {} partitions x 3 replicas; a graceful stop, a kill -9 of a MASTER's redis-server, a kill -9 of a node",
        args.partitions
    );
    let report = run(Options {
        strand,
        plugin,
        partitions: args.partitions,
        logs: args.logs,
    })
    .await?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(match report.broken_promise() {
        Some(why) => {
            eprintln!("redis-failover: {why}");
            ExitCode::FAILURE
        }
        None => ExitCode::SUCCESS,
    })
}
