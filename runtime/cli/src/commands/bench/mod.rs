//! `strand bench`: cluster-level figures on this machine, printed as JSON
//! on stdout (progress on stderr). Starts a private ZooKeeper unless
//! `--zk` is given, then runs a real controller (on its own runtime
//! threads, so its CPU time is measured apart) and real participants — in
//! this process, sharing one plugin host — whose MasterSlave state model
//! is the Rust plugin from `plugins/`. Every wait is on the routing table's
//! change notifications (`strand-spectator`), never a polling loop.
//!
//! Measured, in order:
//! 1. a 12 × 3 resource from controller start to converged (Java Helix
//!    2.0.1 takes about 1.6 s for this on this kind of machine);
//! 2. cold convergence of `--partitions` × 3 MasterSlave: time,
//!    transitions per second, external-view writes, ZooKeeper requests per
//!    transition of the participants' and the controller's sessions, and
//!    the controller's CPU time;
//! 3. sustained transitions per second while every master moves;
//! 4. ideal-state change → new master visible in the routing table (p50,
//!    p99), one partition at a time;
//! 5. failover after a graceful stop of one participant;
//! 6. `--resources` more resources of `--partitions` × 3 at once (cold);
//! 7. with `--big`, that many more partitions (resources of at most 1,000,
//!    so every external view stays under ZooKeeper's 1 MiB znode limit):
//!    convergence, ideal-state change latency at that size, and the
//!    controller's pipeline run times;
//! 8. the controller's resident memory at the end, measured in a
//!    `strand controller` process that takes over the cluster.
//!
//! `--rolling-restart` measures something else instead: every participant
//! restarted in turn, with and without the drain (`rolling`).

mod cluster;
mod process;
mod rolling;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Args;
use serde_json::{Value, json};
use strand_controller::{Controller, ControllerHandle, RunReport};
use strand_rebalance::handoffs;
use strand_zk::RequestCounts;

use super::GlobalArgs;
use cluster::{BenchCluster, percentile};

/// The controller's runtime threads are named after this (Linux keeps 15
/// characters of a thread name).
const CONTROLLER_THREADS: &str = "strand-ctl";

/// Options of `strand bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Cluster name (must not exist).
    #[arg(long, default_value = "STRAND_BENCH")]
    pub cluster: String,
    /// Participants (in this process).
    #[arg(long, default_value_t = 10)]
    pub participants: usize,
    /// Partitions of the cold-convergence resource (3 replicas each).
    #[arg(long, default_value_t = 1000)]
    pub partitions: u32,
    /// Resources added at once in the multi-resource step (0 skips it).
    #[arg(long, default_value_t = 3)]
    pub resources: u32,
    /// Extra partitions for the big step (0 skips it).
    #[arg(long, default_value_t = 10_000)]
    pub big: u32,
    /// Ideal-state → routing-table samples.
    #[arg(long, default_value_t = 40)]
    pub latency_samples: usize,
    /// Skip the controller-process memory step.
    #[arg(long)]
    pub no_memory: bool,
    /// Where the built plugins are (`master_slave.wasm`).
    #[arg(
        long,
        env = "STRAND_PLUGIN_DIR",
        default_value = "plugins/target/wasm32-wasip2/release"
    )]
    pub plugin_dir: PathBuf,
    /// How long any one step may take before the bench gives up.
    #[arg(long, default_value_t = 300)]
    pub step_timeout: u64,
    /// Instead of the steps above: restart every participant of a
    /// converged `--partitions` × 3 cluster in turn — with the drain a
    /// SIGTERM does first and relay messages, with the drain only, and
    /// without either — and measure how long partitions go without a
    /// MASTER.
    #[arg(long)]
    pub rolling_restart: bool,
    /// With `--rolling-restart`: the drain's timeout (as `strand
    /// participant --drain-timeout`).
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
    pub drain_timeout: Duration,
    /// With `--rolling-restart`: the cluster's limit of partitions left
    /// without their MASTER at once by planned handoffs (the cluster
    /// config's `STRAND_MAX_TOP_STATE_HANDOFFS`; `-1` lifts it). Default:
    /// the controller's.
    #[arg(long, allow_negative_numbers = true)]
    pub max_handoffs: Option<i64>,
}

