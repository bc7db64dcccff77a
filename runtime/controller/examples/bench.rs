//! Controller benchmark (issue 5, item 6). Prints one JSON object.
//!
//! ```text
//! cargo run --release -p strand-controller --example bench [-- --zk HOST:PORT] [--big N] [--big-wait SECONDS]
//! ```
//!
//! Starts a private ZooKeeper unless `--zk` is given (the cluster `TEST`
//! must then not exist). Participants are simulated in this process with
//! the test harness (`tests/all/common`): each does on ZooKeeper what a
//! participant does (LiveInstance, current state written, then the message
//! deleted), one message at a time, with no state-model plugin — so the
//! figures measure the controller and ZooKeeper, and transitions per
//! second are bounded by these simple participants.

#[path = "../tests/all/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::*;
use strand_admin::{Admin, RebalanceMode};
use strand_controller::{Controller, RunReport};
use strand_model::IdealState;
use strand_zk::server::LocalZk;
use strand_zk::{Accessor, Update, Zk, ZkConfig};

const PARTICIPANTS: usize = 10;

type BenchResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

#[tokio::main]
async fn main() -> BenchResult<()> {
    let mut zk_arg = None;
    let mut big = 10_000usize;
    let mut big_wait = 120u64;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--zk" => zk_arg = args.next(),
            "--big" => big = args.next().and_then(|v| v.parse().ok()).unwrap_or(big),
            "--big-wait" => {
                big_wait = args.next().and_then(|v| v.parse().ok()).unwrap_or(big_wait);
            }
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let server = match &zk_arg {
        Some(_) => None,
        None => Some(LocalZk::start()?),
    };
    let connect = zk_arg
        .clone()
        .or_else(|| server.as_ref().map(LocalZk::connect_string))
        .ok_or("no ZooKeeper")?;
    let config = ZkConfig::new(connect.clone()).with_session_timeout(Duration::from_secs(20));
    let zk = Zk::connect(config.clone()).await?;
    let admin = Admin::new(zk.clone());
    admin.add_cluster(CLUSTER).await?;
    for i in 0..PARTICIPANTS {
        admin
            .add_instance(CLUSTER, &format!("host_{}", 12000 + i))
            .await?;
    }

    // 1. Small: 12 partitions × 3 replicas, the size Java Helix did in 1.6 s.
    admin
        .add_resource(CLUSTER, "small", 12, "MasterSlave", RebalanceMode::SemiAuto)
        .await?;
    admin.rebalance(CLUSTER, "small", 3).await?;
    let mut sims = Vec::new();
    for i in 0..PARTICIPANTS {
        sims.push(SimParticipant::start_on(&config, &format!("host_{}", 12000 + i)).await);
    }
    let started = Instant::now();
    let ctl = Controller::start(config.clone(), CLUSTER, "bench-controller").await?;
    wait_view(&zk, "small", "small converged", |v| {
        every_partition(v, 12, &[("MASTER", 1), ("SLAVE", 2)])
    })
    .await;
    let small_s = started.elapsed().as_secs_f64();

    // 2. Cold convergence of 1,000 × 3 (controller already leading).
    let before = applied(&sims).await;
    admin
        .add_resource(CLUSTER, "db", 1000, "MasterSlave", RebalanceMode::SemiAuto)
        .await?;
    admin.rebalance(CLUSTER, "db", 3).await?;
    let started = Instant::now();
    wait_view(&zk, "db", "db converged", |v| {
        every_partition(v, 1000, &[("MASTER", 1), ("SLAVE", 2)])
    })
    .await;
    let cold_s = started.elapsed().as_secs_f64();
    let cold_transitions = applied(&sims).await - before;

    // 3. Sustained transitions: move every master (demote + promote).
    let before = applied(&sims).await;
    let started = Instant::now();
    rotate_masters(&zk, "db", None).await?;
    let ideal = admin.ideal_state(CLUSTER, "db").await?;
    wait_view(&zk, "db", "masters moved", |v| {
        every_partition(v, 1000, &[("MASTER", 1), ("SLAVE", 2)])
            && v.iter().all(|(p, m)| {
                let first = ideal.preference_list(p).and_then(|l| l.first());
                first.is_some_and(|f| m.get(f).map(String::as_str) == Some("MASTER"))
            })
    })
    .await;
    let sustained_s = started.elapsed().as_secs_f64();
    let sustained = applied(&sims).await - before;
    ctl.wait_converged(DEADLINE).await?;

    // 4. Ideal-state change → external view, one partition at a time.
    let mut latencies = Vec::new();
    for round in 0..40 {
        let partition = format!("small_{}", round % 12);
        let (_, want) = rotate_masters(&zk, "small", Some(&partition)).await?;
        let started = Instant::now();
        eventually("view follows", || async {
            let v = external_view(&zk, "small").await?;
            (v.get(&partition)?.get(&want).map(String::as_str) == Some("MASTER")).then_some(())
        })
        .await;
        latencies.push(started.elapsed().as_secs_f64() * 1e3);
    }
    latencies.sort_by(f64::total_cmp);

    // 5. Failover after a graceful stop of one participant.
    ctl.wait_converged(DEADLINE).await?;
    let gone = sims.remove(0);
    let name = gone.name.clone();
    let started = Instant::now();
    gone.stop().await;
    wait_view(
        &zk,
        "db",
        "masters moved off the stopped participant",
        |v| {
            v.values()
                .all(|m| !m.contains_key(&name) && counts(m).get("MASTER") == Some(&1))
        },
    )
    .await;
    let failover_s = started.elapsed().as_secs_f64();
    sims.insert(0, SimParticipant::start_on(&config, &name).await);
    ctl.wait_converged(DEADLINE).await?;

    eprintln!(
        "small {small_s:.3} s; cold {cold_s:.3} s ({cold_transitions} transitions); \
         sustained {sustained} in {sustained_s:.3} s; failover {failover_s:.3} s; \
         IS→EV p50 {:.1} ms p99 {:.1} ms",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99)
    );

    // 6. Pipeline time per run with `big` more partitions.
    admin
        .add_resource(
            CLUSTER,
            "big",
            big as u32,
            "MasterSlave",
            RebalanceMode::SemiAuto,
        )
        .await?;
    admin.rebalance(CLUSTER, "big", 3).await?;
    let mut status = ctl.subscribe();
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
    let started = Instant::now();
    // The view of `big` partitions is large: look every two seconds, for
    // at most `--big-wait` seconds; the pipeline figures come from the
    // runs seen meanwhile either way.
    let end = started + Duration::from_secs(big_wait);
    let mut big_s = None;
    while Instant::now() < end {
        let done = external_view(&zk, "big")
            .await
            .is_some_and(|v| every_partition(&v, big, &[("MASTER", 1), ("SLAVE", 2)]));
        if done {
            big_s = Some(started.elapsed().as_secs_f64());
            break;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    let big_transitions = applied(&sims).await;
    let mut steady = Vec::new();
    if big_s.is_some() {
        for _ in 0..5 {
            steady.push(ctl.wait_converged(DEADLINE).await?);
        }
    }
    ctl.shutdown().await?;
    let runs = collect.await.unwrap_or_default();
    let busy: Vec<f64> = runs
        .iter()
        .filter(|r| r.sent > 0)
        .map(|r| r.total.as_secs_f64() * 1e3)
        .collect();
    let compute: Vec<f64> = runs.iter().map(|r| r.compute.as_secs_f64() * 1e3).collect();
    let steady_total: Vec<f64> = steady.iter().map(|r| r.total.as_secs_f64() * 1e3).collect();

    let out = serde_json::json!({
        "zookeeper": if zk_arg.is_some() { "given" } else { "private (LocalZk)" },
        "participants": PARTICIPANTS,
        "participant_kind": "simulated in-process (current state then message delete, one message at a time)",
        "small_12x3_convergence_from_controller_start_s": small_s,
        "cold_convergence_1000x3_s": cold_s,
        "cold_convergence_transitions": cold_transitions,
        "cold_transitions_per_s": cold_transitions as f64 / cold_s,
        "sustained_master_moves_transitions": sustained,
        "sustained_transitions_per_s": sustained as f64 / sustained_s,
        "ideal_state_to_external_view_ms": {
            "samples": latencies.len(),
            "p50": percentile(&latencies, 0.50),
            "p99": percentile(&latencies, 0.99),
        },
        "failover_after_graceful_stop_s": failover_s,
        "big_partitions": big,
        "big_total_partitions_in_cluster": big + 1012,
        "big_convergence_s": big_s,
        "big_wait_s": big_wait,
        "transitions_applied_total": big_transitions,
        "pipeline_at_big": {
            "runs_seen": runs.len(),
            "compute_ms_p50": percentile(&sorted(compute.clone()), 0.50),
            "compute_ms_max": sorted(compute).last().copied().unwrap_or(0.0),
            "busy_run_total_ms_p50": percentile(&sorted(busy.clone()), 0.50),
            "busy_run_total_ms_max": sorted(busy).last().copied().unwrap_or(0.0),
            "steady_run_total_ms": steady_total,
        },
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    for sim in sims {
        sim.stop().await;
    }
    Ok(())
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    v
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

async fn applied(sims: &[SimParticipant]) -> usize {
    let mut n = 0;
    for sim in sims {
        n += sim.applied.lock().await.len();
    }
    n
}

/// Rotates preference lists by one (all partitions, or one): the second
/// instance becomes preferred. Returns the resource's new first instance
/// of `only` (or of the last partition touched).
async fn rotate_masters(zk: &Zk, resource: &str, only: Option<&str>) -> BenchResult<((), String)> {
    let mut first = String::new();
    Accessor::new(zk.clone())
        .update(&paths().ideal_state(resource), false, |current| {
            let Some(record) = current else {
                return Update::Keep;
            };
            let mut ideal = IdealState::from(record);
            let partitions: Vec<String> =
                ideal.partitions().into_iter().map(str::to_owned).collect();
            for p in partitions {
                if only.is_some_and(|o| o != p) {
                    continue;
                }
                let mut list = ideal
                    .preference_list(&p)
                    .map(<[String]>::to_vec)
                    .unwrap_or_default();
                if !list.is_empty() {
                    list.rotate_left(1);
                    first = list[0].clone();
                }
                ideal.set_preference_list(&p, list);
            }
            Update::Write(ideal.into_record())
        })
        .await?;
    Ok(((), first))
}
