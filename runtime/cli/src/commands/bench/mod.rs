//! `strand bench`: cluster-level figures on this machine, printed as JSON
//! on stdout (progress on stderr). Starts a private ZooKeeper unless
//! `--zk` is given, then runs a real controller and real participants —
//! in this process, sharing one plugin host — whose MasterSlave state
//! model is the Rust plugin from `plugins/`.
//!
//! Measured, in order:
//! 1. a 12 × 3 resource from controller start to converged (Java Helix
//!    2.0.1 takes about 1.6 s for this on this kind of machine);
//! 2. cold convergence of `--partitions` × 3 MasterSlave;
//! 3. sustained transitions per second while every master moves;
//! 4. ideal-state change → external view latency (p50, p99);
//! 5. failover time after a graceful stop of one participant;
//! 6. the controller's pipeline time per run with `--big` more partitions
//!    (in resources of at most 1,000 partitions, so every external view
//!    stays under ZooKeeper's 1 MiB znode limit).

mod cluster;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use clap::Args;
use serde_json::json;
use strand_controller::{Controller, ControllerHandle, RunReport};

use super::GlobalArgs;
use cluster::{BenchCluster, percentile};

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
    /// Extra partitions for the pipeline-time step (0 skips it).
    #[arg(long, default_value_t = 10_000)]
    pub big: u32,
    /// How long the pipeline-time step watches the big rebalance.
    #[arg(long, default_value_t = 60)]
    pub big_wait: u64,
    /// Ideal-state → external-view samples.
    #[arg(long, default_value_t = 40)]
    pub latency_samples: usize,
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
}

fn progress(what: &str) {
    eprintln!("==> {what}");
}

/// Runs the benchmark.
pub async fn run(global: &GlobalArgs, args: BenchArgs) -> Result<ExitCode> {
    if args.participants < 3 {
        bail!("--participants must be at least 3 (resources have 3 replicas)");
    }
    if args.partitions == 0 {
        bail!("--partitions must be at least 1");
    }
    let step = Duration::from_secs(args.step_timeout);
    let bench = BenchCluster::start(global.zk.as_deref(), &args).await?;
    let result = measure(&bench, &args, step).await;
    bench.stop().await;
    let figures = result?;
    println!("{}", serde_json::to_string_pretty(&figures)?);
    Ok(ExitCode::SUCCESS)
}

async fn measure(
    bench: &BenchCluster,
    args: &BenchArgs,
    step: Duration,
) -> Result<serde_json::Value> {
    // 1. Small resource, from controller start.
    progress("12 × 3 MasterSlave: from controller start to converged");
    bench.add_resource("small", 12).await?;
    let started = Instant::now();
    let controller =
        Controller::start(bench.zk_config(), &bench.cluster, "bench-controller").await?;
    bench.wait_converged("small", 12, step).await?;
    let small_s = started.elapsed().as_secs_f64();

    // 2. Cold convergence.
    progress(&format!(
        "{} × 3 MasterSlave: cold convergence",
        args.partitions
    ));
    let sent_before = controller.status().messages_sent;
    let started = Instant::now();
    bench.add_resource("db", args.partitions).await?;
    bench.wait_converged("db", args.partitions, step).await?;
    let cold_s = started.elapsed().as_secs_f64();
    let cold_transitions = controller.status().messages_sent - sent_before;

    // 3. Sustained: every master moves (demote, then promote).
    progress("sustained transitions: every master of db moves");
    let sent_before = controller.status().messages_sent;
    let started = Instant::now();
    bench.rotate_preference_lists("db", None).await?;
    bench
        .wait_masters_preferred("db", args.partitions, step)
        .await?;
    let sustained_s = started.elapsed().as_secs_f64();
    let sustained = controller.status().messages_sent - sent_before;

    // 4. Ideal-state change → external view.
    progress("ideal-state change → external view latency");
    let mut latencies = Vec::with_capacity(args.latency_samples);
    for round in 0..args.latency_samples {
        let partition = format!("small_{}", round % 12);
        let master = bench
            .rotate_preference_lists("small", Some(&partition))
            .await?;
        let started = Instant::now();
        bench
            .wait_master("small", &partition, &master, step)
            .await?;
        latencies.push(started.elapsed().as_secs_f64() * 1e3);
    }
    latencies.sort_by(f64::total_cmp);

    // 5. Failover after a graceful stop.
    progress("failover after a graceful stop of one participant");
    let (stopped, failover_s) = bench.stop_one_and_wait_failover("db", step).await?;
    bench.restart(&stopped).await?;
    bench
        .wait_masters_preferred("db", args.partitions, step)
        .await?;

    // 6. Pipeline time per run at `big` more partitions.
    let big = if args.big > 0 {
        progress(&format!(
            "pipeline time per run with {} more partitions",
            args.big
        ));
        Some(big_step(bench, &controller, args).await?)
    } else {
        None
    };
    controller.shutdown().await?;

    Ok(json!({
        "zookeeper": if bench.private_zookeeper() { "private (started by the bench)" } else { "given with --zk" },
        "participants": args.participants,
        "participant_kind": "strand-participant in-process, Rust MasterSlave plugin (wasmtime)",
        "small_12x3_convergence_from_controller_start_s": small_s,
        "cold_convergence": {
            "partitions": args.partitions,
            "replicas": 3,
            "seconds": cold_s,
            "transitions": cold_transitions,
            "transitions_per_s": cold_transitions as f64 / cold_s,
        },
        "sustained_master_moves": {
            "transitions": sustained,
            "seconds": sustained_s,
            "transitions_per_s": sustained as f64 / sustained_s,
        },
        "ideal_state_to_external_view_ms": {
            "samples": latencies.len(),
            "p50": percentile(&latencies, 0.50),
            "p99": percentile(&latencies, 0.99),
        },
        "failover_after_graceful_stop_s": failover_s,
        "pipeline_at_big": big,
    }))
}

