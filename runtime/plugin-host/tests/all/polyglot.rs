//! The MasterSlave model written in Python (componentize-py) and in
//! JavaScript (componentize-js), side by side with the Rust one: they load,
//! describe Helix's built-in definition, transition with the same outcomes,
//! use the customized-state import, and a fault inside their runtime (a
//! memory blow-up, a deadline overrun) fails that call only: the instance is
//! dropped and the plugin keeps serving from a fresh one. The default memory
//! cap is enough for both runtimes; a cap below what they need refuses the
//! install and keeps the running version.
//!
//! Compiling a 12–18 MB component takes 10 s idle and over a minute on a
//! loaded machine, so these tests share the
//! persistent cache `strand_devcluster::plugins::compiled_cache_dir()` and warm
//! it once per process before any install.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use strand_devcluster::plugins::{compiled_cache_dir, names, plugin_path};
use strand_model::builtin;
use strand_plugin_host::{
    CallError, CallOptions, CustomizedStateStore, HostConfig, InMemoryCustomizedState, Limits,
    LoadError, PluginHost, PluginOptions, PluginRegistry, Rejection, StateModelHandle,
    StateModelSpec, StateStoreError,
};

use crate::common::ctx;

const CUSTOMIZED_STATE_TYPE_KEY: &str = "strand.customized-state-type";

/// The polyglot plugins and the version suffix each reports.
const POLYGLOT: [(&str, &str); 2] = [
    (names::PY_MASTER_SLAVE, "0.1.0+python"),
    (names::JS_MASTER_SLAVE, "0.1.0+js"),
];

/// A host on the persistent compiled-artefact cache (shared with
/// `network.rs`, which runs the polyglot `HttpNotify` plugins).
pub(crate) fn host() -> Arc<PluginHost> {
    PluginHost::new(HostConfig {
        cache_dir: Some(compiled_cache_dir()),
        ..HostConfig::default()
    })
    .expect("plugin host")
}

/// The plugin's component, compiled into the shared cache (once per
/// process, one plugin at a time: two parallel 20 s compiles of the same
/// component would only slow each other down).
pub(crate) fn compiled(name: &str) -> PathBuf {
    static DONE: Mutex<BTreeMap<String, PathBuf>> = Mutex::new(BTreeMap::new());
    let mut done = DONE.lock().unwrap_or_else(PoisonError::into_inner);
    done.entry(name.to_owned())
        .or_insert_with(|| {
            let path = plugin_path(name).expect("polyglot plugin built");
            let bytes = std::fs::read(&path).expect("read component");
            host().compile(&bytes).expect("component compiles");
            path
        })
        .clone()
}

fn install(name: &str, options: PluginOptions) -> (Arc<PluginRegistry>, StateModelHandle) {
    let path = compiled(name);
    let registry = PluginRegistry::new(host());
    registry
        .install_file("MasterSlave", &path, options)
        .unwrap_or_else(|e| panic!("install {name}: {e}"));
    let model = registry.state_model("MasterSlave").expect("state model");
    (registry, model)
}

/// One installed instance of each plugin per process (the tests that need
/// other options install their own).
fn shared(name: &str) -> StateModelHandle {
    static MODELS: Mutex<BTreeMap<String, (Arc<PluginRegistry>, StateModelHandle)>> =
        Mutex::new(BTreeMap::new());
    let mut models = MODELS.lock().unwrap_or_else(PoisonError::into_inner);
    models
        .entry(name.to_owned())
        .or_insert_with(|| install(name, PluginOptions::default()))
        .1
        .clone()
}

fn rust_master_slave() -> StateModelHandle {
    static MODEL: OnceLock<(Arc<PluginRegistry>, StateModelHandle)> = OnceLock::new();
    MODEL
        .get_or_init(|| {
            let registry = PluginRegistry::new(host());
            let path = plugin_path(names::MASTER_SLAVE).expect("rust plugin built");
            registry
                .install_file("MasterSlave", &path, PluginOptions::default())
                .expect("install rust master-slave");
            let model = registry.state_model("MasterSlave").expect("state model");
            (registry, model)
        })
        .1
        .clone()
}

/// A definition with the plugin's own version blanked out.
fn without_version(mut d: StateModelSpec) -> StateModelSpec {
    d.version.clear();
    d
}

