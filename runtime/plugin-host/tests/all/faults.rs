//! The faulty plugin: a trap, a timeout and a memory blow-up each fail
//! their call with the reason, and the host keeps serving other calls;
//! deadlines hold with every core busy.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use strand_devcluster::plugins::names;
use strand_plugin_host::{
    CallError, CallOptions, Limits, PluginOptions, Rejection, StateModelHandle,
};

use crate::common::{ctx, registry_with};

fn faulty(limits: Limits) -> StateModelHandle {
    let registry = registry_with(
        "faulty",
        names::FAULTY,
        PluginOptions {
            limits,
            ..PluginOptions::default()
        },
    );
    registry.state_model("faulty").expect("faulty plugin")
}

fn still_serves(model: &StateModelHandle) {
    let out = model
        .transition(&ctx("ok_0", "OFFLINE", "ONLINE"), &CallOptions::default())
        .expect("healthy call");
    assert!(out.note.starts_with("faulty"), "{}", out.note);
}

#[test]
fn trap_fails_the_call_and_the_host_keeps_serving() {
    let model = faulty(Limits::default());
    still_serves(&model);
    for _ in 0..3 {
        match model.transition(&ctx("trap_0", "OFFLINE", "ONLINE"), &CallOptions::default()) {
            Err(CallError::Trap { trap, output }) => {
                assert!(trap.contains("unreachable"), "{trap}");
                // The panic message the plugin wrote to stderr comes with it.
                let output = output.unwrap_or_default();
                assert!(output.contains("deliberate trap in trap_0"), "{output}");
            }
            other => panic!("expected a trap, got {other:?}"),
        }
        still_serves(&model);
    }
}

/// Threads that keep every core busy until dropped.
struct BusyCores {
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl BusyCores {
    fn start() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        let stop = Arc::new(AtomicBool::new(false));
        let threads = (0..cores.max(2))
            .map(|_| {
                let stop = stop.clone();
                std::thread::spawn(move || {
                    let mut x = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
                    }
                })
            })
            .collect();
        Self { stop, threads }
    }
}