fn progress(what: &str) {
    eprintln!("==> {what}");
}

/// The controller's own runtime (its CPU is measured apart). Shut down in
/// the background when dropped, on every path: dropping a runtime inside
/// another runtime's async context panics, which hid the error of a bench
/// whose set-up failed.
struct ControllerRuntime {
    handle: tokio::runtime::Handle,
    runtime: Option<tokio::runtime::Runtime>,
}

impl ControllerRuntime {
    fn start() -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name(CONTROLLER_THREADS)
            .enable_all()
            .build()
            .context("starting the controller's runtime")?;
        Ok(Self {
            handle: runtime.handle().clone(),
            runtime: Some(runtime),
        })
    }

    fn handle(&self) -> &tokio::runtime::Handle {
        &self.handle
    }
}

impl Drop for ControllerRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// Runs the benchmark.
pub async fn run(global: &GlobalArgs, args: BenchArgs) -> Result<ExitCode> {
    if args.participants < 3 {
        bail!("--participants must be at least 3 (resources have 3 replicas)");
    }
    if args.partitions == 0 {
        bail!("--partitions must be at least 1");
    }
    if args.latency_samples == 0 {
        bail!("--latency-samples must be at least 1");
    }
    let controller_runtime = ControllerRuntime::start()?;
    let step = Duration::from_secs(args.step_timeout);
    let bench = BenchCluster::start(global.zk.as_deref(), &args).await?;
    let mut figures = Figures::new(&bench, &args);
    let result = if args.rolling_restart {
        rolling_restart(
            &bench,
            &args,
            step,
            controller_runtime.handle(),
            &mut figures,
        )
        .await
    } else {
        measure(
            &bench,
            &args,
            step,
            controller_runtime.handle(),
            &mut figures,
        )
        .await
    };
    bench.stop().await;
    drop(controller_runtime);
    // What was measured is printed even when a later step fails.
    if let Err(err) = &result {
        figures.record("error", json!(format!("{err:#}")));
    }
    println!("{}", serde_json::to_string_pretty(&figures.0)?);
    result.map(|()| ExitCode::SUCCESS)
}

/// The figures measured so far, in step order.
struct Figures(serde_json::Map<String, Value>);

impl Figures {
    fn new(bench: &BenchCluster, args: &BenchArgs) -> Self {
        let mut figures = Self(serde_json::Map::new());
        figures.record(
            "zookeeper",
            json!(if bench.private_zookeeper() {
                "private (started by the bench)"
            } else {
                "given with --zk"
            }),
        );
        figures.record("participants", json!(args.participants));
        figures.record(
            "participant_kind",
            json!("strand-participant in-process, Rust MasterSlave plugin (wasmtime)"),
        );
        figures.record(
            "build",
            json!(if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            }),
        );
        figures
    }

    /// Keeps a step's figures and shows them on stderr as they come.
    fn record(&mut self, step: &str, value: Value) {
        eprintln!("    {step}: {value}");
        self.0.insert(step.to_owned(), value);
    }
}

/// Starts the controller on its own runtime.
async fn start_controller(
    bench: &BenchCluster,
    runtime: &tokio::runtime::Handle,
) -> Result<ControllerHandle> {
    let config = bench.zk_config();
    let cluster = bench.cluster().to_owned();
    runtime
        .spawn(async move { Controller::start(config, cluster, "bench-controller").await })
        .await
        .context("the controller's runtime stopped")?
        .context("starting the controller")
}

/// Counts what a step costs: transitions, requests, controller CPU.
struct Meter {
    started: Instant,
    sent: u64,
    participants: RequestCounts,
    controller: RequestCounts,
    cpu: Duration,
}

impl Meter {
    async fn start(bench: &BenchCluster, controller: &ControllerHandle) -> Self {
        Self {
            started: Instant::now(),
            sent: controller.status().messages_sent,
            participants: bench.participant_requests().await,
            controller: controller
                .session()
                .map(|zk| zk.requests())
                .unwrap_or_default(),
            cpu: process::threads_cpu(CONTROLLER_THREADS).unwrap_or_default(),
        }
    }