#[test]
fn definitions_equal_the_rust_plugin_and_helix_builtin() {
    let rust = rust_master_slave().definition();
    let helix = builtin::master_slave();
    for (name, version) in POLYGLOT {
        let ours = shared(name).definition();
        assert_eq!(ours.version, version, "{name}: version");
        assert_eq!(
            without_version(ours.clone()),
            without_version(rust.clone()),
            "{name}: definition differs from the Rust master-slave"
        );
        assert_eq!(ours.name, helix.id(), "{name}");
        assert_eq!(ours.state_priority_list(), helix.states(), "{name}");
        let transitions: Vec<(&str, &str)> = ours
            .transitions
            .iter()
            .map(|t| (t.from.as_str(), t.to.as_str()))
            .collect();
        assert_eq!(transitions, helix.transitions(), "{name}");
        for s in &ours.states {
            assert_eq!(
                Some(s.count.to_field()),
                helix.count(&s.name).map(|c| c.to_field()),
                "{name}: count of {}",
                s.name
            );
        }
    }
}

/// What a call returned, with the plugin's version taken out of notes.
fn outcome(model: &StateModelHandle, from: &str, to: &str) -> String {
    let version = model.version().version.clone();
    match model.transition(&ctx("db_3", from, to), &CallOptions::default()) {
        Ok(out) => format!("ok {}", out.note.replace(&version, "<v>")),
        Err(CallError::Rejected { kind, message }) => format!("{kind:?} {message}"),
        Err(other) => format!("fault {other}"),
    }
}

#[test]
fn transitions_have_the_same_outcomes_as_the_rust_plugin() {
    let rust = rust_master_slave();
    let states = ["MASTER", "SLAVE", "OFFLINE", "DROPPED", "ERROR"];
    for (name, version) in POLYGLOT {
        let model = shared(name);
        let mut legal = 0;
        for from in states {
            for to in states {
                let expected = outcome(&rust, from, to);
                let got = outcome(&model, from, to);
                assert_eq!(got, expected, "{name}: {from}->{to}");
                legal += usize::from(got.starts_with("ok"));
            }
        }
        // The five listed transitions plus ERROR->OFFLINE and ERROR->DROPPED.
        assert_eq!(legal, 7, "{name}");
        let out = model
            .transition(&ctx("db_0", "OFFLINE", "SLAVE"), &CallOptions::default())
            .expect("transition");
        assert_eq!(out.note, format!("MasterSlave {version}: OFFLINE->SLAVE"));
        assert_eq!(out.version.version, version);
    }
}

#[test]
fn transitions_write_customized_state_through_the_host() {
    for (name, version) in POLYGLOT {
        let store = Arc::new(InMemoryCustomizedState::new());
        let model = shared(name);
        let mut c = ctx("db_1", "SLAVE", "MASTER");
        c.config
            .push((CUSTOMIZED_STATE_TYPE_KEY.into(), "READINESS".into()));
        let opts = CallOptions {
            customized_state: Some(store.clone()),
            ..CallOptions::default()
        };
        model.transition(&c, &opts).expect("transition");
        let state = store
            .snapshot("READINESS", "db", "db_1")
            .unwrap_or_else(|| panic!("{name}: customized state written"));
        assert_eq!(
            state.get("CURRENT_STATE").map(String::as_str),
            Some("MASTER"),
            "{name}"
        );
        assert_eq!(
            state.get("PLUGIN_VERSION").map(String::as_str),
            Some(version),
            "{name}"
        );
        assert!(
            state
                .get("START_TIME")
                .is_some_and(|t| t.parse::<u64>().is_ok()),
            "{name}: host stamps START_TIME"
        );

        // Without a store the import returns its `err` case (which reaches
        // the guest as an exception carrying the host's reason), and the
        // plugin turns that into a retryable error, like the Rust one.
        match model.transition(&c, &CallOptions::default()) {
            Err(CallError::Rejected {
                kind: Rejection::Retryable,
                message,
            }) => assert!(
                message.starts_with("customized state:")
                    && message.contains("no customized-state store is attached"),
                "{name}: {message}"
            ),
            other => panic!("{name}: expected a retryable error, got {other:?}"),
        }
    }
}

#[test]
fn a_memory_blow_up_fails_one_call_and_the_plugin_keeps_serving() {
    // 16 MiB of resource config cannot be copied into an instance capped at
    // 48 MiB on top of the language runtime's own heap: the guest's
    // allocator is refused memory and the instance traps.
    let cap = 48 << 20;
    for (name, version) in POLYGLOT {
        let (_registry, model) = install(
            name,
            PluginOptions {
                limits: Limits {
                    memory_bytes: cap,
                    ..Limits::default()
                },
                ..PluginOptions::default()
            },
        );
        let mut huge = ctx("db_2", "OFFLINE", "SLAVE");
        huge.config.push(("blob".into(), "x".repeat(16 << 20)));
        huge.config.push(("blob2".into(), "y".repeat(16 << 20)));
        for _ in 0..2 {
            match model.transition(&huge, &CallOptions::default()) {
                Err(CallError::MemoryLimit { limit_bytes, .. }) => {
                    assert_eq!(limit_bytes, cap, "{name}")
                }
                other => panic!("{name}: expected a memory-limit fault, got {other:?}"),
            }
            // The faulted instance was dropped; a fresh one serves.
            let out = model
                .transition(&ctx("db_2", "OFFLINE", "SLAVE"), &CallOptions::default())
                .unwrap_or_else(|e| panic!("{name}: healthy call after the fault: {e}"));
            assert_eq!(out.note, format!("MasterSlave {version}: OFFLINE->SLAVE"));
        }
    }
}