impl Drop for BusyCores {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// The call is interrupted by its deadline, never before it, and comes
/// back (no hang) with every core busy. How close to the deadline is
/// measured, not asserted (a loaded machine delays any thread): the
/// `deadline_under_load` example prints it.
#[test]
fn a_spinning_call_is_interrupted_by_its_deadline_with_every_core_busy() {
    let model = faulty(Limits::default());
    let _load = BusyCores::start();
    for deadline in [Duration::from_millis(1500), Duration::from_secs(3)] {
        let started = Instant::now();
        let result = model.transition(
            &ctx("spin_0", "OFFLINE", "ONLINE"),
            &CallOptions::with_deadline(deadline),
        );
        let took = started.elapsed();
        match result {
            Err(CallError::Timeout { deadline: d, .. }) => assert_eq!(d, deadline),
            other => panic!("expected a timeout, got {other:?}"),
        }
        assert!(
            took >= deadline,
            "deadline {deadline:?}, interrupted early, after {took:?}"
        );
        println!("deadline {deadline:?}: interrupted after {took:?}");
        still_serves(&model);
    }
}

#[test]
fn per_plugin_deadline_applies_when_the_call_sets_none() {
    let model = faulty(Limits {
        deadline: Duration::from_millis(150),
        ..Limits::default()
    });
    let result = model.transition(&ctx("spin_1", "OFFLINE", "ONLINE"), &CallOptions::default());
    // The plugin's own deadline (not the 30 s default) interrupted it.
    match result {
        Err(CallError::Timeout { deadline, .. }) => {
            assert_eq!(deadline, Duration::from_millis(150))
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
}

#[test]
fn memory_cap_stops_a_hog_and_the_host_keeps_serving() {
    let cap = 16 << 20;
    let model = faulty(Limits {
        memory_bytes: cap,
        ..Limits::default()
    });
    match model.transition(&ctx("hog_0", "OFFLINE", "ONLINE"), &CallOptions::default()) {
        Err(CallError::MemoryLimit { limit_bytes, .. }) => assert_eq!(limit_bytes, cap),
        other => panic!("expected the memory cap, got {other:?}"),
    }
    still_serves(&model);
}

#[test]
fn default_memory_cap_is_64_mib() {
    let model = faulty(Limits::default());
    match model.transition(&ctx("hog_1", "OFFLINE", "ONLINE"), &CallOptions::default()) {
        Err(CallError::MemoryLimit { limit_bytes, .. }) => assert_eq!(limit_bytes, 64 << 20),
        other => panic!("expected the memory cap, got {other:?}"),
    }
}

#[test]
fn err_results_map_to_rejections() {
    let model = faulty(Limits::default());
    let kind =
        |p: &str| match model.transition(&ctx(p, "OFFLINE", "ONLINE"), &CallOptions::default()) {
            Err(CallError::Rejected { kind, .. }) => kind,
            other => panic!("expected a rejection, got {other:?}"),
        };
    assert_eq!(kind("fatal_0"), Rejection::Fatal);
    assert_eq!(kind("retry_0"), Rejection::Retryable);
    still_serves(&model);
}

#[test]
fn a_spinning_call_does_not_block_other_partitions() {
    let model = faulty(Limits::default());
    std::thread::scope(|s| {
        let spinner = model.clone();
        let spin = s.spawn(move || {
            spinner.transition(
                &ctx("spin_2", "OFFLINE", "ONLINE"),
                &CallOptions::with_deadline(Duration::from_secs(5)),
            )
        });
        std::thread::sleep(Duration::from_millis(50));
        for i in 0..50 {
            model
                .transition(
                    &ctx(&format!("ok_{i}"), "OFFLINE", "ONLINE"),
                    &CallOptions::default(),
                )
                .expect("call");
        }
        // All fifty finished while the spinning call was still running.
        assert!(
            !spin.is_finished(),
            "other calls waited for the spinning one"
        );
        assert!(matches!(spin.join(), Ok(Err(CallError::Timeout { .. }))));
    });
}

/// Each call is in the process's metrics by plugin, version and outcome.
#[test]
fn every_outcome_is_counted_by_plugin_and_version() {
    let registry = registry_with(
        "faulty_counted",
        names::FAULTY,
        PluginOptions {
            limits: Limits {
                deadline: Duration::from_millis(200),
                memory_bytes: 16 << 20,
                ..Limits::default()
            },
            ..PluginOptions::default()
        },
    );
    let model = registry
        .state_model("faulty_counted")
        .expect("faulty plugin");
    let version = model.version().version.clone();
    for partition in ["ok_0", "ok_1", "trap_0", "spin_0", "hog_0"] {
        let _ = model.transition(
            &ctx(partition, "OFFLINE", "ONLINE"),
            &CallOptions::default(),
        );
    }
    let page = strand_metrics::global().encode(strand_metrics::Format::Text);
    for (outcome, n) in [
        ("returned", 2),
        ("trap", 1),
        ("timeout", 1),
        ("memory_limit", 1),
    ] {
        let series = format!(
            "strand_plugin_calls_total{{plugin=\"faulty_counted\",version=\"{version}\",outcome=\"{outcome}\"}} {n}\n"
        );
        assert!(page.contains(&series), "no {series:?} in\n{page}");
    }
    let active = format!(
        "strand_plugin_active_version{{plugin=\"faulty_counted\",version=\"{version}\"}} 1\n"
    );
    assert!(page.contains(&active), "{page}");
    assert!(registry.remove("faulty_counted"));
    let page = strand_metrics::global().encode(strand_metrics::Format::Text);
    assert!(
        !page.contains(&active),
        "a removed plugin has no active version:\n{page}"
    );
}
