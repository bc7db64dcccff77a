//! `strand participant --plugin` with plugins that print and raise (the
//! Python and JavaScript `noisy` fixtures), as processes with a `strand
//! controller`: loading them no longer panics ("Cannot start a runtime
//! from within a runtime"), what they print is in the participant's log
//! tagged with name and version, and an uncaught exception puts the
//! partition in ERROR with the exception in `INFO`.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use strand_admin::{Admin, RebalanceMode};
use strand_devcluster::plugins::{compiled_cache_dir, names, plugin_path};
use strand_devcluster::zookeeper::LocalZk;
use strand_model::{Count, CurrentState, LiveInstance, PropertyPaths, StateModelDefinitionBuilder};

const INSTANCE: &str = "localhost_1";
const DEADLINE: Duration = Duration::from_secs(120);

fn strand(zk: &str, args: &[&str], log: &Path) -> Child {
    let log = std::fs::File::create(log).expect("log file");
    Command::new(env!("CARGO_BIN_EXE_strand"))
        .args(args)
        .args(["--zk", zk])
        .env("RUST_LOG", "info,zookeeper_client=warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("spawn strand")
}

fn terminate(mut child: Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
}

/// The Noisy fixtures' definition (an OnlineOffline shape), under `name`.
fn noisy_definition(name: &str) -> Vec<u8> {
    StateModelDefinitionBuilder::new(name)
        .initial_state("OFFLINE")
        .state("ONLINE", 0)
        .state("OFFLINE", 1)
        .state("DROPPED", 2)
        .bound("ONLINE", Count::Replicas)
        .transition("OFFLINE", "ONLINE", 0)
        .transition("ONLINE", "OFFLINE", 1)
        .transition("OFFLINE", "DROPPED", 2)
        .build()
        .to_bytes()
        .expect("definition")
}

async fn replicas(admin: &Admin, resource: &str) -> Vec<(String, String, String)> {
    let paths = PropertyPaths::new("C");
    let acc = admin.accessor();
    let Ok(Some(live)) = acc.get(&paths.live_instance(INSTANCE)).await else {
        return Vec::new();
    };
    let Some(session) = LiveInstance::from(live.value).session_id() else {
        return Vec::new();
    };
    let Ok(Some(found)) = acc
        .get(&paths.current_state(INSTANCE, session, resource))
        .await
    else {
        return Vec::new();
    };
    let state = CurrentState::from(found.value);
    state
        .partition_states()
        .map(|(p, s)| {
            (
                p.to_owned(),
                s.to_owned(),
                state.info(p).unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// The log without colour escapes (`ESC [ … m`).
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

async fn wait_until(what: &str, mut done: impl AsyncFnMut() -> bool) {
    let start = Instant::now();
    while !done().await {
        assert!(start.elapsed() < DEADLINE, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_participant_with_printing_and_raising_local_plugins_serves_and_reports_them() {
    let server = LocalZk::start().expect("zookeeper");
    let zk = server.connect_string();
    let admin = Admin::connect(&zk).await.expect("admin");
    admin.add_cluster("C").await.expect("cluster");
    admin.add_instance("C", INSTANCE).await.expect("instance");
    let cases = [
        (
            names::PY_NOISY,
            "Noisy",
            "py",
            "ValueError: noisy cannot leave ONLINE for py_0",
        ),
        (
            names::JS_NOISY,
            "NoisyJs",
            "js",
            "Error: noisy cannot leave ONLINE for js_0",
        ),
    ];
    let mut plugin_args = Vec::new();
    for (fixture, model, resource, _) in cases {
        admin
            .add_state_model_def("C", &noisy_definition(model))
            .await
            .expect("definition");
        admin
            .add_resource("C", resource, 2, model, RebalanceMode::SemiAuto)
            .await
            .expect("resource");
        admin.rebalance("C", resource, 1).await.expect("rebalance");
        let path = plugin_path(fixture).expect("fixture built");
        plugin_args.push(format!("{model}={}", path.display()));
    }
    let dir = tempfile::tempdir().expect("dir");
    let participant_log = dir.path().join("participant.log");
    let cache = compiled_cache_dir();
    let mut args = vec![
        "participant",
        "--cluster",
        "C",
        "--instance",
        INSTANCE,
        "--cache-dir",
        cache.to_str().expect("utf-8 path"),
    ];
    for plugin in &plugin_args {
        args.extend(["--plugin", plugin.as_str()]);
    }
    let mut participant = strand(&zk, &args, &participant_log);
    let controller = strand(
        &zk,
        &["controller", "--cluster", "C"],
        &dir.path().join("controller.log"),
    );
    let log = || strip_ansi(&std::fs::read_to_string(&participant_log).unwrap_or_default());

    for (_, _, resource, _) in cases {
        wait_until(&format!("{resource} online"), async || {
            assert!(
                participant.try_wait().ok().flatten().is_none(),
                "the participant exited:\n{}",
                log()
            );
            let r = replicas(&admin, resource).await;
            r.len() == 2 && r.iter().all(|(_, s, _)| s == "ONLINE")
        })
        .await;
    }
    let text = log();
    for expected in [
        "plugin=\"Noisy@0.1.0+python\"",
        "plugin=\"NoisyJs@0.1.0+js\"",
        "noisy stdout: py/py_0 OFFLINE->ONLINE",
        "noisy stdout: js/js_1 OFFLINE->ONLINE",
    ] {
        assert!(
            text.contains(expected),
            "{expected} not in the log:\n{text}"
        );
    }
    assert!(!text.contains("panicked"), "{text}");

    for (_, _, resource, _) in cases {
        admin
            .set_resource_enabled("C", resource, false)
            .await
            .expect("disable");
    }
    for (_, _, resource, exception) in cases {
        let partition = format!("{resource}_0");
        wait_until(&format!("{partition} in ERROR"), async || {
            replicas(&admin, resource)
                .await
                .iter()
                .any(|(p, s, _)| *p == partition && s == "ERROR")
        })
        .await;
        let info = replicas(&admin, resource)
            .await
            .into_iter()
            .find(|(p, _, _)| *p == partition)
            .map(|(_, _, info)| info)
            .unwrap_or_default();
        assert!(info.contains(exception), "{partition} INFO: {info}");
    }
    assert!(
        participant.try_wait().ok().flatten().is_none(),
        "still serving"
    );
    terminate(participant);
    terminate(controller);
}