/// A customized-state store that takes `delay` to answer: the guest gets
/// control back after its deadline has passed.
struct SlowStore {
    delay: Duration,
}

impl CustomizedStateStore for SlowStore {
    fn update(
        &self,
        _: &str,
        _: &str,
        _: &str,
        _: Vec<(String, String)>,
    ) -> Result<(), StateStoreError> {
        std::thread::sleep(self.delay);
        Ok(())
    }

    fn get(
        &self,
        _: &str,
        _: &str,
        _: &str,
    ) -> Result<Option<Vec<(String, String)>>, StateStoreError> {
        Ok(None)
    }

    fn delete(&self, _: &str, _: &str, _: &str) -> Result<(), StateStoreError> {
        Ok(())
    }
}

#[test]
fn a_call_past_its_deadline_is_interrupted_inside_the_runtime_and_the_plugin_keeps_serving() {
    // The interpreter is interrupted in the middle of `transition`, after
    // the import returns; the instance is dropped, the next call gets a
    // fresh one.
    let deadline = Duration::from_millis(200);
    for (name, version) in POLYGLOT {
        let (_registry, model) = install(name, PluginOptions::default());
        let mut c = ctx("db_4", "OFFLINE", "SLAVE");
        c.config
            .push((CUSTOMIZED_STATE_TYPE_KEY.into(), "READINESS".into()));
        let slow = CallOptions {
            deadline: Some(deadline),
            customized_state: Some(Arc::new(SlowStore {
                delay: deadline * 3,
            })),
            instance: None,
            routing: None,
        };
        for _ in 0..2 {
            match model.transition(&c, &slow) {
                Err(CallError::Timeout { deadline: d, .. }) => assert_eq!(d, deadline, "{name}"),
                other => panic!("{name}: expected a timeout, got {other:?}"),
            }
            let out = model
                .transition(&ctx("db_4", "OFFLINE", "SLAVE"), &CallOptions::default())
                .unwrap_or_else(|e| panic!("{name}: healthy call after the timeout: {e}"));
            assert_eq!(out.note, format!("MasterSlave {version}: OFFLINE->SLAVE"));
        }
    }
}

#[test]
fn a_memory_cap_below_the_runtime_refuses_the_install_and_keeps_the_running_version() {
    for (name, _) in POLYGLOT {
        let (registry, model) = install(names::MASTER_SLAVE, PluginOptions::default());
        let path = compiled(name);
        let tiny = PluginOptions {
            limits: Limits {
                memory_bytes: 1 << 20,
                ..Limits::default()
            },
            ..PluginOptions::default()
        };
        match registry.install_file("MasterSlave", &path, tiny) {
            Err(e) => assert!(
                matches!(
                    e.error,
                    LoadError::Describe(CallError::MemoryLimit { .. } | CallError::Instantiate(_))
                ),
                "{name}: {e}"
            ),
            Ok(r) => panic!("{name}: installed under a 1 MiB cap: {:?}", r.outcome),
        }
        assert_eq!(
            model.version().version,
            "0.1.0",
            "{name}: Rust one still serves"
        );
        model
            .transition(&ctx("db_0", "OFFLINE", "SLAVE"), &CallOptions::default())
            .expect("the running version keeps serving");
    }
}

#[test]
fn swaps_between_languages_keep_the_definition() {
    let (registry, model) = install(names::MASTER_SLAVE, PluginOptions::default());
    for (name, version) in POLYGLOT {
        let report = registry
            .install_file("MasterSlave", &compiled(name), PluginOptions::default())
            .unwrap_or_else(|e| panic!("swap to {name}: {e}"));
        assert!(report.changes.is_empty(), "{name}: {}", report.changes);
        assert_eq!(model.version().version, version);
        let out = model
            .transition(&ctx("db_0", "OFFLINE", "SLAVE"), &CallOptions::default())
            .expect("transition after the swap");
        assert!(
            out.note.starts_with(&format!("MasterSlave {version}")),
            "{}",
            out.note
        );
    }
}
