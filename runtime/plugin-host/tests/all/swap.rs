//! Hot swap: under concurrent calls no call is lost and none mixes
//! versions; broken candidates are refused and the old version keeps
//! serving; the watched directory installs replaced files; the compiled
//! artefact cache survives a restart.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use strand_devcluster::plugins::names;
use strand_plugin_host::{
    CallOptions, HostConfig, InMemoryCustomizedState, LoadError, PluginHost, PluginOptions,
    PluginRegistry, SwapOutcome, SwapPolicy,
};

use crate::common::{cache_dir, ctx, host, plugin, registry_with};

#[test]
fn swap_under_concurrent_calls_loses_none_and_mixes_no_versions() {
    let registry = registry_with("ms", names::MASTER_SLAVE, PluginOptions::default());
    let model = registry.state_model("ms").expect("state model");
    let v1 = std::fs::read(plugin(names::MASTER_SLAVE)).expect("v1");
    let v2 = std::fs::read(plugin(names::MASTER_SLAVE_NEXT)).expect("v2");
    let stop = AtomicBool::new(false);
    let (calls, failures) = (AtomicU64::new(0), AtomicU64::new(0));
    let seen = [AtomicU64::new(0), AtomicU64::new(0)];
    let swaps = std::thread::scope(|s| {
        for t in 0..3 {
            let (model, stop, calls, failures, seen) =
                (model.clone(), &stop, &calls, &failures, &seen);
            s.spawn(move || {
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let store = Arc::new(InMemoryCustomizedState::new());
                    let opts = CallOptions {
                        customized_state: Some(store.clone()),
                        ..CallOptions::default()
                    };
                    let mut c = ctx(&format!("db_{t}_{i}"), "OFFLINE", "SLAVE");
                    c.config
                        .push(("strand.customized-state-type".into(), "V".into()));
                    i += 1;
                    calls.fetch_add(1, Ordering::Relaxed);
                    let Ok(out) = model.transition(&c, &opts) else {
                        failures.fetch_add(1, Ordering::Relaxed);
                        continue;
                    };
                    // Three witnesses of the version, all from the same call.
                    let written = store
                        .snapshot("V", "db", &c.partition)
                        .and_then(|m| m.get("PLUGIN_VERSION").cloned());
                    let reported = &out.version.version;
                    assert_eq!(
                        written.as_deref(),
                        Some(reported.as_str()),
                        "customized state vs host report"
                    );
                    assert_eq!(
                        out.note,
                        format!("MasterSlave {reported}: OFFLINE->SLAVE"),
                        "note vs host report"
                    );
                    seen[usize::from(reported == "0.2.0")].fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        let mut swaps = 0;
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(3) {
            let bytes = if swaps % 2 == 0 { &v2 } else { &v1 };
            let report = registry
                .install_bytes("ms", bytes, PluginOptions::default())
                .expect("swap");
            assert_eq!(report.outcome, SwapOutcome::Swapped);
            assert!(report.changes.is_empty(), "{}", report.changes);
            swaps += 1;
            std::thread::sleep(Duration::from_millis(20));
        }
        stop.store(true, Ordering::Relaxed);
        swaps
    });
    let (calls, failures) = (
        calls.load(Ordering::Relaxed),
        failures.load(Ordering::Relaxed),
    );
    let (old, new) = (
        seen[0].load(Ordering::Relaxed),
        seen[1].load(Ordering::Relaxed),
    );
    assert_eq!(failures, 0, "failed calls during {swaps} swaps");
    assert_eq!(old + new, calls, "every call answered");
    assert!(
        swaps >= 10 && old > 0 && new > 0,
        "swaps {swaps}, calls on 0.1.0 {old}, on 0.2.0 {new}"
    );
}

#[test]
fn broken_candidates_are_refused_and_the_old_version_keeps_serving() {
    let registry = registry_with("ms", names::MASTER_SLAVE, PluginOptions::default());
    let model = registry.state_model("ms").expect("state model");
    let refuse = |bytes: &[u8]| {
        registry
            .install_bytes("ms", bytes, PluginOptions::default())
            .expect_err("candidate must be refused")
            .error
    };
    let file = |name| std::fs::read(plugin(name)).expect("plugin file");

    assert!(matches!(
        refuse(b"definitely not wasm"),
        LoadError::NotAComponent(_)
    ));
    assert!(matches!(
        refuse(b"\0asm\x01\0\0\0"),
        LoadError::NotAComponent(_)
    ));
    assert!(matches!(
        refuse(&file(names::FAULTY_DEFINITION)),
        LoadError::Describe(_)
    ));
    assert!(matches!(
        refuse(&file(names::WRONG_WORLD)),
        LoadError::IncompatibleVersion { .. }
    ));
    assert!(matches!(
        refuse(&file(names::DEFAULT_VIEW)),
        LoadError::KindMismatch { .. }
    ));
    match refuse(&file(names::ONLINE_OFFLINE)) {
        LoadError::DefinitionChanged(changes) => {
            assert!(
                changes
                    .breaking
                    .iter()
                    .any(|c| c.contains("name MasterSlave -> OnlineOffline")),
                "{changes}"
            );
        }
        other => panic!("expected a definition change, got {other}"),
    }
    // Even a permissive policy refuses a plugin whose definition traps.
    let any = PluginOptions {
        swap_policy: SwapPolicy::AnyChange,
        ..PluginOptions::default()
    };
    assert!(
        registry
            .install_bytes("ms", &file(names::FAULTY_DEFINITION), any)
            .is_err()
    );

    assert_eq!(model.version().version, "0.1.0");
    let out = model
        .transition(&ctx("db_0", "OFFLINE", "SLAVE"), &CallOptions::default())
        .expect("old serves");
    assert_eq!(out.version.version, "0.1.0");
}

#[test]
fn rollback_restores_the_previous_version() {
    let registry = registry_with("ms", names::MASTER_SLAVE, PluginOptions::default());
    registry
        .install_file(
            "ms",
            &plugin(names::MASTER_SLAVE_NEXT),
            PluginOptions::default(),
        )
        .expect("swap");
    let model = registry.state_model("ms").expect("state model");
    assert_eq!(model.version().version, "0.2.0");
    assert_eq!(
        registry
            .rollback("ms")
            .map(|v| v.version.clone())
            .as_deref(),
        Some("0.1.0")
    );
    assert_eq!(model.version().version, "0.1.0");
}

#[test]
fn replacing_a_file_in_the_watched_directory_swaps_it_in() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::copy(plugin(names::MASTER_SLAVE), dir.path().join("ms.wasm")).expect("copy");
    let registry = PluginRegistry::new(host());
    let (tx, rx) = std::sync::mpsc::channel();
    let _watch = registry
        .watch_dir(dir.path(), PluginOptions::default(), move |r| {
            let _ = tx.send(
                r.map(|r| r.current.version.clone())
                    .map_err(|e| e.to_string()),
            );
        })
        .expect("watch");
    assert_eq!(
        rx.recv_timeout(Duration::from_secs(10))
            .expect("initial report"),
        Ok("0.1.0".to_owned())
    );

    // Replace by atomic rename, as an operator (or a deploy tool) would.
    let staged = dir.path().join(".ms.wasm.staged");
    std::fs::copy(plugin(names::MASTER_SLAVE_NEXT), &staged).expect("stage");
    std::fs::rename(&staged, dir.path().join("ms.wasm")).expect("replace");
    let model = registry.state_model("ms").expect("state model");
    let deadline = Instant::now() + Duration::from_secs(10);
    while model.version().version != "0.2.0" {
        assert!(
            Instant::now() < deadline,
            "new version not live; reports: {:?}",
            rx.try_iter().collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = model
        .transition(&ctx("db_0", "OFFLINE", "SLAVE"), &CallOptions::default())
        .expect("call");
    assert_eq!(out.version.version, "0.2.0");

    // A broken file is refused; the running version stays.
    std::fs::write(&staged, b"garbage").expect("stage");
    std::fs::rename(&staged, dir.path().join("ms.wasm")).expect("replace");
    let refused = loop {
        match rx
            .recv_timeout(Duration::from_secs(10))
            .expect("report for the broken file")
        {
            Err(e) => break e,
            Ok(_) => continue,
        }
    };
    assert!(refused.contains("not a component"), "{refused}");
    assert_eq!(model.version().version, "0.2.0");
}

#[test]
fn compiled_artefacts_are_cached_on_disk_across_hosts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = HostConfig {
        cache_dir: Some(dir.path().to_owned()),
        ..HostConfig::default()
    };
    let bytes = std::fs::read(plugin(names::LEADER_STANDBY)).expect("plugin");
    let first = PluginHost::new(config.clone()).expect("host");
    let started = Instant::now();
    first.compile(&bytes).expect("compile");
    let compile = started.elapsed();
    drop(first);
    let cached: Vec<_> = std::fs::read_dir(dir.path())
        .expect("cache dir")
        .filter_map(Result::ok)
        .collect();
    assert_eq!(cached.len(), 1, "one artefact");
    assert!(cached[0].file_name().to_string_lossy().ends_with(".cwasm"));

    let second = PluginHost::new(config).expect("host after restart");
    let started = Instant::now();
    second.compile(&bytes).expect("load cached");
    let load = started.elapsed();
    assert!(
        load < compile,
        "cached load {load:?} vs compile {compile:?}"
    );
    let _ = cache_dir();
}
