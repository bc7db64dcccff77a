//! Strand against Redis Sentinel on the same three redis-servers
//! (`redis-failover compare-sentinel`, `cargo xtask sentinel-bench`): the
//! time from each [`Fault`] to a writable new master, for both, in one run,
//! as JSON ([`Comparison`]).
//!
//! * [`strand`] — a Strand cluster of one partition × 3 replicas.
//! * [`sentinel`] — the same servers under three sentinels, quorum 2,
//!   `down-after-milliseconds` equal to Strand's session timeout.
//! * [`probe`] — the clock both share: writes to the servers themselves.
//!
//! Strand runs first (its nodes start the servers), then Sentinel on the
//! same ports. Each round does every fault once per system, to whichever
//! server is the master then.

pub mod probe;
pub mod sentinel;
pub mod strand;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use serde::Serialize;

use crate::cluster::{ClusterOptions, STEP_TIMEOUT, StrandCluster};
use crate::layout::REPLICAS;
use probe::Takeover;
use sentinel::SentinelSet;

/// What is done to the master.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// kill -9 of the master's redis-server alone.
    RedisKill,
    /// kill -9 of the master's host process group: Strand's participant
    /// and redis-server, or Sentinel's redis-server and sentinel.
    HostKill,
    /// A planned handoff: SIGTERM to Strand's participant (it drains, then
    /// stops its server), `SENTINEL FAILOVER` for Sentinel.
    PlannedStop,
}

impl Fault {
    /// Every fault, in the order a round does them.
    pub const ALL: [Fault; 3] = [Fault::RedisKill, Fault::HostKill, Fault::PlannedStop];

    /// What it is, for logs and errors.
    pub fn name(self) -> &'static str {
        match self {
            Self::RedisKill => "kill -9 of the master's redis-server",
            Self::HostKill => "kill -9 of the master's host process group",
            Self::PlannedStop => "planned stop of the master",
        }
    }
}

/// What a comparison needs.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// The `strand` executable.
    pub strand: PathBuf,
    /// The `RedisMasterSlave` component.
    pub plugin: PathBuf,
    /// Rounds of every fault, per system.
    pub rounds: u32,
    /// Strand's ZooKeeper session timeout, and Sentinel's
    /// `down-after-milliseconds`.
    pub session_timeout: Duration,
    /// How long a planned event's probe keeps writing to the old master
    /// while it still takes writes.
    pub both_cap: Duration,
    /// Where logs go (a temporary directory, removed after a clean run,
    /// when `None`).
    pub logs: Option<PathBuf>,
}

/// What every event of a run shares.
#[derive(Debug, Clone)]
pub struct Settings {
    /// See [`BenchOptions::both_cap`].
    pub both_cap: Duration,
}

/// One fault's figures for one system.
#[derive(Debug, Clone, Serialize)]
pub struct Figures {
    /// Median time to a writable new master.
    pub median_ms: f64,
    /// The fastest.
    pub min_ms: f64,
    /// The slowest.
    pub max_ms: f64,
    /// Every run, in order.
    pub runs: Vec<Takeover>,
}

impl Figures {
    fn of(runs: Vec<Takeover>) -> Self {
        let mut times: Vec<f64> = runs.iter().map(|r| r.writable_ms).collect();
        times.sort_by(f64::total_cmp);
        let median = match times.len() {
            0 => 0.0,
            n if n % 2 == 1 => times[n / 2],
            n => (times[n / 2 - 1] + times[n / 2]) / 2.0,
        };
        Self {
            median_ms: (median * 10.0).round() / 10.0,
            min_ms: times.first().copied().unwrap_or(0.0),
            max_ms: times.last().copied().unwrap_or(0.0),
            runs,
        }
    }
}

/// One system's figures.
#[derive(Debug, Clone, Serialize)]
pub struct Side {
    /// After kill -9 of the master's redis-server.
    pub redis_kill: Figures,
    /// After kill -9 of the master's host process group.
    pub host_kill: Figures,
    /// After a planned stop (Strand) or `SENTINEL FAILOVER`.
    pub planned_stop: Figures,
}

impl Side {
    fn of(mut runs: Vec<(Fault, Takeover)>) -> Self {
        let mut take = |fault: Fault| {
            Figures::of(
                runs.extract_if(.., |(f, _)| *f == fault)
                    .map(|(_, t)| t)
                    .collect(),
            )
        };
        Self {
            redis_kill: take(Fault::RedisKill),
            host_kill: take(Fault::HostKill),
            planned_stop: take(Fault::PlannedStop),
        }
    }
}

/// Whether Strand met the bar: faster on the planned stop, and no
/// slower than Sentinel + 10 % after either crash (medians).
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    /// Strand's planned stop median below Sentinel's.
    pub planned_stop_faster: bool,
    /// Strand's redis-server kill median ≤ 1.1 × Sentinel's.
    pub redis_kill_within_10_percent: bool,
    /// Strand's host kill median ≤ 1.1 × Sentinel's.
    pub host_kill_within_10_percent: bool,
}

impl Verdict {
    fn of(strand: &Side, sentinel: &Side) -> Self {
        let within = |a: &Figures, b: &Figures| a.median_ms <= b.median_ms * 1.1;
        Self {
            planned_stop_faster: strand.planned_stop.median_ms < sentinel.planned_stop.median_ms,
            redis_kill_within_10_percent: within(&strand.redis_kill, &sentinel.redis_kill),
            host_kill_within_10_percent: within(&strand.host_kill, &sentinel.host_kill),
        }
    }