    /// Seconds, transitions and per-transition costs since `start`.
    async fn read(&self, bench: &BenchCluster, controller: &ControllerHandle) -> Value {
        let seconds = self.started.elapsed().as_secs_f64();
        let transitions = controller.status().messages_sent - self.sent;
        let participants = bench.participant_requests().await - self.participants;
        let controller_requests = controller
            .session()
            .map(|zk| zk.requests())
            .unwrap_or_default()
            - self.controller;
        let cpu = process::threads_cpu(CONTROLLER_THREADS).unwrap_or_default() - self.cpu;
        let per = |n: u64| n as f64 / transitions.max(1) as f64;
        json!({
            "seconds": seconds,
            "transitions": transitions,
            "transitions_per_s": transitions as f64 / seconds,
            "controller_cpu_s": cpu.as_secs_f64(),
            "zookeeper_requests_per_transition": {
                "participants": {
                    "reads": per(participants.reads),
                    "writes": per(participants.writes),
                    "multi_ops": per(participants.multis),
                    "operations_in_multi_ops": per(participants.multi_ops),
                    "write_requests": per(participants.write_requests()),
                    "total": per(participants.total()),
                },
                "controller": {
                    "reads": per(controller_requests.reads),
                    "writes": per(controller_requests.writes),
                    "multi_ops": per(controller_requests.multis),
                    "total": per(controller_requests.total()),
                },
            },
        })
    }
}

async fn measure(
    bench: &BenchCluster,
    args: &BenchArgs,
    step: Duration,
    runtime: &tokio::runtime::Handle,
    figures: &mut Figures,
) -> Result<()> {
    // 1. Small resource, from controller start.
    progress("12 × 3 MasterSlave: from controller start to converged");
    bench.add_resource("small", 12).await?;
    let started = Instant::now();
    let controller = start_controller(bench, runtime).await?;
    bench
        .wait_converged(&[("small".to_owned(), 12)], step)
        .await?;
    figures.record(
        "small_12x3_convergence_from_controller_start_s",
        json!(started.elapsed().as_secs_f64()),
    );

    // 2. Cold convergence.
    progress(&format!(
        "{} × 3 MasterSlave: cold convergence",
        args.partitions
    ));
    let meter = Meter::start(bench, &controller).await;
    bench.add_resource("db", args.partitions).await?;
    bench
        .wait_converged(&[("db".to_owned(), args.partitions)], step)
        .await?;
    let mut cold = meter.read(bench, &controller).await;
    let view_writes = bench.view_version("db").await?.map_or(0, |v| v + 1);
    cold["partitions"] = json!(args.partitions);
    cold["external_view_writes"] = json!(view_writes);
    figures.record("cold_convergence", cold);

    // 3. Sustained: every master moves (demote, then promote).
    progress("sustained transitions: every master of db moves");
    let meter = Meter::start(bench, &controller).await;
    bench.rotate_preference_lists("db", None).await?;
    bench
        .wait_masters_preferred("db", args.partitions, step)
        .await?;
    figures.record(
        "sustained_master_moves",
        meter.read(bench, &controller).await,
    );

    // 4. Ideal-state change → new master in the routing table.
    progress("ideal-state change → routing table latency (db)");
    let latency = latencies(bench, "db", args.partitions, args.latency_samples, step).await?;
    figures.record("ideal_state_to_routing_table_ms", latency);

    // 5. Failover after a graceful stop.
    progress("failover after a graceful stop of one participant");
    let (stopped, failover_s) = bench
        .stop_one_and_wait_failover("db", args.partitions, step)
        .await?;
    figures.record("failover_after_graceful_stop_s", json!(failover_s));
    bench.restart(&stopped).await?;
    bench
        .wait_masters_preferred("db", args.partitions, step)
        .await?;

    // 6. Several resources at once.
    if args.resources > 0 {
        progress(&format!(
            "{} resources of {} × 3 at once: cold convergence",
            args.resources, args.partitions
        ));
        let meter = Meter::start(bench, &controller).await;
        let mut added = Vec::new();
        for i in 0..args.resources {
            let name = format!("multi_{i}");
            bench.add_resource(&name, args.partitions).await?;
            added.push((name, args.partitions));
        }
        bench.wait_converged(&added, step).await?;
        let mut multi = meter.read(bench, &controller).await;
        multi["resources"] = json!(args.resources);
        figures.record("several_resources_cold", multi);
    }

    // 7. The big cluster.
    let partitions_in_cluster = 12 + args.partitions * (1 + args.resources) + args.big;
    figures.record("partitions_in_cluster", json!(partitions_in_cluster));
    if args.big > 0 {
        progress(&format!("{} more partitions: cold convergence", args.big));
        big_step(bench, &controller, args, step, figures).await?;
    }

    // 8. The controller's memory, in a process of its own.
    if !args.no_memory {
        progress("controller memory: a `strand controller` process takes over");
        controller.shutdown().await?;
        let memory = controller_process_memory(bench, partitions_in_cluster, step).await?;
        figures.record("controller_memory", memory);
    }
    Ok(())
}

