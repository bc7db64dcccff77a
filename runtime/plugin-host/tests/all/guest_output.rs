//! What plugins print and raise reaches the operator: the Python and
//! JavaScript `noisy` fixtures print in `definition` and every transition
//! and raise an uncaught exception leaving ONLINE. Loading them from inside
//! an async runtime does not panic (it did: wasmtime-wasi's stdio needs a
//! runtime of its own), their output lands in the host's log tagged with
//! the plugin's name and version, and the exception's message (with the
//! traceback) is in the call's error and in the sandbox report of
//! `check_bytes`.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use strand_devcluster::plugins::{compiled_cache_dir, names, plugin_path};
use strand_plugin_host::{
    CallError, CallOptions, Grants, HostConfig, PluginHost, PluginOptions, PluginRegistry,
    SandboxOutcome, check_bytes,
};

use crate::common::ctx;

/// The fixtures and what each says in its exception.
const NOISY: [(&str, &str); 2] = [(names::PY_NOISY, "ValueError"), (names::JS_NOISY, "Error")];

fn host() -> Arc<PluginHost> {
    PluginHost::new(HostConfig {
        cache_dir: Some(compiled_cache_dir()),
        ..HostConfig::default()
    })
    .expect("plugin host")
}

/// A log writer the test can read back.
#[derive(Clone, Default)]
pub(crate) struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(PoisonError::into_inner)).into_owned()
    }
}

/// The log of this test binary, captured from the first call on. A
/// process-wide subscriber, not a scoped one: tracing caches per call site
/// whether anyone listens, and a scoped subscriber misses events when
/// another test's thread registers the call site first.
pub(crate) fn captured_log() -> &'static Captured {
    static LOG: OnceLock<Captured> = OnceLock::new();
    LOG.get_or_init(|| {
        let log = Captured::default();
        let writer = log.clone();
        tracing::subscriber::set_global_default(
            tracing_subscriber::fmt()
                .with_writer(move || writer.clone())
                .with_ansi(false)
                .with_max_level(tracing::Level::INFO)
                .finish(),
        )
        .expect("the only subscriber of this test binary");
        log
    })
}

/// Log lines of the plugin `label` that contain `needle`.
fn lines_of(label: &str, needle: &str) -> Vec<String> {
    let tag = format!("plugin=\"{label}\"");
    captured_log()
        .text()
        .lines()
        .filter(|l| l.contains(&tag) && l.contains(needle))
        .map(str::to_owned)
        .collect()
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn printing_and_raising_plugins_load_in_async_code_and_their_output_is_logged() {
    for (name, exception) in NOISY {
        let bytes = std::fs::read(plugin_path(name).expect("fixture built")).expect("read");
        captured_log();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        // On the runtime's own thread, as `strand participant --plugin`
        // loads its plugins.
        let failure = runtime.block_on(async {
            let registry = PluginRegistry::new(host());
            registry
                .install_bytes("Noisy", &bytes, PluginOptions::default())
                .expect("a printing plugin installs");
            let model = registry.state_model("Noisy").expect("installed");
            model
                .transition(&ctx("db_1", "OFFLINE", "ONLINE"), &CallOptions::default())
                .expect("a printing transition succeeds");
            model
                .transition(&ctx("db_1", "ONLINE", "OFFLINE"), &CallOptions::default())
                .expect_err("leaving ONLINE raises")
        });
        let label = format!("Noisy@{}", version_of(name));
        for (line, stream) in [
            ("noisy stdout: db/db_1 OFFLINE->ONLINE", "stream=\"stdout\""),
            ("noisy stderr: db_1 OFFLINE->ONLINE", "stream=\"stderr\""),
        ] {
            let found = lines_of(&label, line);
            assert!(
                found.iter().any(|l| l.contains(stream)),
                "{name}: {line} ({stream}, {label}) not in the log:\n{}",
                captured_log().text()
            );
        }
        match &failure {
            CallError::Trap {
                output: Some(output),
                ..
            } => {
                assert!(
                    output.contains("noisy cannot leave ONLINE for db_1"),
                    "{name}: {output}"
                );
                assert!(output.contains(exception), "{name}: {output}");
            }
            other => panic!("{name}: expected a trap with the exception, got {other:?}"),
        }
        let shown = failure.to_string();
        assert!(
            shown.contains("noisy cannot leave ONLINE for db_1"),
            "{name}: what INFO gets: {shown}"
        );
        if name == names::PY_NOISY {
            assert!(shown.contains("Traceback"), "{name}: {shown}");
            assert!(shown.contains("leave_online"), "{name}: {shown}");
        }
    }
}

#[test]
fn check_runs_every_transition_in_the_sandbox_and_reports_the_exception() {
    for (name, exception) in NOISY {
        let bytes = std::fs::read(plugin_path(name).expect("fixture built")).expect("read");
        // A current-thread runtime: nothing may block on it, and nothing does.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let report = runtime
            .block_on(async { check_bytes(&host(), "noisy", &bytes) })
            .expect("loads: the canary transition is fine");
        let outcomes: Vec<(&str, bool)> = report
            .sandbox
            .iter()
            .map(|r| {
                (
                    r.transition.as_str(),
                    matches!(r.outcome, SandboxOutcome::Ok { .. }),
                )
            })
            .collect();
        assert_eq!(
            outcomes,
            [
                ("OFFLINE-ONLINE", true),
                ("ONLINE-OFFLINE", false),
                ("OFFLINE-DROPPED", true)
            ],
            "{name}"
        );
        match &report.sandbox[1].outcome {
            SandboxOutcome::Failed {
                output: Some(output),
                error,
            } => {
                assert!(output.contains(exception), "{name}: {output}");
                assert!(
                    error.contains("noisy cannot leave ONLINE"),
                    "{name}: {error}"
                );
            }
            other => panic!("{name}: expected a failure, got {other:?}"),
        }
        assert_eq!(report.sandbox_failures().count(), 1);
    }
}

#[test]
fn granted_stdio_goes_to_the_host_stdio_not_to_the_log() {
    let (name, _) = NOISY[0];
    captured_log();
    let registry = PluginRegistry::new(host());
    let options = PluginOptions {
        grants: Grants {
            stdio: true,
            ..Grants::default()
        },
        ..PluginOptions::default()
    };
    registry
        .install_file("Noisy", &plugin_path(name).expect("fixture"), options)
        .expect("install");
    let model = registry.state_model("Noisy").expect("installed");
    match model.transition(&ctx("db_2", "ONLINE", "OFFLINE"), &CallOptions::default()) {
        // The traceback went to this process's stderr, so the host has none.
        Err(CallError::Trap { output: None, .. }) => {}
        other => panic!("expected a trap without captured output, got {other:?}"),
    }
    let logged = lines_of(&format!("Noisy@{}", version_of(name)), "db_2");
    assert!(logged.is_empty(), "granted stdio was logged: {logged:?}");
}

fn version_of(fixture: &str) -> &'static str {
    if fixture == names::PY_NOISY {
        "0.1.0+python"
    } else {
        "0.1.0+js"
    }
}