    /// Whether every part holds.
    pub fn met(&self) -> bool {
        self.planned_stop_faster
            && self.redis_kill_within_10_percent
            && self.host_kill_within_10_percent
    }
}

/// A whole comparison.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    /// Rounds of every fault, per system.
    pub rounds: u32,
    /// Strand's session timeout.
    pub session_timeout_ms: u64,
    /// Sentinel's `down-after-milliseconds` (the same).
    pub sentinel_down_after_ms: u64,
    /// Strand's figures.
    pub strand: Side,
    /// Sentinel's figures.
    pub sentinel: Side,
    /// Strand against the bar.
    pub verdict: Verdict,
}

/// Runs the comparison.
///
/// # Errors
/// A process could not be started or a step did not happen in time; the
/// message names the step and the log directory.
pub async fn compare(options: BenchOptions) -> Result<Comparison> {
    let logs = match &options.logs {
        Some(dir) => dir.clone(),
        None => std::env::temp_dir().join(format!("strand-sentinel-bench-{}", std::process::id())),
    };
    std::fs::create_dir_all(&logs)?;
    let result = run(&options, &logs).await;
    if result.is_ok() && options.logs.is_none() {
        let _ = std::fs::remove_dir_all(&logs);
    }
    result.with_context(|| format!("logs in {}", logs.display()))
}

async fn run(options: &BenchOptions, logs: &std::path::Path) -> Result<Comparison> {
    let settings = Settings {
        both_cap: options.both_cap,
    };
    let mut cluster = StrandCluster::start(
        &ClusterOptions {
            strand: options.strand.clone(),
            plugin: options.plugin.clone(),
            partitions: 1,
            session_timeout: options.session_timeout,
        },
        logs,
    )
    .await?;
    let ports: Vec<u16> = (0..REPLICAS)
        .map(|n| cluster.layout.redis_port(n, 0))
        .collect();
    strand::servers_settled(&ports).await?;
    let mut strand_runs = Vec::new();
    let mut outcome = Ok(());
    'rounds: for _ in 0..options.rounds {
        for fault in Fault::ALL {
            let started = std::time::Instant::now();
            match strand::event(&mut cluster, fault, &settings).await {
                Ok(taken) => {
                    progress("Strand", fault, &taken, started);
                    strand_runs.push((fault, taken));
                }
                Err(e) => {
                    outcome = Err(e.context(format!("Strand: {}", fault.name())));
                    break 'rounds;
                }
            }
        }
    }
    cluster.finish().await;
    outcome?;

    let down_after = options.session_timeout;
    let both_cap = options.both_cap;
    let rounds = options.rounds;
    let logs = logs.to_path_buf();
    let sentinel_runs = tokio::task::spawn_blocking(move || {
        sentinel_rounds(&ports, &logs, down_after, both_cap, rounds)
    })
    .await??;

    let strand = Side::of(strand_runs);
    let sentinel = Side::of(sentinel_runs);
    let verdict = Verdict::of(&strand, &sentinel);
    let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    Ok(Comparison {
        rounds: options.rounds,
        session_timeout_ms: ms(options.session_timeout),
        sentinel_down_after_ms: ms(down_after),
        strand,
        sentinel,
        verdict,
    })
}

fn sentinel_rounds(
    ports: &[u16],
    logs: &std::path::Path,
    down_after: Duration,
    both_cap: Duration,
    rounds: u32,
) -> Result<Vec<(Fault, Takeover)>> {
    let mut set = SentinelSet::start(ports, logs, down_after, STEP_TIMEOUT)?;
    let mut runs = Vec::new();
    for _ in 0..rounds {
        for fault in Fault::ALL {
            let started = std::time::Instant::now();
            let taken = sentinel_event(&mut set, fault, both_cap)
                .with_context(|| format!("Sentinel: {}", fault.name()))?;
            progress("Sentinel", fault, &taken, started);
            runs.push((fault, taken));
        }
    }
    Ok(runs)
}

fn sentinel_event(set: &mut SentinelSet, fault: Fault, both_cap: Duration) -> Result<Takeover> {
    let old = set.master()?;
    let h = set
        .host_of(old)
        .with_context(|| format!("the master {old} is none of the servers"))?;
    let candidates: Vec<u16> = set
        .redis_ports()
        .into_iter()
        .filter(|&p| p != old)
        .collect();
    let since = match fault {
        Fault::RedisKill => {
            let since = std::time::Instant::now();
            set.kill_redis(h);
            since
        }
        Fault::HostKill => {
            let since = std::time::Instant::now();
            set.kill_host(h);
            since
        }
        Fault::PlannedStop => set.failover(STEP_TIMEOUT)?,
    };
    let planned = (fault == Fault::PlannedStop).then_some(old);
    let taken = probe::takeover(&candidates, planned, since, STEP_TIMEOUT, both_cap)?;
    set.restore(h, STEP_TIMEOUT)?;
    Ok(taken)
}

/// One line on stderr per event, as the run goes.
fn progress(system: &str, fault: Fault, taken: &Takeover, started: std::time::Instant) {
    eprintln!(
        "{system}: {}: a writable new master after {} ms (steady again {:.1} s after the fault)",
        fault.name(),
        taken.writable_ms,
        started.elapsed().as_secs_f64()
    );
}
