//! The faulty plugin: a trap, a timeout and a memory blow-up each fail
//! their call with the reason, and the host keeps serving other calls.

use std::time::{Duration, Instant};

use strand_plugin_host::{
    CallError, CallOptions, Limits, PluginOptions, Rejection, StateModelHandle,
};
use strand_testkit::plugins::names;

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
            Err(CallError::Trap(reason)) => assert!(reason.contains("unreachable"), "{reason}"),
            other => panic!("expected a trap, got {other:?}"),
        }
        still_serves(&model);
    }
}

#[test]
fn timeout_is_honoured_within_twice_the_deadline() {
    let model = faulty(Limits::default());
    // Deadlines long enough that a loaded 2-core machine's scheduling
    // noise stays well inside the 2x window the issue asks for.
    for deadline in [Duration::from_millis(1000), Duration::from_millis(2000)] {
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
            took >= deadline && took < deadline * 2,
            "deadline {deadline:?}, interrupted after {took:?}"
        );
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
