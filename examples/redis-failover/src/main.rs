//! `redis-failover`: the example end to end (see the crate docs and
//! `examples/README.md`); prints the report as JSON and
//! exits with 1 when a promise was broken. `redis-failover
//! compare-sentinel` runs the comparison with Redis Sentinel instead.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use strand_redis_failover::bench::{BenchOptions, compare};
use strand_redis_failover::scenario::{Options, run};

/// Strand keeping real Redis servers highly available, end to end.
#[derive(Debug, Parser)]
struct Args {
    /// The `strand` executable (default: next to this one).
    #[arg(long, global = true)]
    strand: Option<PathBuf>,
    /// The RedisMasterSlave component (default: the one built in
    /// `plugins/`).
    #[arg(long, global = true)]
    plugin: Option<PathBuf>,
    /// Keep the processes' logs here.
    #[arg(long, global = true)]
    logs: Option<PathBuf>,
    /// Partitions of the resource (3 replicas each).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=200))]
    partitions: u32,
    #[command(subcommand)]
    mode: Option<Mode>,
}

#[derive(Debug, Subcommand)]
enum Mode {
    /// Strand against Redis Sentinel (three sentinels, quorum 2) on the
    /// same three redis-servers: the time from kill -9 of the master's
    /// redis-server, kill -9 of its host and a planned stop to a writable
    /// new master, as JSON.
    CompareSentinel {
        /// Rounds of every fault, per system.
        #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=50))]
        rounds: u32,
        /// Strand's ZooKeeper session timeout, and Sentinel's
        /// `down-after-milliseconds` (whole seconds, e.g. `4s`).
        #[arg(long, default_value = "4s", value_parser = whole_seconds)]
        session_timeout: Duration,
        /// How long a planned stop's probe keeps writing to the old master
        /// while it still takes writes.
        #[arg(long, default_value = "15s", value_parser = humantime::parse_duration)]
        both_writable_cap: Duration,
        /// Exit with 1 unless Strand met the bar (faster on the planned
        /// stop, at most Sentinel + 10 % after either crash).
        #[arg(long)]
        require_targets: bool,
    },
}

/// A duration of whole seconds, 2 s to 60 s (what both a ZooKeeper session
/// timeout and `--session-timeout` can be).
fn whole_seconds(text: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(text).map_err(|e| e.to_string())?;
    if d.subsec_nanos() != 0 || !(2..=60).contains(&d.as_secs()) {
        return Err(format!("{text}: give whole seconds from 2s to 60s"));
    }
    Ok(d)
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
    if let Some(Mode::CompareSentinel {
        rounds,
        session_timeout,
        both_writable_cap,
        require_targets,
    }) = args.mode
    {
        eprintln!(
            "redis-failover: Strand and Redis Sentinel on the same 3 redis-servers, {rounds} rounds of each fault"
        );
        let comparison = compare(BenchOptions {
            strand,
            plugin,
            rounds,
            session_timeout,
            both_cap: both_writable_cap,
            logs: args.logs,
        })
        .await?;
        println!("{}", serde_json::to_string_pretty(&comparison)?);
        if !comparison.verdict.met() {
            eprintln!(
                "redis-failover: Strand missed the bar: {:?}",
                comparison.verdict
            );
            if require_targets {
                return Ok(ExitCode::FAILURE);
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!(
        "redis-failover: 3 nodes, {} partitions x 3 replicas; a graceful stop, a kill -9 of a MASTER's redis-server, of a node, of a participant alone",
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
