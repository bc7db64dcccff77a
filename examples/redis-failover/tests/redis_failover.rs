//! The Redis failover example end to end, as `cargo xtask redis-failover`
//! runs it: real redis-servers (Debian's `redis-server`), a real ZooKeeper,
//! `strand controller` and three `strand participant` processes running
//! the real `redis-master-slave` component, a graceful stop, a kill -9 of
//! a MASTER's redis-server, of a whole node and of a participant alone,
//! each followed by the node's return. Never two Redis masters for a partition (`ROLE` of
//! every server, counted when two reads agree), no acknowledged write lost
//! in the graceful stop, and every event converges again.
//!
//! The comparison with Redis Sentinel runs too, one round, beside it: every
//! fault is measured on both systems, and in Strand's planned handoff the
//! old master refuses writes before the new one takes any.
//!
//! `strand` must be built in the same target directory (`cargo test
//! --workspace` builds it; alone: `cargo build -p strand`).

use std::path::PathBuf;
use std::time::Duration;

use strand_devcluster::plugins::{names, plugin_path};
use strand_redis_failover::bench::{BenchOptions, Figures, compare};
use strand_redis_failover::scenario::{Options, run};

/// `strand` next to this test's `deps/` directory.
fn strand_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target directory");
    let strand = dir.join("strand");
    assert!(
        strand.exists(),
        "{} is missing: build it first (cargo build -p strand)",
        strand.display()
    );
    strand
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_stays_available_with_never_two_masters_and_no_lost_write_on_a_graceful_stop() {
    let report = run(Options {
        strand: strand_bin(),
        plugin: plugin_path(names::REDIS_MASTER_SLAVE).expect("plugin built"),
        partitions: 4,
        logs: None,
    })
    .await
    .unwrap_or_else(|e| panic!("the example run failed: {e:#}"));
    println!(
        "{}",
        serde_json::to_string_pretty(&report).expect("report as JSON")
    );
    assert!(
        report.watched.samples > 0,
        "the ROLE watcher took no consistent sample"
    );
    assert_eq!(report.events.len(), 4);
    for event in &report.events {
        assert!(
            event.written.acked > 0,
            "{}: no write was acknowledged during the event",
            event.name
        );
    }
    if let Some(why) = report.broken_promise() {
        panic!("{why} (logs in {})", report.logs.display());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn strand_and_sentinel_are_timed_on_every_fault_and_strand_never_has_two_writable_masters() {
    let comparison = compare(BenchOptions {
        strand: strand_bin(),
        plugin: plugin_path(names::REDIS_MASTER_SLAVE).expect("plugin built"),
        rounds: 1,
        session_timeout: Duration::from_secs(4),
        both_cap: Duration::from_secs(1),
        logs: None,
    })
    .await
    .unwrap_or_else(|e| panic!("the comparison failed: {e:#}"));
    println!(
        "{}",
        serde_json::to_string_pretty(&comparison).expect("comparison as JSON")
    );
    for (system, side) in [
        ("Strand", &comparison.strand),
        ("Sentinel", &comparison.sentinel),
    ] {
        for (fault, figures) in [
            ("redis-server kill", &side.redis_kill),
            ("host kill", &side.host_kill),
            ("planned stop", &side.planned_stop),
        ] {
            assert_eq!(figures.runs.len(), 1, "{system}, {fault}: {figures:?}");
            assert!(figures.median_ms > 0.0, "{system}, {fault}: {figures:?}");
        }
    }
    let planned: &Figures = &comparison.strand.planned_stop;
    for run in &planned.runs {
        assert_eq!(
            run.both_writable_ms,
            Some(0.0),
            "Strand's old master took writes after the new one did: {run:?}"
        );
    }
}