/// Adds `big` partitions (resources of ≤ 1,000) and records the
/// controller's runs while it rebalances them, then steady-state runs.
async fn big_step(
    bench: &BenchCluster,
    controller: &ControllerHandle,
    args: &BenchArgs,
) -> Result<serde_json::Value> {
    let mut status = controller.subscribe();
    let collect = tokio::spawn(async move {
        let mut runs: Vec<RunReport> = Vec::new();
        while status.changed().await.is_ok() {
            let last = status.borrow().last_run.clone();
            if let Some(run) = last
                && runs.last() != Some(&run)
            {
                runs.push(run);
            }
        }
        runs
    });
    let total_partitions = args.partitions + 12 + args.big;
    let resources = bench.add_big(args.big).await?;
    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.big_wait);
    let mut converged_s = None;
    while Instant::now() < deadline {
        if bench.all_converged(&resources).await? {
            converged_s = Some(started.elapsed().as_secs_f64());
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    // Steady state: on-demand runs once nothing is left to do (or the
    // cluster as it is at the end of the watch).
    let mut steady = Vec::new();
    for _ in 0..5 {
        controller.rebalance();
        let report = if converged_s.is_some() {
            controller
                .wait_converged(Duration::from_secs(60))
                .await
                .ok()
        } else {
            tokio::time::sleep(Duration::from_millis(500)).await;
            controller.status().last_run
        };
        if let Some(report) = report {
            steady.push(report);
        }
    }
    collect.abort();
    let runs = collect.await.unwrap_or_default();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let mut compute: Vec<f64> = runs.iter().map(|r| ms(r.compute)).collect();
    compute.sort_by(f64::total_cmp);
    let mut busy: Vec<f64> = runs
        .iter()
        .filter(|r| r.sent > 0)
        .map(|r| ms(r.total))
        .collect();
    busy.sort_by(f64::total_cmp);
    Ok(json!({
        "partitions_in_cluster": total_partitions,
        "resources_added": resources.len(),
        "converged_s": converged_s,
        "watched_s": args.big_wait,
        "runs_seen": runs.len(),
        "compute_ms_p50": percentile(&compute, 0.5),
        "compute_ms_max": compute.last().copied().unwrap_or(0.0),
        "busy_run_total_ms_p50": percentile(&busy, 0.5),
        "busy_run_total_ms_max": busy.last().copied().unwrap_or(0.0),
        "steady_run_compute_ms": steady.iter().map(|r| ms(r.compute)).collect::<Vec<_>>(),
        "steady_run_total_ms": steady.iter().map(|r| ms(r.total)).collect::<Vec<_>>(),
    }))
}