/// `--rolling-restart` (see `rolling`): converge, then a round with the
/// drain and one without.
async fn rolling_restart(
    bench: &BenchCluster,
    args: &BenchArgs,
    step: Duration,
    runtime: &tokio::runtime::Handle,
    figures: &mut Figures,
) -> Result<()> {
    progress(&format!(
        "{} × 3 MasterSlave: converging before the rolling restarts",
        args.partitions
    ));
    bench.add_resource("db", args.partitions).await?;
    let controller = start_controller(bench, runtime).await?;
    bench
        .wait_converged(&[("db".to_owned(), args.partitions)], step)
        .await?;
    let max_handoffs = args.max_handoffs.map(|n| n.to_string());
    bench
        .set_cluster_config(handoffs::LIMIT_FIELD, max_handoffs.as_deref())
        .await?;
    figures.record(
        "max_top_state_handoffs",
        match handoffs::limit_of(max_handoffs.as_deref()) {
            Some(limit) => json!(limit),
            None => json!("no limit"),
        },
    );
    let watcher =
        rolling::MasterGaps::start(&bench.connect_string(), bench.cluster(), "db").await?;
    let sent = || controller.status().messages_sent;
    for (key, drain, relay) in [
        (
            "rolling_restart_with_drain_and_relay",
            Some(args.drain_timeout),
            true,
        ),
        (
            "rolling_restart_with_drain",
            Some(args.drain_timeout),
            false,
        ),
        ("rolling_restart_without_drain", None, false),
    ] {
        progress(&format!(
            "rolling restart of {} participants, {}",
            args.participants,
            match (drain, relay) {
                (Some(_), true) => "draining each first, relay (P2P) messages on",
                (Some(_), false) => "draining each first",
                (None, _) => "no drain",
            }
        ));
        bench
            .set_cluster_config("P2P_MESSAGE_ENABLED", relay.then_some("true"))
            .await?;
        let round = rolling::round(
            bench,
            sent,
            &watcher,
            args.participants,
            args.partitions,
            drain,
            step,
        )
        .await?;
        let mut round = round;
        round["relay_messages"] = json!(relay);
        figures.record(key, round);
    }
    controller.shutdown().await?;
    Ok(())
}

/// Moves one partition's master at a time and times until the routing
/// table shows the new master: p50, p99 and max in milliseconds.
async fn latencies(
    bench: &BenchCluster,
    resource: &str,
    partitions: u32,
    samples: usize,
    step: Duration,
) -> Result<Value> {
    let mut latencies = Vec::with_capacity(samples);
    for round in 0..samples {
        let partition = format!("{resource}_{}", (round * 7) % partitions as usize);
        let master = bench
            .rotate_preference_lists(resource, Some(&partition))
            .await?;
        let started = Instant::now();
        bench
            .wait_master(resource, &partition, &master, step)
            .await?;
        latencies.push(started.elapsed().as_secs_f64() * 1e3);
    }
    latencies.sort_by(f64::total_cmp);
    Ok(json!({
        "samples": latencies.len(),
        "p50": percentile(&latencies, 0.50),
        "p99": percentile(&latencies, 0.99),
        "max": latencies.last().copied().unwrap_or(0.0),
    }))
}

