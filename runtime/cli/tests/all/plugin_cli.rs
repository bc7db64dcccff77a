//! `strand plugin inspect` and `check` on the real components: good
//! plugins pass, each broken kind fails with exit 1 and one line, and
//! both compile through one on-disk cache.

use std::path::Path;
use std::process::{Command, Output};

use strand_devcluster::plugins::{compiled_cache_dir, names, plugin_path};

/// `strand ARGS` with the compiled cache the other tests share.
fn strand(args: &[&str]) -> Output {
    strand_with_cache(args, &compiled_cache_dir(), "off")
}

fn strand_with_cache(args: &[&str], cache: &Path, log: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_strand"))
        .args(args)
        .env("RUST_LOG", log)
        .env("STRAND_PLUGIN_CACHE", cache)
        .output()
        .expect("run strand")
}

fn path(name: &str) -> String {
    plugin_path(name)
        .expect("plugin built")
        .display()
        .to_string()
}

#[test]
fn inspect_reports_world_versions_and_definition() {
    let out = strand(&["plugin", "inspect", "--json", &path(names::MASTER_SLAVE)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let text = report.to_string();
    for expected in [
        "MasterSlave",
        "state-model",
        "0.1.0",
        "MASTER",
        "SLAVE",
        "OFFLINE",
    ] {
        assert!(text.contains(expected), "{expected} missing from {text}");
    }
    let human = strand(&["plugin", "inspect", &path(names::PARTITION_SUMMARY)]);
    assert!(human.status.success());
    assert!(String::from_utf8_lossy(&human.stdout).contains("aggregator"));
}

#[test]
fn check_accepts_good_plugins_and_refuses_broken_ones_in_one_line() {
    for good in [
        names::MASTER_SLAVE,
        names::ONLINE_OFFLINE,
        names::LEADER_STANDBY,
        names::PARTITION_SUMMARY,
    ] {
        let out = strand(&["plugin", "check", &path(good)]);
        assert!(
            out.status.success(),
            "{good}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let garbage = dir.path().join("garbage.wasm");
    std::fs::write(&garbage, b"not wasm at all").expect("write");
    let cases = [
        (path(names::WRONG_WORLD), "incompatible"),
        (
            path(names::FAULTY_DEFINITION),
            "deliberate trap in definition()",
        ),
        (garbage.display().to_string(), "not a component"),
    ];
    for (file, needle) in cases {
        let out = strand(&["plugin", "check", &file]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{file}: {err}");
        // One line with the reason; then only what the plugin itself
        // wrote (a panic message), indented.
        let mut lines = err.trim_end().lines();
        let reason = lines.next().unwrap_or_default();
        assert!(reason.to_lowercase().contains(needle), "{file}: {err}");
        assert!(lines.all(|l| l.starts_with("    | ")), "{file}: {err}");
    }
}

#[test]
fn check_runs_every_transition_and_shows_the_exception_a_plugin_raised() {
    for (fixture, exception) in [
        (
            names::PY_NOISY,
            "ValueError: noisy cannot leave ONLINE for __canary___0",
        ),
        (
            names::JS_NOISY,
            "Error: noisy cannot leave ONLINE for __canary___0",
        ),
    ] {
        let file = path(fixture);
        let out = strand(&["plugin", "check", &file]);
        let err = String::from_utf8_lossy(&out.stderr);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{fixture}: {err}");
        let first = err.lines().next().unwrap_or_default();
        assert!(
            first.contains("Noisy") && first.contains("1 of 3 transitions failed"),
            "{fixture}: {err}"
        );
        assert!(
            err.contains("ONLINE-OFFLINE") && err.contains(exception),
            "{fixture}: {err}"
        );
        if fixture == names::PY_NOISY {
            assert!(err.contains("    | Traceback"), "{fixture}: {err}");
        }
        assert!(
            stdout.contains("OFFLINE-ONLINE") && stdout.contains("ok"),
            "{stdout}"
        );

        let json = strand(&["plugin", "check", "--json", &file]);
        assert_eq!(json.status.code(), Some(1));
        let report: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
        assert_eq!(report["ok"], false);
        let sandbox = report["sandbox"].as_array().expect("sandbox runs");
        assert_eq!(sandbox.len(), 3);
        assert_eq!(sandbox[1]["transition"], "ONLINE-OFFLINE");
        assert_eq!(sandbox[1]["result"], "failed");
        assert!(
            sandbox[1]["output"]
                .as_str()
                .unwrap_or_default()
                .contains(exception),
            "{report}"
        );
        assert!(json.stderr.is_empty(), "--json is quiet on stderr");
    }
}

#[test]
fn check_and_inspect_compile_a_component_once_through_the_shared_cache() {
    let cache = tempfile::tempdir().expect("cache dir");
    let file = path(names::MASTER_SLAVE);
    // The host logs every compile that misses the cache at `info`.
    let run = |args: &[&str]| {
        let out = strand_with_cache(args, cache.path(), "strand_plugin_host=info");
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{args:?}: {err}");
        err
    };
    let first = run(&["plugin", "check", &file]);
    assert!(first.contains("compiling master_slave ("), "{first}");
    let cached = std::fs::read_dir(cache.path())
        .expect("cache written")
        .filter_map(Result::ok)
        .any(|e| e.path().extension().is_some_and(|x| x == "cwasm"));
    assert!(cached, "no compiled component in the cache");
    for args in [
        ["plugin", "check", file.as_str()],
        ["plugin", "inspect", file.as_str()],
    ] {
        let again = run(&args);
        assert!(
            !again.contains("compiling"),
            "{args:?} compiled again: {again}"
        );
    }
    // Not a terminal (and --json): no progress line, nothing on stderr.
    let json = strand_with_cache(&["plugin", "check", "--json", &file], cache.path(), "off");
    assert!(json.status.success());
    assert!(
        json.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&json.stderr)
    );
}