/// Adds `big` partitions (resources of ≤ 1,000), records the controller's
/// runs while it converges them, then measures ideal-state latency at
/// that size.
async fn big_step(
    bench: &BenchCluster,
    controller: &ControllerHandle,
    args: &BenchArgs,
    step: Duration,
    figures: &mut Figures,
) -> Result<()> {
    let mut status = controller.subscribe();
    let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
    let collect = tokio::spawn(async move {
        let mut runs: Vec<RunReport> = Vec::new();
        loop {
            tokio::select! {
                _ = &mut stopped => break,
                changed = status.changed() => if changed.is_err() { break },
            }
            let last = status.borrow().last_run.clone();
            if let Some(run) = last
                && runs.last() != Some(&run)
            {
                runs.push(run);
            }
        }
        runs
    });
    let meter = Meter::start(bench, controller).await;
    let added = bench.add_resources("big", args.big).await?;
    let converged = bench.wait_converged(&added, step).await;
    let convergence = meter.read(bench, controller).await;
    let _ = stop.send(());
    let runs = collect.await.unwrap_or_default();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let mut compute: Vec<f64> = runs.iter().map(|r| ms(r.compute)).collect();
    compute.sort_by(f64::total_cmp);
    let mut total: Vec<f64> = runs.iter().map(|r| ms(r.total)).collect();
    total.sort_by(f64::total_cmp);
    // Recorded also when it did not converge: the runs show where the time went.
    figures.record(
        "big",
        json!({
            "partitions_added": args.big,
            "resources_added": added.len(),
            "converged": converged.is_ok(),
            "convergence": convergence,
            "runs": runs.len(),
            "run_compute_ms": { "p50": percentile(&compute, 0.5), "max": compute.last().copied().unwrap_or(0.0) },
            "run_total_ms": { "p50": percentile(&total, 0.5), "max": total.last().copied().unwrap_or(0.0) },
            "last_run": runs.last().map(|r| format!("{r:?}")),
        }),
    );
    converged?;
    if let Some((resource, partitions)) = added.first() {
        progress("ideal-state change → routing table latency at the big size");
        let latency = latencies(
            bench,
            resource,
            *partitions,
            args.latency_samples.min(20),
            step,
        )
        .await?;
        figures.record("big_ideal_state_to_routing_table_ms", latency);
    }
    Ok(())
}

/// Starts `strand controller` as a child process on the bench cluster,
/// waits until it leads and a routing-table change it causes is visible,
/// and reads its resident memory.
async fn controller_process_memory(
    bench: &BenchCluster,
    partitions: u32,
    step: Duration,
) -> Result<Value> {
    let exe = std::env::current_exe().context("locating the strand binary")?;
    let mut child = tokio::process::Command::new(exe)
        .args(["--zk", &bench.connect_string(), "controller", "--cluster"])
        .arg(bench.cluster())
        .args(["--name", "bench-controller-process"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .context("starting `strand controller`")?;
    let pid = child.id().context("the controller process has no pid")?;
    let started = Instant::now();
    // The process leads once a master move it must make shows up.
    let master = bench.rotate_preference_lists("db", Some("db_0")).await?;
    bench.wait_master("db", "db_0", &master, step).await?;
    let took_over_s = started.elapsed().as_secs_f64();
    let (rss, peak) = process::resident_mib(pid).unwrap_or((0.0, 0.0));
    let cpu = process::process_cpu(pid).unwrap_or_default();
    let _ = child.kill().await;
    Ok(json!({
        "partitions_in_cluster": partitions,
        "took_over_and_moved_a_master_s": took_over_s,
        "resident_mib": rss,
        "peak_resident_mib": peak,
        "cpu_s_to_load_and_lead": cpu.as_secs_f64(),
    }))
}
